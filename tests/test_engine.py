"""The engine factory: PRAGMAs on every pooled connection, the leak warning, URLs, close()."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest
import structlog
from sqlalchemy import text

from inventory_core import Database
from inventory_core.db.engine import (
    JOURNAL_SIZE_LIMIT,
    ConnectionTracker,
    make_engine,
    normalize_url,
    sqlite_path,
)
from inventory_core.errors import DatabaseClosedError, UnsupportedDatabaseError
from tests.db_support import test_settings
from tests.uow_support import file_size

PRAGMAS = ("journal_mode", "foreign_keys", "synchronous", "busy_timeout", "temp_store")


def test_pragmas_are_set_on_every_pooled_connection(tmp_path: Path) -> None:
    """Three connections checked out at once each report WAL, FK on, NORMAL, the timeouts."""
    settings = test_settings(busy_timeout_ms=1234, cache_size_kib=4096)
    engine = make_engine(f"sqlite:///{tmp_path / 'a.db'}", settings)
    connections = [engine.connect() for _ in range(3)]
    try:
        seen = set()
        for conn in connections:
            values = {p: conn.exec_driver_sql(f"PRAGMA {p}").scalar() for p in PRAGMAS}
            assert values == {
                "journal_mode": "wal",
                "foreign_keys": 1,
                "synchronous": 1,
                "busy_timeout": 1234,
                "temp_store": 2,
            }
            assert conn.exec_driver_sql("PRAGMA journal_size_limit").scalar() == JOURNAL_SIZE_LIMIT
            assert conn.exec_driver_sql("PRAGMA cache_size").scalar() == -4096
            seen.add(id(conn.connection.driver_connection))
        assert len(seen) == 3, "three distinct DBAPI connections were checked"
    finally:
        for conn in connections:
            conn.close()
        engine.dispose()


def test_write_units_begin_immediate_and_reads_begin_deferred(db: Database) -> None:
    """A write unit holds the write lock from its start; a read unit takes no write lock."""
    assert db.path is not None
    probe = sqlite3.connect(db.path, isolation_level=None, timeout=0)
    try:
        with db.read():
            probe.execute("BEGIN IMMEDIATE")
            probe.execute("ROLLBACK")
        with db.unit_of_work(), pytest.raises(sqlite3.OperationalError, match="locked"):
            probe.execute("BEGIN IMMEDIATE")
    finally:
        probe.close()


def test_leak_warning_fires_when_connections_are_not_returned(tmp_path: Path) -> None:
    """Checking out more connections than the threshold logs connection_leak_suspected."""
    settings = test_settings(connection_leak_threshold=2)
    tracker = ConnectionTracker(settings.connection_leak_threshold)
    engine = make_engine(f"sqlite:///{tmp_path / 'a.db'}", settings, tracker)
    with structlog.testing.capture_logs() as logs:
        held = [engine.connect() for _ in range(2)]
        assert not [e for e in logs if e["event"] == "connection_leak_suspected"]
        held.append(engine.connect())
    leaks = [e for e in logs if e["event"] == "connection_leak_suspected"]
    assert len(leaks) == 1
    assert leaks[0]["checked_out"] == 3 and leaks[0]["threshold"] == 2
    assert leaks[0]["log_level"] == "warning"
    for conn in held:
        conn.close()
    assert tracker.checked_out == 0 and tracker.peak == 3
    engine.dispose()


def test_units_of_work_return_their_connections(db: Database) -> None:
    """After many units of work, reads and failures included, no connection stays out."""
    for n in range(30):
        db.run(
            lambda uow, n=n: uow.execute(
                text("INSERT INTO settings(key, value, updated_at) VALUES (:k, 'v', '')"),
                {"k": f"k{n}"},
            )
        )
        with db.read() as uow:
            uow.execute(text("SELECT 1"))
    with pytest.raises(RuntimeError), db.unit_of_work():
        raise RuntimeError("boom")
    assert db.tracker.checked_out == 0
    assert db.tracker.warnings == 0


def test_close_checkpoints_and_truncates_the_wal(tmp_path: Path) -> None:
    """close() moves the WAL into the database: the -wal file ends empty, data intact."""
    path = tmp_path / "inventory.db"
    db = Database.open(f"sqlite:///{path}", settings=test_settings())
    db.upgrade()
    for n in range(50):
        db.run(
            lambda uow, n=n: uow.execute(
                text("INSERT INTO settings(key, value, updated_at) VALUES (:k, :v, '')"),
                {"k": f"k{n}", "v": "x" * 2000},
            )
        )
    wal = path.with_name(path.name + "-wal")
    before = file_size(wal)
    db.close()
    after = file_size(wal)
    assert before > 100_000
    assert after == 0
    conn = sqlite3.connect(path)
    try:
        assert conn.execute("SELECT count(*) FROM settings").fetchone()[0] == 50
    finally:
        conn.close()


def test_a_closed_database_refuses_new_units(db: Database) -> None:
    """After close(), unit_of_work() and read() raise DatabaseClosedError (DB_014)."""
    db.close()
    with pytest.raises(DatabaseClosedError):
        db.unit_of_work()
    with pytest.raises(DatabaseClosedError):
        db.read()
    db.close()


def test_a_plain_path_becomes_an_absolute_sqlite_url(tmp_path: Path) -> None:
    """normalize_url turns a path into sqlite:///<absolute> and postgresql:// into psycopg."""
    url = normalize_url(tmp_path / "shop.db")
    assert url.drivername == "sqlite"
    assert sqlite_path(url) == (tmp_path / "shop.db").resolve()
    assert normalize_url("postgresql://u@h/db").drivername == "postgresql+psycopg"
    assert sqlite_path(normalize_url("sqlite://")) is None


def test_an_unsupported_backend_is_refused() -> None:
    """A MySQL URL gives UnsupportedDatabaseError (DB_013)."""
    with pytest.raises(UnsupportedDatabaseError) as caught:
        normalize_url("mysql://user:secret@host/db")
    assert caught.value.code == "DB_013"
    assert "secret" not in caught.value.message


@pytest.mark.postgres
def test_postgresql_write_units_are_serializable(pg_url: str) -> None:
    """On PostgreSQL a write unit runs at SERIALIZABLE and a read unit at the default level."""
    db = Database.open(pg_url, settings=test_settings())
    try:
        with db.unit_of_work() as uow:
            level = uow.execute(text("SHOW transaction_isolation")).scalar_one()
        with db.read() as uow:
            read_level = uow.execute(text("SHOW transaction_isolation")).scalar_one()
    finally:
        db.close()
    assert level == "serializable"
    assert read_level == "read committed"
