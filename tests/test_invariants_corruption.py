"""Each invariant catches its own kind of damage, with the right count and rows, and only it.

For every invariant a Hypothesis strategy draws a corruption of the seeded ledger and
injects it with raw SQL on a separate connection, the guards off, as a buggy script or a
crash would. The report must then fail exactly the expected invariants (a few kinds of damage
also trip a structural check, named in ``also``), with the expected count, and show the
offending rows in the sample. Damage to a table the audit trail seals (the ledger, orders,
receipts, lots) also fails ``ledger_coverage``, and only then: the trail sealed those rows
as the library wrote them.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import Connection, create_engine
from sqlalchemy.engine import make_url

from inventory_core import Database
from inventory_core.audit import coverage
from inventory_core.invariants import check_all
from inventory_core.invariants.schema import expected_objects
from tests.db_support import test_settings
from tests.invariants_support import (
    FIRST_DAY,
    Template,
    append_only_off,
    drop_check,
    execute,
    make_template,
)


@dataclass
class Expected:
    """What the report must say after an injection."""

    name: str
    count: int
    in_sample: list[dict[str, Any]] = field(default_factory=list)
    also: dict[str, int | None] = field(default_factory=dict)  # name -> count (None: >= 1)
    full: bool = False


Inject = Callable[[Connection, str], Expected]


def _matches(row: dict[str, Any], wanted: dict[str, Any]) -> bool:
    return all(str(row.get(k)) == str(v) for k, v in wanted.items())


def checks_broken(dialect: str) -> dict[str, int | None]:
    """SQLite's quick_check also reports rows that break a CHECK constraint."""
    return {"sqlite_integrity": None} if dialect == "sqlite" else {}


# --- strategies: each draws parameters and returns the injection --------------------------


@st.composite
def negative_stock(draw: st.DrawFn) -> Inject:
    """WASTE events dated before the SKU's first count: on_hand is negative at each."""
    sku = draw(st.sampled_from(sorted(FIRST_DAY)))
    qtys = draw(st.lists(st.integers(1, 50), min_size=1, max_size=4))

    def inject(conn: Connection, dialect: str) -> Expected:
        first = FIRST_DAY[sku].toordinal()
        for i, qty in enumerate(qtys):
            day = type(FIRST_DAY[sku]).fromordinal(first - len(qtys) + i)
            execute(
                conn,
                "INSERT INTO transactions (transaction_id, date, sku, event, qty, priority, "
                "created_at) VALUES (:tid, :day, :sku, 'WASTE', :qty, 2, '')",
                tid=1000 + i,
                day=day,
                sku=sku,
                qty=qty,
            )
        rows = [{"transaction_id": 1000 + i, "sku": sku} for i in range(len(qtys))]
        return Expected("stock_never_negative", len(qtys), rows)

    return inject


SNAPSHOTS = (("BIRRA", "2026-02-01", 100), ("PASTA", "2026-02-01", 10), ("PASTA", "2026-02-04", 7))


@st.composite
def duplicate_snapshots(draw: st.DrawFn) -> Inject:
    """A second count of the same quantity on the same day (stock unchanged)."""
    chosen = draw(st.lists(st.sampled_from(SNAPSHOTS), min_size=1, max_size=3, unique=True))
    extra = draw(st.integers(1, 2))

    def inject(conn: Connection, dialect: str) -> Expected:
        tid = 2000
        for sku, day, qty in chosen:
            for _ in range(extra):
                execute(
                    conn,
                    "INSERT INTO transactions (transaction_id, date, sku, event, qty, priority, "
                    "created_at) VALUES (:tid, :day, :sku, 'SNAPSHOT', :qty, 0, '')",
                    tid=tid,
                    day=day,
                    sku=sku,
                    qty=qty,
                )
                tid += 1
        rows = [{"sku": s, "date": d, "snapshots": extra + 1} for s, d, _ in chosen]
        return Expected("snapshot_unique", len(chosen), rows)

    return inject


@st.composite
def bad_reversals(draw: st.DrawFn) -> Inject:
    """Reversals of transactions that do not exist, or a second reversal of one."""
    dangling = draw(st.integers(0, 3))
    duplicate = draw(st.booleans()) or dangling == 0

    def inject(conn: Connection, dialect: str) -> Expected:
        also: dict[str, int | None] = {}
        rows: list[dict[str, Any]] = []
        for i in range(dangling):
            execute(
                conn,
                "INSERT INTO transaction_reversals (reversal_id, transaction_id, reason, "
                "\"user\", created_at) VALUES (:rid, :tid, 'lost', 'script', '')",
                rid=500 + i,
                tid=9000 + i,
            )
            rows.append({"reversal_id": 500 + i, "transaction_id": 9000 + i})
        if dangling and dialect == "sqlite":
            also["foreign_key_check"] = dangling
        if duplicate:
            execute(conn, "DROP INDEX ix_transaction_reversals_transaction_id")
            execute(
                conn,
                "INSERT INTO transaction_reversals (reversal_id, transaction_id, reason, "
                "\"user\", created_at) VALUES (600, 6, 'again', 'script', '')",
            )
            rows.append({"transaction_id": 6, "problem": "reversed more than once"})
            also["schema_objects"] = 1
        return Expected("reversals_valid", dangling + int(duplicate), rows, also)

    return inject


RECEIVED = (("DDT-1", "BIRRA", 48), ("DDT-2", "PASTA", 12))


@st.composite
def replayed_receipts(draw: st.DrawFn) -> Inject:
    """A delivery document booked twice for the same SKU, past a dropped unique index."""
    chosen = draw(st.lists(st.sampled_from(RECEIVED), min_size=1, max_size=2, unique=True))

    def inject(conn: Connection, dialect: str) -> Expected:
        execute(conn, "DROP INDEX ix_receiving_logs_document_id_sku")
        for doc, sku, qty in chosen:
            execute(
                conn,
                "INSERT INTO receiving_logs (document_id, sku, receipt_date, qty_received, "
                "document_hash, created_at) VALUES (:doc, :sku, '2026-02-11', :qty, 'c', '')",
                doc=doc,
                sku=sku,
                qty=qty,
            )
        rows = [{"document_id": d, "sku": s, "records": 2} for d, s, _ in chosen]
        return Expected("receiving_idempotent", len(chosen), rows, {"schema_objects": 1})

    return inject


@st.composite
def broken_lots(draw: st.DrawFn) -> Inject:
    """Negative lots, or an extra lot that lifts a SKU's lots above its on_hand (19)."""
    negative = draw(st.lists(st.sampled_from([1, 2]), max_size=2, unique=True))
    extra = draw(st.one_of(st.none(), st.integers(8, 40))) if negative else draw(st.integers(8, 40))

    def inject(conn: Connection, dialect: str) -> Expected:
        drop_check(conn, "lots", "ck_lots_qty_remaining_not_negative")
        rows: list[dict[str, Any]] = []
        for lot_id in negative:
            execute(conn, "UPDATE lots SET qty_remaining = -3 WHERE lot_id = :id", id=lot_id)
            rows.append({"lot_id": lot_id, "problem": "lot quantity out of range"})
        if extra is not None and 2 not in negative:
            execute(
                conn,
                "INSERT INTO lots (lot_id, sku, transaction_id, received_date, qty_received, "
                "qty_remaining, created_at) VALUES (3, 'PASTA', 14, '2026-02-10', :q, :q, '')",
                q=extra,
            )
            rows.append({"sku": "PASTA", "problem": "lots exceed on_hand", "qty": 12 + extra})
        also = checks_broken(dialect) if negative else {}
        return Expected("lots_consistent", len(rows), rows, also)

    return inject


# Lot 1 (BIRRA, 48 received) holds 28: draws of 10 (tid 4), 5 (5), 3 (7) and 2 (8) count,
# the 20 of the reverted sale 6 came back. Lot 2 (PASTA, 12) was never drawn from.
LOT1_DRAWS = {4: 10, 5: 5, 7: 3, 8: 2}


@st.composite
def lots_off_their_draws(draw: st.DrawFn) -> Inject:
    """Lots that no longer match their draws: a sale reverted by hand without giving its
    units back (the issue's case), a draw deleted, a lot edited, a phantom draw, or the
    lot of a reverted receipt left full."""
    lot1 = draw(st.lists(st.sampled_from(["reverted_sale", "deleted_draw"]), unique=True))
    lot2 = draw(st.sampled_from([None, "edited", "phantom", "receipt_reverted"]))
    if not lot1 and lot2 is None:
        lot2 = "edited"
    sale = draw(st.sampled_from([4, 5]))
    deleted = draw(st.sampled_from([7, 8]))
    qty = draw(st.integers(1, 12))

    def inject(conn: Connection, dialect: str) -> Expected:
        rows: list[dict[str, Any]] = []
        counted = dict(LOT1_DRAWS)
        if "reverted_sale" in lot1:
            execute(
                conn,
                "INSERT INTO transaction_reversals (reversal_id, transaction_id, reason, "
                "\"user\", created_at) VALUES (700, :tid, 'by hand', 'script', '')",
                tid=sale,
            )
            execute(
                conn,
                "UPDATE sales SET qty_sold = qty_sold - :q WHERE sku = 'BIRRA' "
                "AND date = '2026-02-06'",
                q=counted.pop(sale),
            )
        if "deleted_draw" in lot1:
            with append_only_off(conn, "lot_draws"):
                execute(conn, "DELETE FROM lot_draws WHERE transaction_id = :t", t=deleted)
            counted.pop(deleted)
        if lot1:
            rows.append({"lot_id": 1, "qty": 28, "expected": 48 - sum(counted.values())})
        if lot2 == "edited":
            execute(conn, "UPDATE lots SET qty_remaining = :q WHERE lot_id = 2", q=12 - qty)
            rows.append({"lot_id": 2, "qty": 12 - qty, "expected": 12})
        if lot2 == "phantom":
            execute(
                conn,
                "INSERT INTO lot_draws (draw_id, lot_id, transaction_id, qty) "
                "VALUES (700, 2, 14, :q)",
                q=qty,
            )
            rows.append({"lot_id": 2, "qty": 12, "expected": 12 - qty})
        if lot2 == "receipt_reverted":
            execute(
                conn,
                "INSERT INTO transaction_reversals (reversal_id, transaction_id, reason, "
                "\"user\", created_at) VALUES (701, 14, 'by hand', 'script', '')",
            )
            execute(conn, "UPDATE order_logs SET qty_received = 0, status = 'PENDING' "
                    "WHERE order_id = 2")  # fmt: skip
            rows.append({"lot_id": 2, "qty": 12, "expected": 0})
        for row in rows:
            row["problem"] = "lot differs from its draws"
        if lot2 == "receipt_reverted":  # PASTA is back to its count of 7
            rows.append({"sku": "PASTA", "problem": "lots exceed on_hand", "on_hand": 7})
        return Expected("lots_consistent", len(rows), rows)

    return inject


WRONG_STATUS = {1: ("PENDING", "PARTIAL", "CANCELLED"), 2: ("PENDING", "RECEIVED"), 3: ("PARTIAL",)}


@st.composite
def inconsistent_orders(draw: st.DrawFn) -> Inject:
    """Orders whose status contradicts their quantities, or that received too much."""
    chosen = draw(st.lists(st.sampled_from([1, 2, 3]), min_size=1, max_size=3, unique=True))
    statuses = {oid: draw(st.sampled_from(WRONG_STATUS[oid])) for oid in chosen}
    over = draw(st.integers(1, 10)) if 1 not in chosen else 0

    def inject(conn: Connection, dialect: str) -> Expected:
        drop_check(conn, "order_logs", "ck_order_logs_received_not_above_ordered")
        for oid, status in statuses.items():
            execute(conn, "UPDATE order_logs SET status = :s WHERE order_id = :o", s=status, o=oid)
        if over:
            execute(conn, "UPDATE order_logs SET qty_received = :q WHERE order_id = 1", q=48 + over)
        rows = [{"order_id": oid, "status": s} for oid, s in statuses.items()]
        rows += [{"order_id": 1, "qty_received": 48 + over}] if over else []
        also = checks_broken(dialect) if over else {}
        return Expected("orders_consistent", len(chosen) + int(bool(over)), rows, also)

    return inject


DEMAND_DAMAGE = ("inflate", "delete", "phantom", "reversed")


@st.composite
def stale_demand(draw: st.DrawFn) -> Inject:
    """sales rows changed, deleted, invented, or counting a reversed SALE."""
    kinds = draw(st.lists(st.sampled_from(DEMAND_DAMAGE), min_size=1, max_size=4, unique=True))
    delta = draw(st.integers(1, 9))

    def inject(conn: Connection, dialect: str) -> Expected:
        rows: list[dict[str, Any]] = []
        if "inflate" in kinds:
            execute(
                conn,
                "UPDATE sales SET qty_sold = qty_sold + :d WHERE sku = 'BIRRA' "
                "AND date = '2026-02-06'",
                d=delta,
            )
            rows.append({"sku": "BIRRA", "date": "2026-02-06", "qty_sold": 15 + delta})
        if "delete" in kinds:
            execute(conn, "DELETE FROM sales WHERE sku = 'PASTA' AND date = '2026-02-03'")
            rows.append({"sku": "PASTA", "date": "2026-02-03", "qty_events": 4})
        if "phantom" in kinds:
            execute(
                conn,
                "INSERT INTO sales (sku, date, qty_sold, promo_flag) "
                "VALUES ('PASTA', '2026-02-20', :d, false)",
                d=delta,
            )
            rows.append({"sku": "PASTA", "date": "2026-02-20", "qty_events": 0})
        if "reversed" in kinds:
            execute(conn, "UPDATE sales SET qty_sold = 20 WHERE date = '2026-02-07'")
            rows.append({"sku": "BIRRA", "date": "2026-02-07", "qty_sold": 20})
        return Expected("demand_history", len(rows), rows)

    return inject


BAD_QUANTITIES = st.one_of(
    st.tuples(st.sampled_from(["ORDER", "UNFULFILLED"]), st.integers(-20, 0)),
    st.tuples(st.just("ADJUST"), st.just(0)),
    st.tuples(st.just("WASTE"), st.integers(-20, -1)),
)
PRIORITY = {"ORDER": 1, "UNFULFILLED": 3, "ADJUST": 2, "WASTE": 2}


@st.composite
def bad_quantities(draw: st.DrawFn) -> Inject:
    """Events whose quantity has the wrong sign for their kind."""
    events = draw(st.lists(BAD_QUANTITIES, min_size=1, max_size=4))

    def inject(conn: Connection, dialect: str) -> Expected:
        drop_check(conn, "transactions", "ck_transactions_qty_sign")
        for i, (event, qty) in enumerate(events):
            execute(
                conn,
                "INSERT INTO transactions (transaction_id, date, sku, event, qty, priority, "
                "created_at) VALUES (:tid, '2026-02-15', 'BIRRA', :e, :q, :p, '')",
                tid=3000 + i,
                e=event,
                q=qty,
                p=PRIORITY[event],
            )
        rows = [{"transaction_id": 3000 + i, "qty": q} for i, (_, q) in enumerate(events)]
        return Expected("quantities_valid", len(events), rows, checks_broken(dialect))

    return inject


# (table, statement, fk violations it causes): each inserts one orphan row.
ORPHANS: dict[str, tuple[str, int]] = {
    "transactions": (
        "INSERT INTO transactions (transaction_id, date, sku, event, qty, priority, created_at) "
        "VALUES (4000, '2026-02-12', 'GHOST', 'RECEIPT', 5, 1, '')",
        1,
    ),
    "sales": (
        "INSERT INTO sales (sku, date, qty_sold, promo_flag) VALUES ('GHOST', '2026-02-12', 0, "
        "false)",
        1,
    ),
    "order_logs": (
        "INSERT INTO order_logs (order_id, sku, order_date, qty_ordered, qty_received, status, "
        "created_at, updated_at) VALUES (40, 'GHOST', '2026-02-12', 5, 0, 'PENDING', '', '')",
        1,
    ),
    "kpi_daily": (
        "INSERT INTO kpi_daily (sku, date, on_hand, sold, wasted, unfulfilled) "
        "VALUES ('GHOST', '2026-02-12', 0, 0, 0, 0)",
        1,
    ),
    "promo_calendar": (
        "INSERT INTO promo_calendar (promo_id, sku, start_date, end_date, description) "
        "VALUES (40, 'GHOST', '2026-02-12', '2026-02-13', '')",
        1,
    ),
    "order_receipts": (
        "INSERT INTO order_receipts (order_receipt_id, order_id, transaction_id, document_id, "
        "qty) VALUES (40, 999, 3, 'DDT-1', 1)",
        1,
    ),
    "lots": (
        "INSERT INTO lots (lot_id, sku, transaction_id, received_date, qty_received, "
        "qty_remaining, created_at) VALUES (40, 'BIRRA', 99999, '2026-02-12', 1, 1, '')",
        1,
    ),
    "lot_draws": (
        "INSERT INTO lot_draws (draw_id, lot_id, transaction_id, qty) VALUES (40, 999, 4, 1)",
        1,
    ),
    "order_receipts.document_id": (
        "INSERT INTO order_receipts (order_receipt_id, order_id, transaction_id, document_id, "
        "qty) VALUES (41, 1, 3, 'DDT-404', 1)",
        0,
    ),
}


@st.composite
def orphan_rows(draw: st.DrawFn) -> Inject:
    """Rows pointing at a SKU, order, transaction or document that does not exist."""
    chosen = draw(st.lists(st.sampled_from(sorted(ORPHANS)), min_size=1, max_size=4, unique=True))

    def inject(conn: Connection, dialect: str) -> Expected:
        for key in chosen:
            execute(conn, ORPHANS[key][0])
        fk_rows = sum(ORPHANS[key][1] for key in chosen)
        also: dict[str, int | None] = {}
        if dialect == "sqlite" and fk_rows:
            also["foreign_key_check"] = fk_rows
        rows = [{"table_name": key.split(".")[0]} for key in chosen]
        return Expected("referential_integrity", len(chosen), rows, also)

    return inject


RANGES = {
    "promo_calendar": (
        "UPDATE promo_calendar SET end_date = '2026-02-01'",
        "ck_promo_calendar_date_range",
    ),
    "holidays": ("UPDATE holidays SET end_date = '2026-12-01'", "ck_holidays_date_range"),
    "event_uplift_rules": (
        "UPDATE event_uplift_rules SET end_date = '2026-03-01'",
        "ck_event_uplift_rules_date_range",
    ),
    "order_logs": (
        "UPDATE order_logs SET expected_date = '2026-01-01' WHERE order_id = 1",
        "ck_order_logs_expected_after_order",
    ),
}


@st.composite
def backwards_ranges(draw: st.DrawFn) -> Inject:
    """Periods that end before they start."""
    chosen = draw(st.lists(st.sampled_from(sorted(RANGES)), min_size=1, max_size=4, unique=True))

    def inject(conn: Connection, dialect: str) -> Expected:
        for table in chosen:
            statement, constraint = RANGES[table]
            drop_check(conn, table, constraint)
            execute(conn, statement)
        rows = [{"table_name": t} for t in chosen]
        return Expected("date_ranges_valid", len(chosen), rows, checks_broken(dialect))

    return inject


@st.composite
def wrong_revision(draw: st.DrawFn) -> Inject:
    """The alembic_version stamp overwritten with another revision id."""
    revision = draw(st.text("0123456789abcdef", min_size=12, max_size=12))

    def inject(conn: Connection, dialect: str) -> Expected:
        execute(conn, "UPDATE alembic_version SET version_num = :r", r=revision)
        return Expected("schema_revision", 1, [{"found": revision}])

    return inject


def _droppable(dialect: str) -> list[str]:
    return sorted(
        name for name, kind in expected_objects(dialect).items() if kind in ("index", "trigger")
    )


@st.composite
def missing_objects(draw: st.DrawFn) -> Inject:
    """Indices and append-only triggers dropped by hand."""
    picks = draw(st.lists(st.integers(0, 10_000), min_size=1, max_size=3))

    def inject(conn: Connection, dialect: str) -> Expected:
        names = sorted({_droppable(dialect)[p % len(_droppable(dialect))] for p in picks})
        kinds = expected_objects(dialect)
        for name in names:
            if kinds[name] == "index":
                execute(conn, f"DROP INDEX {name}")
            elif dialect == "sqlite":
                execute(conn, f"DROP TRIGGER {name}")
            else:
                table = name.removeprefix("trg_").rsplit("_", 2)[0]
                if name.endswith("_append_only"):
                    table = name.removeprefix("trg_").removesuffix("_append_only")
                else:
                    table = name.removeprefix("trg_").removesuffix("_no_truncate")
                execute(conn, f"DROP TRIGGER {name} ON {table}")
        return Expected("schema_objects", len(names), [{"object": n} for n in names])

    return inject


@st.composite
def edited_audit(draw: st.DrawFn) -> Inject:
    """Audit rows edited in place behind a dropped (and re-created) append-only trigger."""
    ids = draw(st.lists(st.integers(1, 18), min_size=1, max_size=3, unique=True))

    def inject(conn: Connection, dialect: str) -> Expected:
        with append_only_off(conn, "audit_log"):
            for audit_id in ids:
                execute(
                    conn,
                    "UPDATE audit_log SET details = :d WHERE audit_id = :i",
                    d='{"edited": 1}',
                    i=audit_id,
                )
        return Expected("audit_chain", 1, [{"first_broken_id": min(ids)}])

    return inject


SWAPPABLE = ("ix_audit_log_timestamp", "ix_audit_log_run_id")


@st.composite
def mismatched_index(draw: st.DrawFn) -> Inject:
    """An index whose definition no longer matches its entries (writable_schema edit)."""
    index = draw(st.sampled_from(SWAPPABLE))

    def inject(conn: Connection, dialect: str) -> Expected:
        conn.exec_driver_sql("PRAGMA writable_schema=ON")
        execute(
            conn,
            "UPDATE sqlite_master SET sql = :sql WHERE name = :name",
            sql=f'CREATE INDEX {index} ON audit_log ("user")',
            name=index,
        )
        rows = conn.exec_driver_sql("SELECT count(*) FROM audit_log").scalar_one()
        return Expected(
            "sqlite_integrity", rows, [{"message": f"row 1 missing from index {index}"}], full=True
        )

    return inject


@st.composite
def wrong_positions(draw: st.DrawFn) -> Inject:
    """Current stock_positions rows whose on_hand or last event disagrees with the ledger."""
    chosen = draw(st.lists(st.sampled_from(sorted(FIRST_DAY)), min_size=1, unique=True))
    wrong_tail = draw(st.booleans())

    def inject(conn: Connection, dialect: str) -> Expected:
        execute(conn, "DELETE FROM stock_positions")
        last = "(SELECT max(date) FROM transactions t WHERE t.sku = s.sku)"
        tail = ":day" if wrong_tail else last
        for sku in chosen:
            # Current by construction: the SKU's newest transaction and reversal.
            execute(
                conn,
                "INSERT INTO stock_positions (sku, on_hand, tail_date, tail_priority, "
                f"last_transaction_id, reversal_mark) SELECT s.sku, :on_hand, {tail}, 3, "
                "(SELECT max(transaction_id) FROM transactions t WHERE t.sku = s.sku), "
                "(SELECT COALESCE(max(reversal_id), 0) FROM transaction_reversals) "
                "FROM skus s WHERE s.sku = :sku",
                sku=sku,
                on_hand=0 if wrong_tail else -7,
                day=FIRST_DAY[sku],
            )
        rows = [{"sku": sku} for sku in chosen]
        return Expected("stock_positions_match_ledger", len(chosen), rows)

    return inject


@st.composite
def unsealed_rows(draw: st.DrawFn) -> Inject:
    """Ledger rows edited in fields no other invariant reads: only the seal can tell."""
    notes = draw(st.lists(st.text("abcxyz", min_size=1, max_size=8), min_size=1, max_size=3))

    def inject(conn: Connection, dialect: str) -> Expected:
        with append_only_off(conn, "transactions"):
            ids = [
                int(r[0])
                for r in conn.exec_driver_sql(
                    "SELECT transaction_id FROM transactions ORDER BY transaction_id"
                )
            ][: len(notes)]
            for tid, note in zip(ids, notes, strict=False):
                execute(
                    conn,
                    "UPDATE transactions SET note = :n WHERE transaction_id = :i",
                    n=f"edited {note}",
                    i=tid,
                )
        return Expected("ledger_coverage", len(ids), full=True)

    return inject


CORRUPTIONS: dict[str, Callable[[], st.SearchStrategy[Inject]]] = {
    "stock_never_negative": negative_stock,
    "snapshot_unique": duplicate_snapshots,
    "reversals_valid": bad_reversals,
    "receiving_idempotent": replayed_receipts,
    "lots_consistent": lambda: st.one_of(broken_lots(), lots_off_their_draws()),
    "orders_consistent": inconsistent_orders,
    "demand_history": stale_demand,
    "quantities_valid": bad_quantities,
    "referential_integrity": orphan_rows,
    "date_ranges_valid": backwards_ranges,
    "schema_revision": wrong_revision,
    "schema_objects": missing_objects,
    "audit_chain": edited_audit,
    "ledger_coverage": unsealed_rows,
    "sqlite_integrity": mismatched_index,
    "stock_positions_match_ledger": wrong_positions,
}
SQLITE_ONLY = {"sqlite_integrity"}


# --- fixtures ----------------------------------------------------------------------------


@pytest.fixture(
    scope="module", params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)]
)
def template(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Template]:
    """A seeded database per dialect, cloned for every example."""
    workdir = tmp_path_factory.mktemp("invariants")
    if request.param == "sqlite":
        yield make_template(f"sqlite:///{workdir / 'template.db'}", workdir, None)
        return
    admin_url: str = request.getfixturevalue("pg_server")
    name = f"ic_tmpl_{uuid.uuid4().hex[:10]}"
    admin = create_engine(admin_url, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.exec_driver_sql(f'CREATE DATABASE "{name}"')
    url = make_url(admin_url).set(database=name).render_as_string(hide_password=False)
    try:
        yield make_template(url, workdir, admin_url)
    finally:
        with admin.connect() as conn:
            conn.exec_driver_sql(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        admin.dispose()


def _inject(url: str, inject: Inject) -> Expected:
    from tests.invariants_support import unguarded

    with unguarded(url) as conn:
        return inject(conn, conn.dialect.name)


def _sealed_rows(url: str) -> dict[str, list[tuple[Any, ...]]]:
    """Every row of every table the audit trail seals, read on a separate connection."""
    engine = create_engine(url)
    try:
        with engine.connect() as conn:
            return {
                spec.name: [
                    tuple(r)
                    for r in conn.exec_driver_sql(
                        f"SELECT * FROM {spec.name} ORDER BY {spec.id_column}"
                    )
                ]
                for spec in coverage.COVERED
            }
    finally:
        engine.dispose()


def run_example(template: Template, inject: Inject) -> None:
    """Clone, damage, check: only the expected invariants fail, with the expected counts."""
    with template.copy() as url:
        db = Database.open(url, settings=test_settings(), check=None)
        try:
            before = _sealed_rows(url)
            expected = _inject(url, inject)
            touched = _sealed_rows(url) != before
            report = check_all(db, full=expected.full)
        finally:
            db.close()
    failing = {r.name: r for r in report.results if not r.ok}
    wanted = {expected.name: expected.count, **expected.also}
    if touched:
        wanted.setdefault("ledger_coverage", None)
    assert set(failing) == set(wanted), report.to_json()
    for name, count in wanted.items():
        if count is not None:
            assert failing[name].count == count, failing[name]
    sample = failing[expected.name].sample
    for row in expected.in_sample:
        assert any(_matches(got, row) for got in sample), (row, sample)


@pytest.mark.parametrize("examples", [3, pytest.param(40, marks=pytest.mark.slow)])
@pytest.mark.parametrize("name", sorted(CORRUPTIONS))
def test_each_invariant_catches_its_own_corruption(
    template: Template, name: str, examples: int, tmp_path: Path
) -> None:
    """A drawn corruption of one kind fails exactly its invariant, with its count and rows."""
    if name in SQLITE_ONLY and "postgresql" in template.url:
        pytest.skip("SQLite-only check")

    @settings(
        max_examples=examples if "sqlite" in template.url else max(2, examples // 2),
        deadline=None,
        database=None,
        suppress_health_check=[HealthCheck.too_slow],
    )
    @given(inject=CORRUPTIONS[name]())
    def check(inject: Inject) -> None:
        run_example(template, inject)

    check()
