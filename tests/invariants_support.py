"""A small consistent ledger seeded with raw Core inserts, and ways to damage it.

The seed is written the way the library writes (one unit of work, audit rows through
``audit.trail.append``) but without the ``Inventory`` facade, so the invariant tests only
depend on the schema. The damage is done the way a buggy script or a crash would: raw SQL
on a separate connection with the guards switched off (``PRAGMA foreign_keys=OFF`` and
``ignore_check_constraints=ON`` on SQLite; ``session_replication_role = replica``, which
silences foreign-key and append-only triggers, and dropped CHECK constraints on PostgreSQL).
"""

from __future__ import annotations

import shutil
import sqlite3
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any

from sqlalchemy import Connection, create_engine, insert, text
from sqlalchemy.engine import make_url

from inventory_core import Database
from inventory_core.audit import coverage
from inventory_core.audit.trail import Operation, append
from inventory_core.db.uow import UnitOfWork
from inventory_core.models import (
    EVENT_PRIORITY,
    EventType,
    EventUpliftRule,
    Holiday,
    KpiDaily,
    Lot,
    LotDraw,
    OrderLog,
    OrderReceipt,
    PromoCalendar,
    ReceivingLog,
    Sale,
    SettingRow,
    Sku,
    Transaction,
    TransactionReversal,
)
from inventory_core.models.triggers import create_sql
from tests.db_support import test_settings

D = date.fromisoformat

# (transaction_id, sku, date, event, qty, document_id): the seeded ledger, in id order.
LEDGER: tuple[tuple[int, str, str, str, int, str | None], ...] = (
    (1, "BIRRA", "2026-02-01", "SNAPSHOT", 100, None),
    (2, "BIRRA", "2026-02-02", "ORDER", 48, None),
    (3, "BIRRA", "2026-02-05", "RECEIPT", 48, "DDT-1"),
    (4, "BIRRA", "2026-02-06", "SALE", 10, None),
    (5, "BIRRA", "2026-02-06", "SALE", 5, None),
    (6, "BIRRA", "2026-02-07", "SALE", 20, None),
    (7, "BIRRA", "2026-02-08", "WASTE", 3, None),
    (8, "BIRRA", "2026-02-09", "ADJUST", -2, None),
    (9, "BIRRA", "2026-02-09", "UNFULFILLED", 4, None),
    (10, "PASTA", "2026-02-01", "SNAPSHOT", 10, None),
    (11, "PASTA", "2026-02-03", "SALE", 4, None),
    (12, "PASTA", "2026-02-04", "SNAPSHOT", 7, None),
    (13, "PASTA", "2026-02-04", "ORDER", 20, None),
    (14, "PASTA", "2026-02-10", "RECEIPT", 12, "DDT-2"),
)
REVERSED = (6,)  # the 2026-02-07 sale of BIRRA was reverted
LOT_DRAWS = ((4, 10), (5, 5), (6, 20), (7, 3), (8, 2))  # (transaction_id, qty) from lot 1
SKUS = ("BIRRA", "PASTA", "LATTE")
OPERATION = {
    "SNAPSHOT": Operation.SNAPSHOT,
    "ORDER": Operation.ORDER,
    "RECEIPT": Operation.RECEIVE,
    "SALE": Operation.SELL,
    "WASTE": Operation.WASTE,
    "ADJUST": Operation.ADJUST,
    "UNFULFILLED": Operation.UNFULFILLED,
}
FIRST_DAY = {"BIRRA": D("2026-02-01"), "PASTA": D("2026-02-01")}


def seed(uow: UnitOfWork) -> None:
    """Write the consistent ledger of this module (SKUs, events, orders, lots, calendars)."""
    for sku in SKUS:
        uow.execute(insert(Sku).values(sku=sku, description=f"{sku} test", pack_size=6))
        append(uow, Operation.ADD_SKU, user="tester", sku=sku, details={"pack_size": 6})
    for tid, sku, day, event, qty, doc in LEDGER:
        coverage.mark(uow, "transactions")  # as the library's write paths do
        uow.execute(
            insert(Transaction).values(
                transaction_id=tid,
                sku=sku,
                date=D(day),
                event=event,
                qty=qty,
                priority=EVENT_PRIORITY[EventType(event)],
                document_id=doc,
            )
        )
        append(uow, OPERATION[event], user="tester", sku=sku, details={"qty": qty, "tid": tid})
    for tid in REVERSED:
        coverage.mark(uow, "transaction_reversals")
        uow.execute(
            insert(TransactionReversal).values(transaction_id=tid, reason="typo", user="tester")
        )
        append(uow, Operation.REVERT, user="tester", details={"transaction_id": tid})
    for table in ("order_logs", "receiving_logs", "order_receipts", "lots", "lot_draws"):
        coverage.mark(uow, table)
    uow.execute(
        insert(OrderLog),
        [
            dict(order_id=1, sku="BIRRA", order_date=D("2026-02-02"), qty_ordered=48,
                 qty_received=48, status="RECEIVED", transaction_id=2,
                 expected_date=D("2026-02-05")),
            dict(order_id=2, sku="PASTA", order_date=D("2026-02-04"), qty_ordered=20,
                 qty_received=12, status="PARTIAL", transaction_id=13, expected_date=None),
            dict(order_id=3, sku="PASTA", order_date=D("2026-02-04"), qty_ordered=5,
                 qty_received=0, status="CANCELLED", transaction_id=None, expected_date=None),
        ],
    )  # fmt: skip
    uow.execute(
        insert(ReceivingLog),
        [
            dict(document_id="DDT-1", sku="BIRRA", receipt_date=D("2026-02-05"),
                 qty_received=48, document_hash="a" * 64),
            dict(document_id="DDT-2", sku="PASTA", receipt_date=D("2026-02-10"),
                 qty_received=12, document_hash="b" * 64),
        ],
    )  # fmt: skip
    uow.execute(
        insert(OrderReceipt),
        [
            dict(order_id=1, transaction_id=3, document_id="DDT-1", qty=48),
            dict(order_id=2, transaction_id=14, document_id="DDT-2", qty=12),
        ],
    )
    uow.execute(
        insert(Lot),
        [
            dict(lot_id=1, sku="BIRRA", transaction_id=3, document_id="DDT-1",
                 received_date=D("2026-02-05"), expiry_date=D("2027-02-01"),
                 qty_received=48, qty_remaining=28),
            dict(lot_id=2, sku="PASTA", transaction_id=14, document_id="DDT-2",
                 received_date=D("2026-02-10"), expiry_date=D("2026-06-01"),
                 qty_received=12, qty_remaining=12),
        ],
    )  # fmt: skip
    # Lot 1 is the only lot of BIRRA: every decrease after its receipt drew from it; the
    # reverted sale (6) gave its 20 back.
    uow.execute(
        insert(LotDraw),
        [
            dict(draw_id=draw_id, lot_id=1, transaction_id=tid, qty=qty)
            for draw_id, (tid, qty) in enumerate(LOT_DRAWS, start=1)
        ],
    )
    append(uow, Operation.RECEIVE, user="tester", details={"orders": 3, "lots": 2})
    uow.execute(
        insert(Sale),
        [
            dict(sku="BIRRA", date=D("2026-02-06"), qty_sold=15),
            dict(sku="BIRRA", date=D("2026-02-07"), qty_sold=0),
            dict(sku="PASTA", date=D("2026-02-03"), qty_sold=4),
        ],
    )
    uow.execute(
        insert(PromoCalendar).values(
            promo_id=1, sku="LATTE", start_date=D("2026-03-01"), end_date=D("2026-03-07")
        )
    )
    uow.execute(
        insert(Holiday).values(
            holiday_id=1, name="Natale", start_date=D("2026-12-25"), end_date=D("2026-12-26")
        )
    )
    uow.execute(
        insert(EventUpliftRule).values(
            rule_id=1, name="Derby", sku=None, start_date=D("2026-04-01"),
            end_date=D("2026-04-01"), uplift=1.5,
        )
    )  # fmt: skip
    uow.execute(insert(KpiDaily).values(sku="BIRRA", date=D("2026-02-06"), on_hand=133, sold=15))
    uow.execute(insert(SettingRow).values(key="currency", value='"EUR"'))


def seeded_database(url: str) -> Database:
    """Open ``url``, migrate it and write the consistent ledger."""
    db = Database.open(url, settings=test_settings())
    db.upgrade()
    db.run(seed, operation="seed")
    return db


def dialect_of(url: str) -> str:
    """``sqlite`` or ``postgresql``."""
    return make_url(url).get_backend_name()


@contextmanager
def unguarded(url: str) -> Iterator[Connection]:
    """A raw connection with the guards off, committing when the block ends.

    On SQLite the PRAGMAs are issued before the first statement (outside any transaction,
    where ``foreign_keys`` takes effect); on PostgreSQL ``session_replication_role =
    replica`` keeps foreign-key and user triggers from firing for this session only.
    """
    engine = create_engine(url)
    try:
        with engine.connect() as conn:
            if dialect_of(url) == "sqlite":
                conn.exec_driver_sql("PRAGMA foreign_keys=OFF")
                conn.exec_driver_sql("PRAGMA ignore_check_constraints=ON")
            else:
                conn.exec_driver_sql("SET session_replication_role = replica")
            yield conn
            conn.commit()
    finally:
        engine.dispose()


def drop_check(conn: Connection, table: str, constraint: str) -> None:
    """Drop a named CHECK constraint on PostgreSQL (SQLite ignores them in ``unguarded``)."""
    if conn.dialect.name == "postgresql":
        conn.exec_driver_sql(f"ALTER TABLE {table} DROP CONSTRAINT {constraint}")


@contextmanager
def append_only_off(conn: Connection, table: str) -> Iterator[None]:
    """Let UPDATE/DELETE through on an append-only table, then put the triggers back.

    On SQLite the triggers are dropped and re-created (what a script that "fixes" the
    ledger would do); on PostgreSQL the replica role already silences them.
    """
    if conn.dialect.name != "sqlite":
        yield
        return
    names = (f"trg_{table}_no_update", f"trg_{table}_no_delete")
    for name in names:
        conn.exec_driver_sql(f"DROP TRIGGER IF EXISTS {name}")
    yield
    for statement in create_sql("sqlite"):
        if any(f"TRIGGER {name} " in statement for name in names):
            conn.exec_driver_sql(statement)


def execute(conn: Connection, statement: str, /, **params: Any) -> None:
    """Run one raw statement with named parameters."""
    conn.execute(text(statement), params)


@dataclass
class Template:
    """A seeded database that tests clone per Hypothesis example (cheap and isolated)."""

    url: str
    admin_url: str | None
    workdir: Path

    def clone(self) -> str:
        """A fresh copy of the seeded database, as a URL."""
        name = f"clone_{uuid.uuid4().hex[:10]}"
        if dialect_of(self.url) == "sqlite":
            target = self.workdir / f"{name}.db"
            shutil.copyfile(make_url(self.url).database or "", target)
            return f"sqlite:///{target}"
        assert self.admin_url is not None
        source = make_url(self.url).database
        admin = create_engine(self.admin_url, isolation_level="AUTOCOMMIT")
        try:
            with admin.connect() as conn:
                conn.exec_driver_sql(f'CREATE DATABASE "{name}" TEMPLATE "{source}"')
        finally:
            admin.dispose()
        return make_url(self.url).set(database=name).render_as_string(hide_password=False)

    def drop(self, url: str) -> None:
        """Remove a clone."""
        if dialect_of(url) == "sqlite":
            Path(make_url(url).database or "").unlink(missing_ok=True)
            return
        assert self.admin_url is not None
        admin = create_engine(self.admin_url, isolation_level="AUTOCOMMIT")
        try:
            with admin.connect() as conn:
                name = make_url(url).database
                conn.exec_driver_sql(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        finally:
            admin.dispose()

    @contextmanager
    def copy(self) -> Iterator[str]:
        """A clone that is dropped when the block ends."""
        url = self.clone()
        try:
            yield url
        finally:
            self.drop(url)


def make_template(url: str, workdir: Path, admin_url: str | None) -> Template:
    """Seed ``url`` and close it so it can be copied (a PG template needs no connections)."""
    db = seeded_database(url)
    db.close()
    return Template(url=url, admin_url=admin_url, workdir=workdir)


__all__ = [
    "FIRST_DAY",
    "LEDGER",
    "LOT_DRAWS",
    "REVERSED",
    "SKUS",
    "Template",
    "append_only_off",
    "dialect_of",
    "drop_check",
    "execute",
    "make_template",
    "seed",
    "seeded_database",
    "unguarded",
]


def damage_index_page(path: Path, index: str) -> None:
    """Overwrite the b-tree header of ``index``'s root page, as a torn write would."""
    conn = sqlite3.connect(path)
    try:
        root = conn.execute("SELECT rootpage FROM sqlite_master WHERE name = ?", (index,))
        page = root.fetchone()[0]
        page_size = conn.execute("PRAGMA page_size").fetchone()[0]
        conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    finally:
        conn.close()
    with path.open("r+b") as handle:
        handle.seek((page - 1) * page_size + 3)
        handle.write(b"\xff\xff")
