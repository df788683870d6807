"""Seeding and comparison helpers for the backup tests (real databases, no mocks)."""

from __future__ import annotations

import hashlib
import sqlite3
from datetime import date, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import insert, select

from inventory_core import Database
from inventory_core.audit import coverage
from inventory_core.audit.trail import Operation, append
from inventory_core.db.uow import UnitOfWork
from inventory_core.models import Sku, Transaction, metadata


def add_sku(db: Database, sku: str, description: str = "") -> None:
    """Insert one SKU and its ADD_SKU audit row in one unit of work."""

    def work(uow: UnitOfWork) -> None:
        uow.execute(insert(Sku).values(sku=sku, description=description or sku))
        append(uow, Operation.ADD_SKU, user="tester", sku=sku)

    db.run(work)


def add_order(db: Database, sku: str, qty: int, day: date, note: str | None = None) -> int:
    """Insert one ORDER event and its audit row together; returns the transaction id."""

    def work(uow: UnitOfWork) -> int:
        coverage.mark(uow, "transactions")  # as the library's write paths do
        result = uow.execute(
            insert(Transaction).values(
                date=day, sku=sku, event="ORDER", qty=qty, priority=1, note=note
            )
        )
        append(uow, Operation.ORDER, user="tester", sku=sku, details={"qty": qty})
        key = result.inserted_primary_key
        assert key is not None
        return int(key[0])

    return db.run(work)


def seed(db: Database, skus: int = 3, events_per_sku: int = 5) -> None:
    """A small realistic ledger: SKUs and ORDER events, each with its audit row."""
    start = date(2026, 1, 1)
    for s in range(skus):
        code = f"SKU{s:03d}"
        add_sku(db, code, f"Article {s}")
        for e in range(events_per_sku):
            add_order(db, code, 1 + e, start + timedelta(days=e))


def sha256(path: Path) -> str:
    """The sha256 of a file."""
    return hashlib.sha256(path.read_bytes()).hexdigest()


def checkpointed_sha(path: Path) -> str:
    """The sha256 of the main file once every committed page is in it (WAL checkpointed)."""
    conn = sqlite3.connect(path)
    try:
        busy = conn.execute("PRAGMA wal_checkpoint(TRUNCATE)").fetchone()[0]
    finally:
        conn.close()
    assert busy == 0
    return sha256(path)


def sqlite_rows(path: Path, table: str) -> list[tuple[Any, ...]]:
    """Every row of ``table`` in an SQLite file, through a separate raw connection."""
    conn = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
    try:
        return list(conn.execute(f'SELECT * FROM "{table}" ORDER BY 1'))
    finally:
        conn.close()


def all_rows(db: Database) -> dict[str, list[tuple[Any, ...]]]:
    """Every row of every table, in primary-key order (works on SQLite and PostgreSQL)."""
    out: dict[str, list[tuple[Any, ...]]] = {}
    with db.read() as uow:
        for table in metadata.sorted_tables:
            order = list(table.primary_key.columns)
            out[table.name] = [tuple(r) for r in uow.execute(select(table).order_by(*order))]
    return out


def count_orders_and_audit(path: Path) -> tuple[int, int]:
    """(ORDER events, ORDER audit rows) in an SQLite file: equal when no unit was split."""
    conn = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
    try:
        events = conn.execute("SELECT count(*) FROM transactions").fetchone()[0]
        audits = conn.execute(
            "SELECT count(*) FROM audit_log WHERE operation = 'order'"
        ).fetchone()[0]
        return int(events), int(audits)
    finally:
        conn.close()


def writer_loop(url: str, sku: str, stop: Any, committed: Any) -> None:
    """Commit ORDER events (each with its audit row) until ``stop`` is set (a child process)."""
    from tests.db_support import test_settings

    db = Database.open(url, settings=test_settings(busy_timeout_ms=10_000, retry_attempts=50))
    try:
        day = date(2026, 1, 1)
        while not stop.is_set():
            add_order(db, sku, 1, day)
            with committed.get_lock():
                committed.value += 1
    finally:
        db.close()


def bulk_settings(db: Database, rows: int, size: int) -> None:
    """Fill the settings table with ``rows`` values of ``size`` characters (bulk bytes)."""
    from inventory_core.models import SettingRow

    def work(uow: UnitOfWork) -> None:
        uow.execute(
            insert(SettingRow),
            [{"key": f"bulk.{i}", "value": chr(65 + i % 26) * size} for i in range(rows)],
        )

    db.run(work)
