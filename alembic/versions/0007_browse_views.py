"""Views for people browsing the file: current stock, the ledger, open orders, lots.

Revision ID: 0007_browse_views
Revises: 0006_shop_operations
Create Date: 2026-12-04

Plain-named, read-only SQL views for sqlite3, datasette, sqlite-utils or psql users (see
docs/schema.md):

- ``stock``: each SKU's on_hand, on_order and unfulfilled from every event dated up to today
  (the numbers of ``Inventory.stock_all()``; on SQLite "today" is the UTC date);
- ``ledger``: the transactions without the reversed ones;
- ``open_orders``: PENDING and PARTIAL orders with their open remainder (CLOSED, CANCELLED
  and RECEIVED ones left out);
- ``lots_remaining``: the lots still holding units.

The ``stock`` statement is the library's as-of statement at this revision, frozen here as
text per dialect (a migration must not change when the library does).
"""

from __future__ import annotations

from collections.abc import Sequence

from alembic import op

revision: str = "0007_browse_views"
down_revision: str | Sequence[str] | None = "0006_shop_operations"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

STOCK = {
    "sqlite": """SELECT skus.sku, coalesce((SELECT snap.qty
FROM transactions AS snap
WHERE snap.sku = skus.sku AND snap.event = 'SNAPSHOT' AND snap.date < date('now', '+1 day') AND (snap.transaction_id NOT IN (SELECT transaction_reversals.transaction_id
FROM transaction_reversals)) ORDER BY snap.date DESC
 LIMIT 1 OFFSET 0), 0) + coalesce((SELECT sum(CASE WHEN (ev.event IN ('SALE', 'WASTE')) THEN -ev.qty WHEN (ev.event IN ('RECEIPT', 'ADJUST')) THEN ev.qty ELSE 0 END) AS sum_1
FROM transactions AS ev
WHERE ev.sku = skus.sku AND ev.date >= coalesce((SELECT snap.date
FROM transactions AS snap
WHERE snap.sku = skus.sku AND snap.event = 'SNAPSHOT' AND snap.date < date('now', '+1 day') AND (snap.transaction_id NOT IN (SELECT transaction_reversals.transaction_id
FROM transaction_reversals)) ORDER BY snap.date DESC
 LIMIT 1 OFFSET 0), '0001-01-01') AND ev.date < date('now', '+1 day') AND (ev.transaction_id NOT IN (SELECT transaction_reversals.transaction_id
FROM transaction_reversals))), 0) AS on_hand, coalesce(flows.on_order, 0) AS on_order, coalesce(flows.unfulfilled, 0) AS unfulfilled
FROM skus LEFT OUTER JOIN (SELECT walk.sku AS sku, sum(walk.d) - CASE WHEN (min(walk.run) < 0) THEN min(walk.run) ELSE 0 END AS on_order, sum(walk.u) AS unfulfilled
FROM (SELECT flow_rows.sku AS sku, flow_rows.d AS d, flow_rows.u AS u, sum(flow_rows.d) OVER (PARTITION BY flow_rows.sku ORDER BY flow_rows.date, flow_rows.priority, flow_rows.kind, flow_rows.transaction_id ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW) AS run
FROM (SELECT transactions.sku AS sku, CASE WHEN (transactions.event = 'ORDER') THEN transactions.qty WHEN (transactions.event = 'RECEIPT') THEN -transactions.qty ELSE 0 END AS d, CASE WHEN (transactions.event = 'UNFULFILLED') THEN transactions.qty ELSE 0 END AS u, transactions.date AS date, transactions.priority AS priority, 0 AS kind, transactions.transaction_id AS transaction_id
FROM transactions
WHERE transactions.event IN ('ORDER', 'RECEIPT', 'UNFULFILLED') AND transactions.date < date('now', '+1 day') AND (transactions.transaction_id NOT IN (SELECT transaction_reversals.transaction_id
FROM transaction_reversals)) UNION ALL SELECT order_closures.sku AS sku, -order_closures.qty AS d, 0 AS u, order_closures.date AS date, 1 AS priority, 1 AS kind, order_closures.closure_id AS transaction_id
FROM order_closures
WHERE order_closures.reopens_id IS NULL AND (order_closures.closure_id NOT IN (SELECT reopening.reopens_id
FROM order_closures AS reopening
WHERE reopening.reopens_id IS NOT NULL)) AND order_closures.date < date('now', '+1 day')) AS flow_rows) AS walk GROUP BY walk.sku) AS flows ON flows.sku = skus.sku""",
    "postgresql": """SELECT skus.sku, coalesce((SELECT snap.qty
FROM transactions AS snap
WHERE snap.sku = skus.sku AND snap.event = 'SNAPSHOT' AND snap.date < (CURRENT_DATE + 1) AND (snap.transaction_id NOT IN (SELECT transaction_reversals.transaction_id
FROM transaction_reversals)) ORDER BY snap.date DESC
 LIMIT 1), 0) + coalesce((SELECT sum(CASE WHEN (ev.event IN ('SALE', 'WASTE')) THEN -ev.qty WHEN (ev.event IN ('RECEIPT', 'ADJUST')) THEN ev.qty ELSE 0 END) AS sum_1
FROM transactions AS ev
WHERE ev.sku = skus.sku AND ev.date >= coalesce((SELECT snap.date
FROM transactions AS snap
WHERE snap.sku = skus.sku AND snap.event = 'SNAPSHOT' AND snap.date < (CURRENT_DATE + 1) AND (snap.transaction_id NOT IN (SELECT transaction_reversals.transaction_id
FROM transaction_reversals)) ORDER BY snap.date DESC
 LIMIT 1), '0001-01-01') AND ev.date < (CURRENT_DATE + 1) AND (ev.transaction_id NOT IN (SELECT transaction_reversals.transaction_id
FROM transaction_reversals))), 0) AS on_hand, coalesce(flows.on_order, 0) AS on_order, coalesce(flows.unfulfilled, 0) AS unfulfilled
FROM skus LEFT OUTER JOIN (SELECT walk.sku AS sku, sum(walk.d) - CASE WHEN (min(walk.run) < 0) THEN min(walk.run) ELSE 0 END AS on_order, sum(walk.u) AS unfulfilled
FROM (SELECT flow_rows.sku AS sku, flow_rows.d AS d, flow_rows.u AS u, sum(flow_rows.d) OVER (PARTITION BY flow_rows.sku ORDER BY flow_rows.date, flow_rows.priority, flow_rows.kind, flow_rows.transaction_id ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW) AS run
FROM (SELECT transactions.sku AS sku, CASE WHEN (transactions.event = 'ORDER') THEN transactions.qty WHEN (transactions.event = 'RECEIPT') THEN -transactions.qty ELSE 0 END AS d, CASE WHEN (transactions.event = 'UNFULFILLED') THEN transactions.qty ELSE 0 END AS u, transactions.date AS date, transactions.priority AS priority, 0 AS kind, transactions.transaction_id AS transaction_id
FROM transactions
WHERE transactions.event IN ('ORDER', 'RECEIPT', 'UNFULFILLED') AND transactions.date < (CURRENT_DATE + 1) AND (transactions.transaction_id NOT IN (SELECT transaction_reversals.transaction_id
FROM transaction_reversals)) UNION ALL SELECT order_closures.sku AS sku, -order_closures.qty AS d, 0 AS u, order_closures.date AS date, 1 AS priority, 1 AS kind, order_closures.closure_id AS transaction_id
FROM order_closures
WHERE order_closures.reopens_id IS NULL AND (order_closures.closure_id NOT IN (SELECT reopening.reopens_id
FROM order_closures AS reopening
WHERE reopening.reopens_id IS NOT NULL)) AND order_closures.date < (CURRENT_DATE + 1)) AS flow_rows) AS walk GROUP BY walk.sku) AS flows ON flows.sku = skus.sku""",
}

LEDGER = """SELECT t.* FROM transactions AS t
WHERE NOT EXISTS (
    SELECT 1 FROM transaction_reversals AS r WHERE r.transaction_id = t.transaction_id
)"""

OPEN_ORDERS = """SELECT o.order_id, o.sku, o.order_date, o.expected_date, o.qty_ordered,
    o.qty_received,
    CASE WHEN o.qty_ordered > o.qty_received THEN o.qty_ordered - o.qty_received ELSE 0 END
        AS qty_open,
    o.status
FROM order_logs AS o
WHERE o.status IN ('PENDING', 'PARTIAL')"""

LOTS_REMAINING = """SELECT l.lot_id, l.sku, l.document_id, l.received_date, l.expiry_date,
    l.qty_received, l.qty_remaining
FROM lots AS l
WHERE l.qty_remaining > 0"""

VIEWS = ("stock", "ledger", "open_orders", "lots_remaining")


def upgrade() -> None:
    dialect = op.get_bind().dialect.name
    bodies = {
        "stock": STOCK[dialect],
        "ledger": LEDGER,
        "open_orders": OPEN_ORDERS,
        "lots_remaining": LOTS_REMAINING,
    }
    for name in VIEWS:
        op.execute(f"CREATE VIEW {name} AS {bodies[name]}")


def downgrade() -> None:
    for name in reversed(VIEWS):
        op.execute(f"DROP VIEW IF EXISTS {name}")
