"""A process that forks after opening the database does not share pooled connections."""

from __future__ import annotations

import json
import os
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest
from sqlalchemy import text

from inventory_core import Database
from tests.db_support import test_settings
from tests.uow_support import REPO

# Run in its own interpreter: forking the pytest process itself would copy its threads.
# The parent marks its write connection (kept between write units) with a TEMP table (temp
# tables live in one connection only), forks, and both sides write and report which
# connection their write units got.
SCRIPT = r"""
import json, os, sys
from sqlalchemy import text
from inventory_core import Database, Settings

url, out_dir, writes = sys.argv[1], sys.argv[2], int(sys.argv[3])
db = Database.open(url, settings=Settings.load(busy_timeout_ms=10000), check=None)
INSERT = text("INSERT INTO settings(key, value, updated_at) VALUES (:k, 'v', '')")
with db.unit_of_work() as uow:
    uow.execute(text("CREATE TEMP TABLE parent_marker(x INTEGER)"))
    uow.execute(INSERT, {"k": "before-fork"})
    uow.commit()

def report(role):
    for n in range(writes):
        db.run(lambda uow: uow.execute(INSERT, {"k": f"{role}-{n}"}))
    with db.unit_of_work() as uow:
        marker = uow.execute(text(
            "SELECT count(*) FROM sqlite_temp_master WHERE name = 'parent_marker'"
        )).scalar_one()
        rows = uow.execute(text("SELECT count(*) FROM settings WHERE key LIKE :p"),
                           {"p": role + "-%"}).scalar_one()
        pid = uow.connection.connection.info.get("pid")
    with open(os.path.join(out_dir, role + ".json"), "w") as fh:
        json.dump({"marker": marker, "rows": rows, "pid": pid, "me": os.getpid()}, fh)

child = os.fork()
if child == 0:
    try:
        report("child")
    finally:
        db.engine.dispose()
        os._exit(0)
report("parent")
_, status = os.waitpid(child, 0)
db.close()
sys.exit(os.waitstatus_to_exitcode(status))
"""


def _run_forking_script(tmp_path: Path, url: str, writes: int) -> tuple[dict[str, int], ...]:
    script = tmp_path / "forking_server.py"
    script.write_text(SCRIPT)
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    result = subprocess.run(
        [sys.executable, str(script), url, str(tmp_path), str(writes)],
        capture_output=True,
        text=True,
        env=env,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr
    parent = json.loads((tmp_path / "parent.json").read_text())
    child = json.loads((tmp_path / "child.json").read_text())
    return parent, child


@pytest.mark.skipif(not hasattr(os, "fork"), reason="needs os.fork")
def test_forked_child_gets_its_own_connection_and_both_write(tmp_path: Path) -> None:
    """After a fork the child opens fresh connections; parent and child both write and read."""
    url = f"sqlite:///{tmp_path / 'inventory.db'}"
    db = Database.open(url, settings=test_settings())
    db.upgrade()
    db.close()
    parent, child = _run_forking_script(tmp_path, url, writes=50)
    assert parent["marker"] == 1, "the parent keeps its own write connection"
    assert child["marker"] == 0, "the child never used the parent's connection"
    assert child["pid"] == child["me"] != parent["me"] == parent["pid"]
    assert parent["rows"] == child["rows"] == 50
    conn = sqlite3.connect(tmp_path / "inventory.db")
    try:
        assert conn.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
        assert conn.execute("SELECT count(*) FROM settings").fetchone()[0] == 101
    finally:
        conn.close()


# A thread of the parent is inside a write unit of work (holding this process's writer lock,
# and on SQLite the file's write lock) when the main thread forks. The writer lock is copied
# into the child in its held state, but the thread that would release it does not exist there.
FORK_WHILE_WRITING = r"""
import json, os, sys, threading, time
from sqlalchemy import text
from inventory_core import Database, Settings
from inventory_core.errors import InventoryError

url, out = sys.argv[1], sys.argv[2]
settings = Settings.load(busy_timeout_ms=200, retry_attempts=3, retry_max_delay_s=0.1,
                         writer_lock_timeout_s=5)
db = Database.open(url, settings=settings, check=None)
INSERT = text("INSERT INTO settings(key, value, updated_at) VALUES (:k, 'v', '')")
holding, done = threading.Event(), threading.Event()

def slow_writer():
    with db.unit_of_work() as uow:
        uow.execute(INSERT, {"k": "parent-thread"})
        holding.set()
        done.wait(10)
        uow.commit()

thread = threading.Thread(target=slow_writer, name="parent-slow-writer")
thread.start()
holding.wait(10)
child = os.fork()
if child == 0:
    started = time.monotonic()
    try:
        db.run(lambda uow: uow.execute(INSERT, {"k": "child"}))
        result = {"ok": True}
    except InventoryError as exc:
        result = {"ok": False, "code": exc.code}
    result["waited_s"] = time.monotonic() - started
    with open(out, "w") as fh:
        json.dump(result, fh)
    db.engine.dispose()
    os._exit(0)
time.sleep(0.3)
done.set()
thread.join()
os.waitpid(child, 0)
db.close()
"""


@pytest.mark.skipif(not hasattr(os, "fork"), reason="needs os.fork")
def test_a_child_forked_during_a_write_is_not_stuck_on_the_parents_writer_lock(
    tmp_path: Path, any_url: str
) -> None:
    """A child forked mid-write never waits for the parent's writer lock (no DB_003).

    On PostgreSQL the child writes. On SQLite it cannot: the child inherits SQLite's
    per-process lock bookkeeping with the parent's write lock in it (SQLite forbids using
    connections across fork), so its write fails cleanly with DB_002 after the retry
    budget, and nothing of it is written. Fork before or between units of work.
    """
    db = Database.open(any_url, settings=test_settings())
    db.upgrade()
    db.close()
    script = tmp_path / "fork_while_writing.py"
    script.write_text(FORK_WHILE_WRITING)
    out = tmp_path / "child.json"
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    result = subprocess.run(
        [sys.executable, str(script), any_url, str(out)],
        capture_output=True,
        text=True,
        env=env,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr
    child = json.loads(out.read_text())
    db = Database.open(any_url, settings=test_settings())
    with db.read() as uow:
        keys = set(uow.execute(text("SELECT key FROM settings")).scalars())
    db.close()
    assert child.get("code") != "DB_003", "the child waited for a lock no thread holds"
    if any_url.startswith("postgresql"):
        assert child["ok"], child
        assert keys == {"parent-thread", "child"}
    else:
        assert child == {"ok": False, "code": "DB_002", "waited_s": child["waited_s"]}
        assert child["waited_s"] < 3.0
        assert keys == {"parent-thread"}


@pytest.mark.slow
@pytest.mark.skipif(not hasattr(os, "fork"), reason="needs os.fork")
def test_forked_child_and_parent_write_many_units_without_loss(tmp_path: Path) -> None:
    """Long variant: 2,000 units on each side of the fork, every one present afterwards."""
    url = f"sqlite:///{tmp_path / 'inventory.db'}"
    db = Database.open(url, settings=test_settings())
    db.upgrade()
    db.close()
    parent, child = _run_forking_script(tmp_path, url, writes=2000)
    assert child["marker"] == 0
    assert parent["rows"] == child["rows"] == 2000
