"""Lock storms and WAL growth: an outside lock, readers during it, and a long-lived reader."""

from __future__ import annotations

import json
import sqlite3
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import text

from inventory_core import Database
from inventory_core.db.engine import JOURNAL_SIZE_LIMIT
from inventory_core.errors import DatabaseLockedError
from tests.db_support import test_settings
from tests.uow_support import count, file_size, release, start, wait_ready

INSERT = text("INSERT INTO settings(key, value, updated_at) VALUES (:k, :v, '')")
MIB = 1024 * 1024


@pytest.fixture
def small_budget_db(tmp_path: Path) -> Iterator[Database]:
    """A migrated database with a small lock budget: 200 ms busy timeout, 3 attempts."""
    settings = test_settings(busy_timeout_ms=200, retry_attempts=3, retry_max_delay_s=0.1)
    db = Database.open(f"sqlite:///{tmp_path / 'inventory.db'}", settings=settings)
    db.upgrade()
    yield db
    db.close()


def _storm(db: Database, writes: int) -> list[float]:
    """Hold an outside EXCLUSIVE lock while ``writes`` units try to write and readers read."""
    assert db.path is not None
    db.run(lambda uow: uow.execute(INSERT, {"k": "before", "v": "v"}))
    holder = start("hold", str(db.path), "exclusive", "stdin")
    wait_ready(holder)
    failures: list[float] = []
    try:
        for n in range(writes):
            started = time.monotonic()
            with pytest.raises(DatabaseLockedError) as caught:
                db.run(lambda uow, n=n: uow.execute(INSERT, {"k": f"during-{n}", "v": "v"}))
            failures.append(time.monotonic() - started)
            assert caught.value.code == "DB_002"
            assert caught.value.recovery_steps
            # In WAL mode a reader needs no lock the writer holds: without WAL this read
            # would itself fail with DB_002 after busy_timeout.
            with db.read() as uow:
                seen = uow.execute(text("SELECT count(*) FROM settings")).scalar_one()
            assert seen == 1, "readers keep working and see the last committed state"
    finally:
        release(holder)
    assert count(db.path) == 1, "nothing was half-written during the storm"
    db.run(lambda uow: uow.execute(INSERT, {"k": "after", "v": "v"}))
    assert count(db.path) == 2, "writes work again without reopening anything"
    return failures


def test_writes_fail_in_bounded_time_during_an_outside_lock_and_recover(
    small_budget_db: Database,
) -> None:
    """Under an outside EXCLUSIVE lock writes fail with DB_002 in bounded time; reads go on."""
    failures = _storm(small_budget_db, writes=3)
    budget = 3 * 0.2 + 2 * (0.1 + 0.05)
    print(json.dumps({"lock_storm_failure_s": [round(f, 3) for f in failures]}))
    assert all(0.5 <= f <= budget + 1.0 for f in failures), failures


@pytest.mark.slow
def test_a_long_lock_storm_keeps_failing_cleanly(small_budget_db: Database) -> None:
    """Long variant: 40 writes in a row meet the lock, each failing cleanly and boundedly."""
    failures = _storm(small_budget_db, writes=40)
    assert max(failures) < 3.0


def _fill(db: Database, units: int, prefix: str, blob: str) -> None:
    for n in range(units):
        db.run(lambda uow, n=n: uow.execute(INSERT, {"k": f"{prefix}-{n}", "v": blob}))


def _wal_growth(tmp_path: Path, units: int) -> dict[str, int]:
    url = f"sqlite:///{tmp_path / 'inventory.db'}"
    db = Database.open(url, settings=test_settings())
    db.upgrade()
    assert db.path is not None
    wal = db.path.with_name(db.path.name + "-wal")
    blob = "x" * 16_000
    reader = start("read_open", str(db.path), "stdin")
    wait_ready(reader)
    _fill(db, units, "pinned", blob)
    sizes = {"with_reader": file_size(wal)}
    out = release(reader)
    assert json.loads(out.strip().splitlines()[-1])["rows_seen"] == 0
    _fill(db, units, "free", blob)
    sizes["after_reader_closed"] = file_size(wal)
    db.close()
    sizes["after_close"] = file_size(wal)
    conn = sqlite3.connect(db.path)
    try:
        assert conn.execute("SELECT count(*) FROM settings").fetchone()[0] == 2 * units
        assert conn.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
    finally:
        conn.close()
    print(json.dumps({"wal_bytes": sizes, "units": units, "blob_bytes": len(blob)}))
    return sizes


def test_a_long_lived_reader_lets_the_wal_grow_until_it_closes(tmp_path: Path) -> None:
    """A pinned snapshot grows the WAL; without it the WAL stops growing; close() empties it."""
    sizes = _wal_growth(tmp_path, units=400)
    autocheckpoint_bytes = 1000 * 4096
    assert sizes["with_reader"] > autocheckpoint_bytes, "the reader blocked checkpoints"
    # Without the reader, 400 more units (about 7 MiB) reuse the WAL from its start: it grows
    # at most by the one commit that ran before the first complete checkpoint.
    assert sizes["after_reader_closed"] < sizes["with_reader"] + MIB, "the WAL kept growing"
    assert sizes["after_close"] == 0


@pytest.mark.slow
def test_journal_size_limit_caps_a_wal_that_grew_past_it(tmp_path: Path) -> None:
    """Long variant: a WAL pushed past journal_size_limit shrinks back to the limit once reset."""
    sizes = _wal_growth(tmp_path, units=5000)
    assert sizes["with_reader"] > JOURNAL_SIZE_LIMIT
    assert sizes["after_reader_closed"] <= JOURNAL_SIZE_LIMIT + 2 * MIB
    assert sizes["after_close"] == 0
