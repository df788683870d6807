"""Helpers of the audit tests: a representative write, tampering by hand, child processes.

The child-process functions are module-level so that ``multiprocessing`` with the "spawn"
context can import them in a fresh interpreter (a real, separate process).
"""

from __future__ import annotations

import multiprocessing
import sqlite3
import time
from datetime import date
from itertools import islice
from typing import Any

from sqlalchemy import create_engine, insert, text
from sqlalchemy.engine import make_url

from inventory_core import Database, Settings, audit
from inventory_core.audit import coverage, trail
from inventory_core.audit.trail import GENESIS_HASH
from inventory_core.db.chain_head import PG_AUDIT_LOCK_KEY
from inventory_core.db.uow import UnitOfWork
from inventory_core.models import EVENT_PRIORITY, AuditLog, EventType, Sku, Transaction
from inventory_core.models.triggers import create_sql

SPAWN = multiprocessing.get_context("spawn")


def add_sku(db: Database, sku: str, *, user: str = "tester") -> str:
    """Create a SKU and its ADD_SKU audit row in one unit of work; return the row's hash."""

    def work(uow: UnitOfWork) -> str:
        uow.execute(insert(Sku).values(sku=sku, description=f"{sku} test item"))
        return trail.append(uow, trail.Operation.ADD_SKU, user=user, sku=sku, details={})

    return db.run(work, operation="add_sku")


def sale_work(sku: str, qty: int, *, user: str = "tester") -> Any:
    """The unit of work of a sale: a SALE ledger row and its audit row, one transaction."""

    def work(uow: UnitOfWork) -> str:
        coverage.mark(uow, "transactions")  # the library's write paths say what they wrote
        uow.execute(
            insert(Transaction).values(
                date=date(2026, 2, 12),
                sku=sku,
                event=EventType.SALE.value,
                qty=qty,
                priority=EVENT_PRIORITY[EventType.SALE],
            )
        )
        return trail.append(
            uow, trail.Operation.SELL, user=user, sku=sku, details={"qty": qty}, duration_ms=1.5
        )

    return work


def sell(db: Database, sku: str, qty: int, *, user: str = "tester") -> str:
    """Record a sale through ``db.run``; return the audit row's hash."""
    return db.run(sale_work(sku, qty, user=user), operation="sell")


def raw_sql(db: Database, *statements: str) -> None:
    """Run statements outside the library, as someone with direct access to the database."""
    engine = create_engine(db.url)
    try:
        with engine.begin() as conn:
            for statement in statements:
                conn.exec_driver_sql(statement)
    finally:
        engine.dispose()


def tamper(db: Database, *statements: str) -> None:
    """Drop the audit_log append-only triggers, run ``statements``, put the triggers back."""
    if db.dialect == "postgresql":
        drop = [
            "DROP TRIGGER trg_audit_log_append_only ON audit_log",
            "DROP TRIGGER trg_audit_log_no_truncate ON audit_log",
        ]
        restore = [s for s in create_sql("postgresql") if "ON audit_log" in s]
    else:
        drop = ["DROP TRIGGER trg_audit_log_no_update", "DROP TRIGGER trg_audit_log_no_delete"]
        restore = [s for s in create_sql("sqlite") if "ON audit_log" in s]
    raw_sql(db, *drop, *statements, *restore)


def audit_count(db: Database) -> int:
    """Rows in audit_log, read with a plain query."""
    with db.read() as uow:
        return int(uow.execute(text("SELECT count(*) FROM audit_log")).scalar_one())


def ledger_count(db: Database) -> int:
    """Rows in transactions, read with a plain query."""
    with db.read() as uow:
        return int(uow.execute(text("SELECT count(*) FROM transactions")).scalar_one())


# --- child processes -----------------------------------------------------------------------


def writer_process(url: str, sku: str, count: int, user: str, queue: Any) -> None:
    """Sell ``count`` units one by one through Inventory in this process's own run.

    Reports the run id on ``queue`` when done.
    """
    from inventory_core.inventory import Inventory

    settings = Settings.load(busy_timeout_ms=5000, retry_attempts=60, retry_max_delay_s=0.2)
    db = Database.open(url, settings=settings, check=None)
    try:
        with audit.run(user=user) as run_id:
            inventory = Inventory(db)
            for _ in range(count):
                inventory.sell(sku, 1, on=date(2026, 2, 12))
        queue.put(run_id)
    finally:
        db.close()


def hold_write_lock(url: str, seconds: float, ready: Any) -> None:
    """Hold the database's write lock for ``seconds`` from another process.

    SQLite: an open ``BEGIN IMMEDIATE`` transaction. PostgreSQL: the audit chain's advisory
    lock, which every append takes.
    """
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite":
        conn = sqlite3.connect(parsed.database or "", isolation_level=None)
        conn.execute("BEGIN IMMEDIATE")
        ready.set()
        time.sleep(seconds)
        conn.execute("COMMIT")
        conn.close()
        return
    engine = create_engine(url)
    with engine.begin() as pg:
        pg.execute(text("SELECT pg_advisory_xact_lock(:k)"), {"k": PG_AUDIT_LOCK_KEY})
        ready.set()
        time.sleep(seconds)
    engine.dispose()


def bulk_chain(db: Database, rows: int, *, batch: int = 5_000) -> str:
    """Append ``rows`` valid chained audit rows fast (executemany); return the head hash."""
    fields = (
        {
            "timestamp": f"2026-01-01T00:00:{number % 60:02d}.{number:06d}Z"[:27],
            "operation": "sell",
            "user": f"user{number % 7}",
            "details": trail.canonical_json({"qty": number % 13 + 1, "sku": "BULK"}),
            "run_id": f"run-{number // 1000}",
            "duration_ms": round(number % 100 / 7, 3),
            "sku": None,
        }
        for number in range(rows)
    )
    chained = trail.chain_rows(fields)
    head = GENESIS_HASH
    with db.unit_of_work() as uow:
        while chunk := list(islice(chained, batch)):
            uow.execute(insert(AuditLog), chunk)
            head = chunk[-1]["hash"]
        uow.commit()
    return head
