"""What schema-based sharding (Citus) needs of the library, checked on the wire.

A store can move to another node with its schema only if every statement the library sends
stays inside the store: no table qualified by another schema (no cross-schema join), the
sequences behind its ids in its own schema, and advisory locks keyed per store. Every
message each connection sends is captured with libpq's own protocol trace
(``PGconn.trace``), so the prepared statements that bypass SQLAlchemy's events are seen too.
"""

from __future__ import annotations

import re
import threading
from collections.abc import Iterator
from datetime import date
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import create_engine, event, text
from sqlalchemy.pool import ConnectionPoolEntry

from inventory_core import Database, Inventory, ReceiptLine
from inventory_core.audit import verify
from inventory_core.audit.trail import Operation, append
from inventory_core.backup.csv_snapshot import export_csv
from inventory_core.db.chain_head import PG_AUDIT_LOCK_KEY
from inventory_core.db.stores import store_lock_key
from inventory_core.invariants import check_all
from tests.db_support import test_settings

pytestmark = pytest.mark.postgres

STORES = ("shop_a", "shop_b")
D1, D2, D3 = date(2026, 3, 1), date(2026, 3, 2), date(2026, 3, 9)
_QUALIFIER = re.compile(r'(?<![\w."$])"?([A-Za-z_][\w$]*)"?\s*\.\s*"?[A-Za-z_*]')
_MESSAGE = re.compile(r"^\S+ \S+\t([FB])\t\d+\t")


def _sent(path: Path) -> str:
    """What the client sent in a libpq trace: its messages (F), continuation lines included."""
    kept: list[str] = []
    frontend = False
    for line in path.read_text(errors="replace").splitlines():
        found = _MESSAGE.match(line)
        if found is not None:
            frontend = found[1] == "F"
        if frontend:
            kept.append(line)
    return "\n".join(kept)


def _traced(db: Database, folder: Path) -> list[Path]:
    """Trace every new connection of ``db`` into a file of its own."""
    files: list[Path] = []
    handles: list[Any] = []

    @event.listens_for(db.engine, "connect")
    def _trace(dbapi_conn: Any, _record: ConnectionPoolEntry) -> None:
        path = folder / f"{db.schema}-{len(files)}.trace"
        handle = path.open("w")
        handles.append(handle)  # kept open for as long as the connection lives
        files.append(path)
        dbapi_conn.pgconn.trace(handle.fileno())

    db.engine.dispose()  # the connections made while opening were not traced
    return files


def _workload(db: Database, sku: str, folder: Path) -> None:
    inv = Inventory(db, user="op")
    inv.add_sku(sku, f"{sku} item", pack_size=1, moq=1, lead_time_days=2)
    inv.snapshot(sku, 40, on=D1)
    order_id = inv.order(sku, 10, on=D1, expected=D2)
    inv.receive(f"DDT-{sku}", [ReceiptLine(sku, 10, order_id=order_id)], on=D2)
    sale = inv.sell(sku, 3, on=D2)
    inv.revert(sale, reason="till error")
    inv.waste(sku, 1, on=D2)
    inv.stock_all(asof=D3)
    inv.history(sku)
    assert check_all(db, full=True).status.name == "HEALTHY"
    assert verify(db).ok
    export_csv(db, folder / f"snapshot-{db.schema}")


@pytest.fixture
def stores(pg_url: str) -> Iterator[list[Database]]:
    """Two migrated stores in one fresh server database."""
    opened = []
    for schema in STORES:
        db = Database.open(pg_url, settings=test_settings(), schema=schema)
        db.upgrade()
        opened.append(db)
    yield opened
    for db in opened:
        db.close()


def test_no_statement_names_a_schema_of_a_store(
    stores: list[Database], tmp_path: Path, pg_url: str
) -> None:
    """Every statement sent during a full workload names no store's schema, nor ``public``."""
    traces = {db.schema: _traced(db, tmp_path) for db in stores}
    for db, sku in zip(stores, ("BIRRA", "VINO"), strict=True):
        _workload(db, sku, tmp_path)
    for db in stores:
        db.engine.dispose()
    sent = "\n".join(_sent(path) for files in traces.values() for path in files)
    assert "Parse" in sent and "INSERT INTO transactions" in sent  # the capture works
    qualifiers = {found.lower() for found in _QUALIFIER.findall(sent)}
    engine = create_engine(pg_url)
    with engine.connect() as conn:
        schemas = set(conn.execute(text("SELECT nspname FROM pg_namespace")).scalars())
    engine.dispose()
    named = qualifiers & schemas
    assert named <= {"pg_catalog", "information_schema"}, named
    assert not named & {*STORES, "public"}


def test_every_sequence_lives_in_its_store(stores: list[Database], pg_url: str) -> None:
    """The identity/serial sequences of each store are in its schema, the same set in each."""
    engine = create_engine(pg_url)
    with engine.connect() as conn:
        rows = conn.execute(
            text(
                "SELECT s.schemaname, s.sequencename, d.refobjid::regclass::text "
                "FROM pg_sequences s JOIN pg_class c ON c.relname = s.sequencename "
                "JOIN pg_namespace n ON n.oid = c.relnamespace AND n.nspname = s.schemaname "
                "JOIN pg_depend d ON d.objid = c.oid AND d.deptype IN ('a', 'i')"
            )
        ).all()
    engine.dispose()
    by_store = {
        schema: {r.sequencename for r in rows if r.schemaname == schema} for schema in STORES
    }
    assert {r.schemaname for r in rows} == set(STORES)
    assert (
        by_store["shop_a"] == by_store["shop_b"] and "audit_log_audit_id_seq" in by_store["shop_a"]
    )
    for row in rows:  # each sequence is owned by a table of its own store
        owner = row[2]
        assert owner.startswith(f"{row.schemaname}.") or "." not in owner


def test_advisory_locks_are_per_store(stores: list[Database]) -> None:
    """Both stores hold their writer and audit locks at the same time, under distinct keys."""
    both_held = threading.Barrier(2, timeout=60)
    held: dict[str, set[int]] = {}

    def hold(db: Database) -> None:
        with db.unit_of_work() as uow:
            append(uow, Operation.MIGRATION, user="x", details={})
            keys = uow.scalars(
                text(
                    "SELECT (classid::bigint << 32) | objid::bigint FROM pg_locks "
                    "WHERE locktype = 'advisory' AND granted AND pid = pg_backend_pid()"
                ),
                {},
            )
            held[str(db.schema)] = {int(k) for k in keys}
            both_held.wait()
            uow.rollback()

    threads = [threading.Thread(target=hold, args=(db,)) for db in stores]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=90)
    for schema in STORES:
        expected = {store_lock_key(PG_AUDIT_LOCK_KEY, schema)}  # session and transaction level
        assert held[schema] == expected
    assert not held["shop_a"] & held["shop_b"]
