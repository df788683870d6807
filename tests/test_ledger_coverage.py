"""Ledger coverage: a ledger row inserted, edited or deleted behind the library's back is found."""

from __future__ import annotations

from datetime import date

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import create_engine, text

from inventory_core import Database, Inventory, ReceiptLine, audit
from inventory_core.audit import coverage
from inventory_core.invariants import check_all
from inventory_core.models import EventType
from inventory_core.models.triggers import APPEND_ONLY_TABLES, create_sql
from tests.db_support import test_settings

D = date(2026, 2, 1)


def shop(db: Database) -> dict[str, int]:
    """A small shop's month through every write path; the ids worth tampering with."""
    inv = Inventory(db, user="tester")
    inv.add_sku("BIRRA", "Birra", pack_size=24)
    inv.add_sku("LATTE", "Latte")
    inv.snapshot("BIRRA", 3, on=D)
    order_id = inv.order("BIRRA", 48, on=date(2026, 2, 2), expected=date(2026, 2, 5))
    inv.receive(
        "DDT-1",
        [
            ReceiptLine("BIRRA", 24, order_id=order_id, expiry=date(2026, 6, 1)),
            ReceiptLine("LATTE", 10, expiry=date(2026, 3, 1)),
        ],
        on=date(2026, 2, 5),
    )
    sale = inv.sell("BIRRA", 5, on=date(2026, 2, 6))
    wrong = inv.sell("BIRRA", 2, on=date(2026, 2, 7))
    inv.revert(wrong, reason="scanned twice")
    inv.waste("LATTE", 1, on=date(2026, 2, 8))
    inv.adjust("LATTE", -1, on=date(2026, 2, 9))
    inv.record_many(
        [
            {"sku": "LATTE", "event": EventType.SALE, "qty": 1, "date": date(2026, 2, 10)},
            {
                "sku": "LATTE",
                "event": EventType.RECEIPT,
                "qty": 6,
                "date": date(2026, 2, 11),
                "document_id": "DDT-2",
                "expiry": date(2026, 4, 1),
            },
            {"sku": "LATTE", "event": EventType.SALE, "qty": 2, "date": date(2026, 2, 12)},
        ]
    )
    return {"sale": sale, "reverted": wrong, "order": order_id}


def tamper_ledger(db: Database, *statements: str) -> None:
    """Drop the append-only triggers, run ``statements`` as an outsider, put them back."""
    dialect = db.dialect
    if dialect == "postgresql":
        drop = [
            f"DROP TRIGGER IF EXISTS {name} ON {table}"
            for table in APPEND_ONLY_TABLES
            for name in (f"trg_{table}_append_only", f"trg_{table}_no_truncate")
        ]
    else:
        drop = [
            f"DROP TRIGGER IF EXISTS trg_{table}_{kind}"
            for table in APPEND_ONLY_TABLES
            for kind in ("no_update", "no_delete")
        ]
    engine = create_engine(db.url)
    try:
        with engine.begin() as conn:
            if dialect == "postgresql":  # foreign keys off for this session, as a script could
                conn.exec_driver_sql("SET session_replication_role = replica")
            # The trigger function stays; only the triggers were dropped.
            again = [s for s in create_sql(dialect) if "CREATE OR REPLACE FUNCTION" not in s]
            for statement in [*drop, *statements, *again]:
                conn.exec_driver_sql(statement)
    finally:
        engine.dispose()


def assert_caught(db: Database, words: str) -> None:
    """Both audit verify and the full check report the tampering, naming it."""
    report = audit.verify(db)
    assert not report.ok and words in report.reason, report.reason
    # On a SQLite file, the ledger pass in a second process finds exactly the same.
    assert audit.verify(db, parallel=True) == report
    health = check_all(db)
    result = next(r for r in health.results if r.name == "ledger_coverage")
    assert not result.ok and result.count >= 1
    assert health.status.value == "UNHEALTHY"


def test_a_ledger_written_by_the_library_is_covered(any_db: Database) -> None:
    """Every write path seals what it wrote: verify and the coverage invariant pass."""
    shop(any_db)
    report = audit.verify(any_db)
    assert report.ok, report.reason
    assert report.ledger_rows_checked >= 15
    assert audit.verify(any_db, parallel=True) == report
    assert check_all(any_db).status.value == "HEALTHY"


def test_a_receipt_inserted_without_an_audit_row_is_caught(any_db: Database) -> None:
    """The review's case: RECEIPT 1000 inserted by hand shows in stock() and is now caught."""
    shop(any_db)
    inv = Inventory(any_db)
    before = inv.stock("BIRRA", asof=date(2026, 3, 1)).on_hand
    tamper_ledger(
        any_db,
        "INSERT INTO transactions (date, sku, event, qty, priority, created_at) "
        "VALUES ('2026-02-03', 'BIRRA', 'RECEIPT', 1000, 1, '2026-02-03T00:00:00Z')",
    )
    assert inv.stock("BIRRA", asof=date(2026, 3, 1)).on_hand == before + 1000
    assert_caught(any_db, "sealed by no audit row")


@pytest.mark.parametrize(
    ("statements", "words"),
    [
        (
            [
                "UPDATE transactions SET qty = 1 WHERE transaction_id = {sale}",
                "UPDATE sales SET qty_sold = 1 WHERE sku = 'BIRRA' AND date = '2026-02-06'",
            ],
            "edited",
        ),
        (["DELETE FROM transactions WHERE transaction_id = {sale}"], "deleted"),
        (["UPDATE transactions SET date = '2026-01-15' WHERE transaction_id = {sale}"], "edited"),
        (["DELETE FROM transaction_reversals WHERE transaction_id = {reverted}"], "deleted"),
        (["UPDATE transaction_reversals SET reason = 'x'"], "edited"),
        (["UPDATE lots SET qty_remaining = qty_received"], "edited"),
        (["DELETE FROM lots WHERE sku = 'LATTE'"], "deleted"),
        (["UPDATE order_logs SET status = 'PENDING', qty_received = 0"], "edited"),
        (["DELETE FROM receiving_logs WHERE document_id = 'DDT-2'"], "deleted"),
        (["UPDATE order_receipts SET qty = 48"], "edited"),
        (
            [
                'INSERT INTO transaction_reversals (transaction_id, reason, "user", created_at) '
                "VALUES ({sale}, 'hidden', 'mallory', '2026-02-06T00:00:00Z')"
            ],
            "sealed by no audit row",
        ),
    ],
)
def test_each_kind_of_ledger_tampering_is_caught(
    any_db: Database, statements: list[str], words: str
) -> None:
    """Edits, deletions, moved dates and deleted or forged reversals are each reported."""
    ids = shop(any_db)
    tamper_ledger(any_db, *(s.format(**ids) for s in statements))
    assert_caught(any_db, words)


def test_nulling_an_audit_rows_sku_is_caught(any_db: Database) -> None:
    """The sku column is hashed: hiding a row from 'audit sku' breaks the chain."""
    shop(any_db)
    assert any(e.sku == "BIRRA" for e in audit.by_sku(any_db, "BIRRA"))
    tamper_ledger(any_db, "UPDATE audit_log SET sku = NULL WHERE sku = 'BIRRA'")
    report = audit.verify(any_db)
    assert not report.ok and "edited" in report.reason


def test_an_audit_rows_seal_cannot_be_removed(any_db: Database) -> None:
    """Removing a seal (ledger set to NULL, hash of the first form recomputed) is caught."""
    shop(any_db)
    tamper_ledger(any_db, "UPDATE audit_log SET ledger = NULL WHERE audit_id = 4")
    assert not audit.verify(any_db).ok


def test_coverage_survives_a_csv_round_trip(db: Database, tmp_path: object) -> None:
    """Seals are data: a snapshot exported and imported elsewhere still verifies."""
    from pathlib import Path

    from inventory_core.backup import csv_import, csv_snapshot

    shop(db)
    folder = Path(str(tmp_path)) / "snap"
    csv_snapshot.export_csv(db, folder)
    target = Database.open(Path(str(tmp_path)) / "copy.db", settings=test_settings())
    target.upgrade()
    csv_import.import_csv(target, folder)
    report = audit.verify(target)
    assert report.ok, report.reason
    target.close()


def test_rows_older_than_coverage_are_sealed_once_by_the_migration(sqlite_url: str) -> None:
    """Upgrading a 0002 ledger seals its rows in one ledger_seal row; an edit is then caught."""
    from inventory_core.db import migrations

    db = Database.open(sqlite_url, settings=test_settings())
    migrations.upgrade(db.engine, "0002_stock_positions")
    db.engine.dispose()
    raw = create_engine(sqlite_url)
    with raw.begin() as conn:
        conn.exec_driver_sql(
            "INSERT INTO skus (sku, description, created_at, updated_at) "
            "VALUES ('OLD', 'old item', '2026-01-01T00:00:00Z', '2026-01-01T00:00:00Z')"
        )
        for day, event, qty, prio in (
            ("2026-01-01", "SNAPSHOT", 9, 0),
            ("2026-01-02", "SALE", 2, 2),
        ):
            conn.exec_driver_sql(
                "INSERT INTO transactions (date, sku, event, qty, priority, created_at) "
                f"VALUES ('{day}', 'OLD', '{event}', {qty}, {prio}, '{day}T00:00:00Z')"
            )
    raw.dispose()
    db.close()
    db = Database.open(sqlite_url, settings=test_settings(), migrate=True, check=None)
    seals = [e for e in audit.tail(db, 10) if e.operation == "ledger_seal"]
    assert len(seals) == 1 and seals[0].details["rows"] == {"transactions": 2}
    assert audit.verify(db).ok
    Inventory(db).sell("OLD", 1, on=date(2026, 1, 3))
    assert audit.verify(db).ok
    tamper_ledger(db, "UPDATE transactions SET qty = 1 WHERE transaction_id = 2")
    report = audit.verify(db)
    assert not report.ok and "sealed by audit row" in report.reason
    db.close()


_TAMPERS = [
    ("transactions", "UPDATE transactions SET qty = qty * 2 WHERE transaction_id = {id}"),
    ("transactions", "UPDATE transactions SET date = '2025-12-31' WHERE transaction_id = {id}"),
    ("transactions", "UPDATE transactions SET note = 'x' WHERE transaction_id = {id}"),
    ("transactions", "UPDATE transactions SET sku = 'LATTE' WHERE transaction_id = {id}"),
    ("transactions", "DELETE FROM transactions WHERE transaction_id = {id}"),
    ("lots", "UPDATE lots SET expiry_date = '2030-01-01' WHERE lot_id = {id}"),
    ("lots", "UPDATE lots SET qty_remaining = 0 WHERE lot_id = {id} AND qty_remaining > 0"),
    ("lots", "DELETE FROM lots WHERE lot_id = {id}"),
    ("order_logs", "UPDATE order_logs SET expected_date = NULL WHERE order_id = {id}"),
    ("receiving_logs", "UPDATE receiving_logs SET qty_received = 1 WHERE receiving_id = {id}"),
]


@settings(
    max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(choice=st.integers(0, len(_TAMPERS) - 1), pick=st.integers(0, 50))
def test_random_tampering_is_always_caught(
    tmp_path_factory: object, choice: int, pick: int
) -> None:
    """Any single edit or deletion of a covered row, chosen at random, is found."""
    folder = tmp_path_factory.mktemp("tamper")  # type: ignore[attr-defined]
    db = Database.open(folder / "shop.db", settings=test_settings())
    db.upgrade()
    shop(db)
    table, statement = _TAMPERS[choice]
    spec = coverage.BY_NAME[table]
    content = text(f"SELECT * FROM {table} ORDER BY {spec.id_column}")
    with db.read() as uow:
        before = [tuple(r) for r in uow.execute(content)]
    target = int(before[pick % len(before)][0])
    tamper_ledger(db, statement.format(id=target))
    with db.read() as uow:
        changed = [tuple(r) for r in uow.execute(content)] != before
    assert audit.verify(db).ok is not changed
    assert audit.verify(db, parallel=True).ok is not changed
    db.close()


@pytest.mark.postgres
def test_seals_do_not_depend_on_the_servers_date_style(pg_url: str) -> None:
    """A PostgreSQL server printing dates as DD/MM/YYYY still verifies the same seals."""
    db = Database.open(pg_url, settings=test_settings())
    db.upgrade()
    shop(db)
    tamper_ledger(db, f"ALTER DATABASE \"{db.url.database}\" SET datestyle = 'SQL, DMY'")
    db.close()
    db = Database.open(pg_url, settings=test_settings())
    with db.read() as uow:
        assert "/" in str(uow.execute(text("SELECT DATE '2026-02-12'::text")).scalar_one())
    report = audit.verify(db)
    db.close()
    assert report.ok, report.reason
