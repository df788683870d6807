"""The write connection kept between write units on a SQLite file, and the retry hand-over."""

from __future__ import annotations

import sqlite3
import threading
from pathlib import Path
from typing import Any

import pytest
import structlog
from sqlalchemy import text

from inventory_core import Database
from inventory_core.db.uow import UnitOfWork
from inventory_core.errors import DatabaseLockedError
from tests.db_support import test_settings
from tests.uow_support import release, start, wait_ready

INSERT = text("INSERT INTO settings(key, value, updated_at) VALUES (:k, 'v', '')")
MARKED = text("SELECT count(*) FROM sqlite_temp_master WHERE name = 'writer_marker'")


def _mark(uow: UnitOfWork) -> None:
    uow.execute(text("CREATE TEMP TABLE writer_marker(x INTEGER)"))


def _marked(uow: UnitOfWork) -> int:
    return int(uow.execute(MARKED).scalar_one())


def _driver(uow: UnitOfWork) -> sqlite3.Connection:
    driver = uow.connection.connection.driver_connection
    assert isinstance(driver, sqlite3.Connection)
    return driver


def _rows(path: Path) -> int:
    conn = sqlite3.connect(path)
    try:
        return int(conn.execute("SELECT count(*) FROM settings").fetchone()[0])
    finally:
        conn.close()


def test_write_units_share_one_kept_connection_that_is_not_counted_as_a_leak(
    db: Database,
) -> None:
    """A TEMP table made in one write unit is seen by the next; nothing counts as checked out."""
    db.run(_mark)
    assert db.run(_marked) == 1
    assert db.tracker.checked_out == 0
    with db.read() as uow:
        assert _marked(uow) == 0, "read units keep using pooled connections"


def test_write_units_from_many_threads_take_turns_on_the_kept_connection(db: Database) -> None:
    """Eight threads x 25 units through the one connection: every row lands, none twice."""
    errors: list[BaseException] = []

    def writer(n: int) -> None:
        try:
            for k in range(25):
                db.run(lambda uow, k=k: uow.execute(INSERT, {"k": f"t{n}-{k}"}))
        except BaseException as exc:  # pragma: no cover - reported below
            errors.append(exc)

    threads = [threading.Thread(target=writer, args=(n,)) for n in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    assert db.path is not None
    assert _rows(db.path) == 200
    assert db.tracker.checked_out == 0


def test_disposing_the_engine_closes_the_kept_connection(db: Database) -> None:
    """engine.dispose() closes it; the next unit connects afresh."""
    db.run(_mark)
    old = db.run(_driver)
    db.engine.dispose()
    with pytest.raises(sqlite3.ProgrammingError, match="closed"):
        old.execute("SELECT 1")
    assert db.run(_marked) == 0
    db.run(lambda uow: uow.execute(INSERT, {"k": "after-dispose"}))
    assert db.path is not None
    assert _rows(db.path) == 1


def test_closing_the_database_closes_the_kept_connection(tmp_path: Path) -> None:
    """Database.close() closes it before the final checkpoint, which then empties the WAL."""
    path = tmp_path / "inventory.db"
    db = Database.open(path, settings=test_settings())
    db.upgrade()
    db.run(lambda uow: uow.execute(INSERT, {"k": "one"}))
    kept = db.run(_driver)
    db.close()
    with pytest.raises(sqlite3.ProgrammingError, match="closed"):
        kept.execute("SELECT 1")
    wal = Path(f"{path}-wal")
    assert not wal.exists() or wal.stat().st_size == 0
    assert _rows(path) == 1


def test_an_invalidated_connection_is_replaced_for_the_next_unit(db: Database) -> None:
    """A unit whose connection was invalidated fails alone; the next one gets a new connection."""
    db.run(_mark)

    def break_it(uow: UnitOfWork) -> None:
        uow.execute(INSERT, {"k": "lost"})
        uow.connection.invalidate()
        raise RuntimeError("the connection broke")

    with pytest.raises(RuntimeError, match="broke"):
        db.run(break_it)
    assert db.run(_marked) == 0
    db.run(lambda uow: uow.execute(INSERT, {"k": "kept"}))
    assert db.path is not None
    assert _rows(db.path) == 1
    assert db.tracker.checked_out == 0


def test_a_failed_first_attempt_is_retried_by_tenacity_with_the_full_budget(
    tmp_path: Path,
) -> None:
    """A lock that outlasts every attempt: fn never runs, 3 attempts, 2 logged retries, DB_002."""
    settings = test_settings(busy_timeout_ms=150, retry_attempts=3, retry_max_delay_s=0.05)
    db = Database.open(tmp_path / "inventory.db", settings=settings)
    db.upgrade()
    assert db.path is not None
    holder = start("hold", str(db.path), "exclusive", "stdin")
    wait_ready(holder)
    calls: list[Any] = []
    try:
        with structlog.testing.capture_logs() as logs, pytest.raises(DatabaseLockedError) as caught:
            db.run(calls.append)
    finally:
        release(holder)
    retries = [e["attempt"] for e in logs if e["event"] == "unit_of_work_retry"]
    assert retries == [1, 2]
    assert caught.value.context["attempts"] == 3
    assert calls == []
    db.run(lambda uow: uow.execute(INSERT, {"k": "after"}))
    assert _rows(db.path) == 1
    db.close()
