"""stock_positions: each SKU's on_hand after its last event, checked by single writes.

Also makes ``ix_transactions_document_id`` partial (rows with a document only) and puts
the transaction id into ``ix_transactions_flows`` so its rows are in ledger order.

Revision ID: 0002_stock_positions
Revises: 0001_initial
Create Date: 2026-11-22

The table starts empty: the first write of each SKU folds its ledger once and writes the
row (see ``inventory_core.ledger.positions``), so upgrading a large ledger is instant.
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa

from alembic import op

revision: str = "0002_stock_positions"
down_revision: str | Sequence[str] | None = "0001_initial"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# Starting planner statistics for the new index, in the spirit of 0001's: one SKU's rows
# (1,000 of them) share a sku value, and the transaction id is unique.
SQLITE_PLANNER_STATS = [
    "INSERT INTO sqlite_stat1 (tbl, idx, stat) "
    f"SELECT 'transactions', '{index}', '{stat}' "
    "WHERE EXISTS (SELECT 1 FROM sqlite_stat1 WHERE tbl = 'transactions') "
    f"AND NOT EXISTS (SELECT 1 FROM sqlite_stat1 WHERE idx = '{index}')"
    for index, stat in (
        ("ix_transactions_sku_transaction_id", "1000000 1000 1"),
        # Dropping the old flows index dropped its statistics too.
        ("ix_transactions_flows", "100000 100 2 2 1 1 1"),
    )
]
FLOW_EVENTS = "event IN ('ORDER', 'RECEIPT', 'UNFULFILLED')"


def _create_flows_index(columns: list[str]) -> None:
    op.create_index(
        "ix_transactions_flows",
        "transactions",
        columns,
        unique=False,
        sqlite_where=sa.text(FLOW_EVENTS),
        postgresql_where=sa.text(FLOW_EVENTS),
    )


def upgrade() -> None:
    """Apply this revision."""
    op.create_table(
        "stock_positions",
        sa.Column("sku", sa.String(length=64), nullable=False),
        sa.Column("on_hand", sa.Integer(), nullable=False),
        sa.Column("tail_date", sa.Date(), nullable=False),
        sa.Column("tail_priority", sa.SmallInteger(), nullable=False),
        sa.Column("last_transaction_id", sa.Integer(), nullable=False),
        sa.Column("reversal_mark", sa.Integer(), nullable=False),
        sa.CheckConstraint(
            "tail_priority BETWEEN 0 AND 3",
            name=op.f("ck_stock_positions_tail_priority_known"),
        ),
        sa.ForeignKeyConstraint(
            ["sku"],
            ["skus.sku"],
            name=op.f("fk_stock_positions_sku_skus"),
            onupdate="CASCADE",
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("sku", name=op.f("pk_stock_positions")),
        sqlite_with_rowid=False,
    )
    op.create_index(
        "ix_transactions_sku_transaction_id",
        "transactions",
        ["sku", "transaction_id"],
        unique=False,
    )
    # Partial: a sale has no document, and its NULL entry cost a page write per event.
    op.drop_index("ix_transactions_document_id", table_name="transactions")
    op.create_index(
        "ix_transactions_document_id",
        "transactions",
        ["document_id"],
        unique=False,
        sqlite_where=sa.text("document_id IS NOT NULL"),
        postgresql_where=sa.text("document_id IS NOT NULL"),
    )
    # The flow rows in ledger order, the transaction id included: the running sum of
    # on_order then reads them without a sort.
    op.drop_index("ix_transactions_flows", table_name="transactions")
    _create_flows_index(["sku", "date", "priority", "transaction_id", "event", "qty"])
    if op.get_bind().dialect.name == "sqlite":
        for statement in SQLITE_PLANNER_STATS:
            op.execute(statement)


def downgrade() -> None:
    """Revert this revision."""
    op.drop_index("ix_transactions_flows", table_name="transactions")
    _create_flows_index(["sku", "date", "priority", "event", "qty"])
    op.drop_index("ix_transactions_document_id", table_name="transactions")
    op.create_index("ix_transactions_document_id", "transactions", ["document_id"], unique=False)
    op.drop_index("ix_transactions_sku_transaction_id", table_name="transactions")
    op.drop_table("stock_positions")
