"""The unit of work across real processes: waiting, the read-then-write trap, retries."""

from __future__ import annotations

import json
import sqlite3
import threading
import time
from pathlib import Path
from typing import Any

import pytest
import structlog
from sqlalchemy import text

from inventory_core import Database
from inventory_core.db.uow import UnitOfWork
from inventory_core.errors import (
    ConstraintViolationError,
    DatabaseError,
    DatabaseLockedError,
    WriterTimeoutError,
)
from tests.db_support import test_settings
from tests.uow_support import count, finish, release, start, wait_ready

INSERT = text("INSERT INTO settings(key, value, updated_at) VALUES (:k, :v, '')")
SELECT = text("SELECT value FROM settings WHERE key = :k")


def _insert(key: str, value: str = "v") -> Any:
    return lambda uow: uow.execute(INSERT, {"k": key, "v": value})


def test_second_process_write_waits_for_the_first_then_succeeds(db: Database) -> None:
    """A write queued behind another process's 1 s write transaction waits for it, no error."""
    holder = start("hold_uow", db.display_url, "1.0", "first")
    wait_ready(holder)
    started = time.monotonic()
    db.run(_insert("second"))
    waited = time.monotonic() - started
    finish(holder)
    assert waited >= 0.8
    assert db.path is not None
    assert count(db.path) == 2


def test_read_then_write_in_a_deferred_transaction_fails_at_once(db: Database) -> None:
    """Raw sqlite3: a deferred read transaction that then writes gets SQLITE_BUSY immediately."""
    assert db.path is not None
    conn = sqlite3.connect(db.path, isolation_level=None)
    conn.execute("PRAGMA busy_timeout=5000")
    conn.execute("BEGIN")
    conn.execute("SELECT count(*) FROM settings").fetchone()
    outsider = start("insert", str(db.path), "other")
    wait_ready(outsider)
    finish(outsider)
    started = time.monotonic()
    with pytest.raises(sqlite3.OperationalError, match="database is locked") as caught:
        conn.execute("INSERT INTO settings(key, value, updated_at) VALUES ('mine', 'v', '')")
    elapsed = time.monotonic() - started
    conn.execute("ROLLBACK")
    conn.close()
    assert caught.value.sqlite_errorname == "SQLITE_BUSY_SNAPSHOT"
    assert elapsed < 1.0, "the failure comes at once, busy_timeout does not help"


def test_read_then_write_through_the_unit_of_work_does_not_fail(db: Database) -> None:
    """The same read-then-write inside db.run succeeds: BEGIN IMMEDIATE took the lock first."""
    assert db.path is not None
    outsider: list[Any] = []

    def read_then_write(uow: UnitOfWork) -> None:
        seen = uow.execute(text("SELECT count(*) FROM settings")).scalar_one()
        proc = start("insert", str(db.path), "other")
        outsider.append(proc)
        wait_ready(proc)
        time.sleep(0.3)
        uow.execute(INSERT, {"k": "mine", "v": str(seen)})

    db.run(read_then_write)
    waited = json.loads(finish(outsider[0]))["waited_s"]
    assert waited >= 0.2, "the outside writer really queued behind this unit"
    assert count(db.path) == 2
    with db.read() as uow:
        assert uow.execute(SELECT, {"k": "mine"}).scalar_one() == "0"


def test_lock_held_past_the_retry_budget_raises_database_locked(tmp_path: Path) -> None:
    """An outside EXCLUSIVE lock longer than busy_timeout x attempts gives DB_002, no write."""
    url = f"sqlite:///{tmp_path / 'inventory.db'}"
    settings = test_settings(busy_timeout_ms=200, retry_attempts=3, retry_max_delay_s=0.1)
    db = Database.open(url, settings=settings)
    db.upgrade()
    db.run(_insert("before"))
    assert db.path is not None
    holder = start("hold", str(db.path), "exclusive", "stdin")
    wait_ready(holder)
    started = time.monotonic()
    with pytest.raises(DatabaseLockedError) as caught:
        db.run(_insert("during"))
    elapsed = time.monotonic() - started
    release(holder)
    error = caught.value
    assert error.code == "DB_002"
    assert "3 attempts" in error.message
    assert any("retry" in step.lower() for step in error.recovery_steps)
    assert 0.5 <= elapsed < 3.0
    assert count(db.path) == 1
    db.run(_insert("after"))
    assert count(db.path) == 2
    db.close()


def test_non_lock_errors_are_never_retried(any_db: Database) -> None:
    """A CHECK violation and a plain Python exception run fn exactly once."""
    calls = {"check": 0, "python": 0}

    def bad_sku(uow: UnitOfWork) -> None:
        calls["check"] += 1
        uow.execute(
            text("INSERT INTO skus(sku, pack_size, created_at, updated_at) VALUES ('A', 0, '', '')")
        )

    def boom(uow: UnitOfWork) -> None:
        calls["python"] += 1
        uow.execute(INSERT, {"k": "lost", "v": "v"})
        raise RuntimeError("a bug in fn")

    with pytest.raises(ConstraintViolationError) as caught:
        any_db.run(bad_sku)
    with pytest.raises(RuntimeError):
        any_db.run(boom)
    assert caught.value.code == "REPO_004"
    assert calls == {"check": 1, "python": 1}
    with any_db.read() as uow:
        assert uow.execute(text("SELECT count(*) FROM settings")).scalar_one() == 0


def test_a_retried_unit_sees_what_the_other_process_committed(tmp_path: Path) -> None:
    """A unit retried after a lock error starts over and reads the other process's row."""
    url = f"sqlite:///{tmp_path / 'inventory.db'}"
    settings = test_settings(busy_timeout_ms=150, retry_attempts=10, retry_max_delay_s=0.1)
    db = Database.open(url, settings=settings)
    db.upgrade()
    holder = start("hold", str(db.path), "immediate", "0.6", "from-other")
    wait_ready(holder)
    seen: list[int] = []

    def count_then_insert(uow: UnitOfWork) -> None:
        seen.append(uow.execute(text("SELECT count(*) FROM settings")).scalar_one())
        uow.execute(INSERT, {"k": "mine", "v": "v"})

    with structlog.testing.capture_logs() as logs:
        db.run(count_then_insert)
    finish(holder)
    retries = [e for e in logs if e["event"] == "unit_of_work_retry"]
    assert retries, "the first attempts met the lock"
    assert seen == [1]
    db.close()


@pytest.mark.postgres
def test_a_serialization_failure_reruns_fn_which_rereads(pg_url: str) -> None:
    """On PostgreSQL a 40001 reruns the whole fn, which sees the other process's value."""
    db = Database.open(pg_url, settings=test_settings())
    db.upgrade()
    db.run(_insert("counter", "10"))
    values: list[int] = []

    def increment(uow: UnitOfWork) -> None:
        value = int(uow.execute(SELECT, {"k": "counter"}).scalar_one())
        values.append(value)
        if len(values) == 1:
            finish(start("set_value", pg_url, "counter", "100"))
        uow.execute(
            text("UPDATE settings SET value = :v WHERE key = 'counter'"), {"v": str(value + 1)}
        )

    db.run(increment)
    with db.read() as uow:
        final = uow.execute(SELECT, {"k": "counter"}).scalar_one()
    db.close()
    assert values == [10, 100]
    assert final == "101"


def test_writer_timeout_names_the_thread_holding_the_lock(tmp_path: Path) -> None:
    """A thread holding the write unit past writer_lock_timeout_s makes another fail with DB_003."""
    url = f"sqlite:///{tmp_path / 'inventory.db'}"
    db = Database.open(url, settings=test_settings(writer_lock_timeout_s=0.3))
    db.upgrade()
    holding = threading.Event()
    done = threading.Event()

    def hold() -> None:
        with db.unit_of_work() as uow:
            uow.execute(INSERT, {"k": "slow", "v": "v"})
            holding.set()
            done.wait(5)
            uow.commit()

    thread = threading.Thread(target=hold, name="slow-writer")
    thread.start()
    holding.wait(5)
    started = time.monotonic()
    with pytest.raises(WriterTimeoutError) as caught:
        db.run(_insert("fast"))
    elapsed = time.monotonic() - started
    done.set()
    thread.join()
    assert caught.value.code == "DB_003"
    assert "slow-writer" in caught.value.message
    assert 0.25 <= elapsed < 2.0
    db.run(_insert("fast"))
    with db.read() as uow:
        assert uow.execute(text("SELECT count(*) FROM settings")).scalar_one() == 2
    db.close()


def test_a_nested_write_unit_in_the_same_thread_is_refused(any_db: Database) -> None:
    """Opening a second write unit inside the first would deadlock, so it fails at once."""
    with any_db.unit_of_work(), pytest.raises(DatabaseError, match="already open"):
        any_db.unit_of_work().__enter__()


def test_uncommitted_work_is_rolled_back_at_the_end_of_the_block(db: Database) -> None:
    """Leaving the with block without commit() keeps nothing."""
    with db.unit_of_work() as uow:
        uow.execute(INSERT, {"k": "dropped", "v": "v"})
    assert db.path is not None
    assert count(db.path) == 0


def test_after_commit_callbacks_run_only_after_a_commit(any_db: Database) -> None:
    """after_commit callbacks fire once after commit and never after a rollback."""
    fired: list[str] = []
    with any_db.unit_of_work() as uow:
        uow.after_commit.append(lambda: fired.append("rolled back"))
    any_db.run(lambda uow: uow.after_commit.append(lambda: fired.append("committed")))
    assert fired == ["committed"]


def test_a_read_unit_cannot_commit(any_db: Database) -> None:
    """A read unit of work refuses commit()."""
    with any_db.read() as uow, pytest.raises(DatabaseError, match="cannot commit"):
        uow.commit()


def test_writer_subprocess_reports_its_elapsed_time(db: Database) -> None:
    """The 'write' helper goes through db.run in another process and its row is visible here."""
    out = finish(start("write", db.display_url, "from-child"))
    assert json.loads(out)["elapsed_s"] >= 0
    with db.read() as uow:
        assert uow.execute(SELECT, {"k": "from-child"}).scalar_one() == "w"
