"""Single-statement reads: one autocommit connection per thread, safe across processes,
forks, close and restore."""

from __future__ import annotations

import contextlib
import gc
import json
import os
import subprocess
import sys
import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any, TypeVar

import pytest
from sqlalchemy import text

from inventory_core import Database, Inventory
from inventory_core.backup import BackupService
from inventory_core.db.prepared import Prepared
from inventory_core.errors import DatabaseClosedError, NotFoundError
from tests.db_support import test_settings
from tests.ledger_support import day
from tests.uow_support import REPO

T = TypeVar("T")

# Statements that only tell connections apart: a TEMP table exists in one connection only.
MARK = Prepared(text("CREATE TEMP TABLE IF NOT EXISTS reader_marker(x INTEGER)"))
MARKED = Prepared(text("SELECT count(*) FROM sqlite_temp_master WHERE name = 'reader_marker'"))


def _run(script: str, *args: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    return subprocess.run(
        [sys.executable, "-c", script, *args],
        capture_output=True,
        text=True,
        env=env,
        timeout=120,
    )


def _in_thread(fn: Callable[[], T]) -> T:
    with ThreadPoolExecutor(max_workers=1) as pool:
        return pool.submit(fn).result()


def test_a_read_sees_what_another_process_committed(db: Database) -> None:
    """A thread's kept connection reads the latest commit of another process, not a stale one."""
    inv = Inventory(db, user="tester")
    inv.add_sku("BIRRA")
    assert inv.get_sku("BIRRA").sku == "BIRRA"
    with pytest.raises(NotFoundError):
        inv.get_sku("VINO")
    writer = (
        "import sys, datetime\n"
        "from inventory_core import Database, Inventory, Settings\n"
        "db = Database.open(sys.argv[1], settings=Settings.load(), check=None)\n"
        "inv = Inventory(db, user='other')\n"
        "inv.add_sku('VINO', 'Vino rosso')\n"
        "inv.snapshot('VINO', 12, on=datetime.date(2026, 2, 1))\n"
        "db.close()\n"
    )
    done = _run(writer, str(db.url))
    assert done.returncode == 0, done.stderr
    assert inv.get_sku("VINO").description == "Vino rosso"
    assert inv.stock("VINO", asof=day(1)).on_hand == 12
    assert [e.qty for e in inv.history("VINO")] == [12]


def test_each_thread_reads_on_its_own_connection(db: Database) -> None:
    """A connection marked by one thread is never the one another thread reads on."""
    db.fetch(MARK, {})
    assert db.fetch(MARKED, {}) == [(1,)]
    assert _in_thread(lambda: db.fetch(MARKED, {})) == [(0,)]
    assert db.fetch(MARKED, {}) == [(1,)], "the thread keeps its connection between reads"


def _descriptors_on(path: Path) -> int:
    """How many file descriptors of this process have ``path`` open (Linux ``/proc``)."""
    count = 0
    for fd in Path("/proc/self/fd").iterdir():
        with contextlib.suppress(OSError):
            count += os.readlink(fd) == str(path)
    return count


@pytest.mark.skipif(not Path("/proc/self/fd").is_dir(), reason="needs Linux /proc")
def test_finished_threads_do_not_pile_up_descriptors(db: Database) -> None:
    """Twenty threads that read and end leave at most one descriptor on the file behind."""
    assert db.path is not None
    db.fetch(MARKED, {})
    before = _descriptors_on(db.path)
    for _ in range(20):
        thread = threading.Thread(target=db.fetch, args=(MARKED, {}))
        thread.start()
        thread.join()
    gc.collect()
    assert _descriptors_on(db.path) <= before + 1


@pytest.mark.skipif(not Path("/proc/self/fd").is_dir(), reason="needs Linux /proc")
@pytest.mark.xfail(
    strict=True,
    reason="known leak: one descriptor of a finished thread's reader connection stays open "
    "until Database.close (twenty threads used to leave up to seventeen)",
)
def test_a_thread_s_connection_goes_with_the_thread(db: Database) -> None:
    """Threads that read and end leave no connection behind; a living one keeps its own."""
    assert db.path is not None
    db.fetch(MARKED, {})
    before = _descriptors_on(db.path)
    threads = [threading.Thread(target=db.fetch, args=(MARKED, {})) for _ in range(20)]
    for thread in threads:
        thread.start()
        thread.join()
    gc.collect()
    assert _descriptors_on(db.path) == before
    read, finish = threading.Event(), threading.Event()

    def read_and_wait() -> None:
        db.fetch(MARKED, {})
        read.set()
        finish.wait(10)

    living = threading.Thread(target=read_and_wait)
    living.start()
    try:
        assert read.wait(10)
        assert _descriptors_on(db.path) == before + 1, "a living reader's connection is open"
    finally:
        finish.set()
        living.join()


def test_reads_after_close_raise_the_closed_error(db: Database) -> None:
    """After close every read, including one on a thread's kept connection, says DB_014."""
    inv = Inventory(db, user="tester")
    inv.add_sku("BIRRA")
    inv.get_sku("BIRRA")
    db.close()
    for read in (
        lambda: inv.get_sku("BIRRA"),
        lambda: inv.stock("BIRRA"),
        lambda: inv.history("BIRRA"),
        lambda: inv.lots("BIRRA"),
    ):
        with pytest.raises(DatabaseClosedError):
            read()


def test_reads_after_a_restore_see_the_restored_file(db: Database, tmp_path: Path) -> None:
    """Kept connections stay open across a restore and every thread reads the restored data."""
    inv = Inventory(db, user="tester")
    inv.add_sku("BIRRA")
    service = BackupService(db, tmp_path / "backups")
    backup = service.backup("before VINO")
    assert backup is not None
    inv.add_sku("VINO")
    with ThreadPoolExecutor(max_workers=1) as other:
        assert inv.get_sku("VINO").sku == other.submit(inv.get_sku, "VINO").result().sku
        service.restore(backup)
        for read in (
            lambda: inv.get_sku("VINO"),
            lambda: other.submit(inv.get_sku, "VINO").result(),
        ):
            with pytest.raises(NotFoundError):
                read()
        assert other.submit(inv.get_sku, "BIRRA").result().sku == "BIRRA"
    inv.add_sku("GRAPPA")
    url = db.url
    db.close()
    with Database.open(url, settings=test_settings()) as again:
        names = [r[0] for r in again.fetch(Prepared(text("SELECT sku FROM skus ORDER BY sku")), {})]
    assert names == ["BIRRA", "GRAPPA"], "a write after the restore survives reopening"


# Run in its own interpreter (forking pytest would copy its threads). The parent reads on two
# threads and marks the main thread's connection, then forks while the second thread keeps its
# connection open; the child must open its own.
FORK_SCRIPT = r"""
import json, os, sys, threading
from sqlalchemy import text
from inventory_core import Database, Inventory, Settings
from inventory_core.db.prepared import Prepared

url, out_dir = sys.argv[1], sys.argv[2]
MARK = Prepared(text("CREATE TEMP TABLE IF NOT EXISTS reader_marker(x INTEGER)"))
MARKED = Prepared(text("SELECT count(*) FROM sqlite_temp_master WHERE name = 'reader_marker'"))
db = Database.open(url, settings=Settings.load(busy_timeout_ms=10000), check=None)
inv = Inventory(db, user="parent")
inv.add_sku("PARENT")
db.fetch(MARK, {})
ready, idle = threading.Event(), threading.Event()
reader = threading.Thread(target=lambda: (inv.get_sku("PARENT"), ready.set(), idle.wait(30)))
reader.start()
ready.wait(30)  # fork between reads: a thread inside SQLite at a fork leaves its mutexes held

def report(role):
    inv = Inventory(db, user=role)
    inv.add_sku(role.upper() + "-OWN")
    seen = {
        "marker": db.fetch(MARKED, {})[0][0],
        "parent_sku": inv.get_sku("PARENT").sku,
        "own_sku": inv.get_sku(role.upper() + "-OWN").sku,
        "me": os.getpid(),
    }
    with open(os.path.join(out_dir, role + ".json"), "w") as fh:
        json.dump(seen, fh)

child = os.fork()
if child == 0:
    try:
        report("child")
    finally:
        os._exit(0)
_, status = os.waitpid(child, 0)
report("parent")
with open(os.path.join(out_dir, "after.json"), "w") as fh:
    json.dump({"child_sku": inv.get_sku("CHILD-OWN").sku}, fh)
idle.set()
reader.join()
db.close()
sys.exit(os.waitstatus_to_exitcode(status))
"""


@pytest.mark.skipif(not hasattr(os, "fork"), reason="needs os.fork")
def test_a_forked_child_reads_on_its_own_connections(tmp_path: Path) -> None:
    """After a fork the child reads on new connections; the parent's keep working."""
    url = f"sqlite:///{tmp_path / 'inventory.db'}"
    with Database.open(url, settings=test_settings()) as db:
        db.upgrade()
    done = _run(FORK_SCRIPT, url, str(tmp_path))
    assert done.returncode == 0, done.stderr
    parent, child = (json.loads((tmp_path / f"{r}.json").read_text()) for r in ("parent", "child"))
    after = json.loads((tmp_path / "after.json").read_text())
    assert child["marker"] == 0, "the child never read on the parent's connection"
    assert parent["marker"] == 1, "the parent kept its connection through the child's life"
    assert child["me"] != parent["me"]
    assert child["parent_sku"] == parent["parent_sku"] == "PARENT"
    assert (child["own_sku"], parent["own_sku"]) == ("CHILD-OWN", "PARENT-OWN")
    assert after["child_sku"] == "CHILD-OWN"


def test_reads_on_every_database_tell_empty_from_unknown(any_db: Database) -> None:
    """A SKU without events or lots reads empty; an unknown SKU is not found (one statement)."""
    inv = Inventory(any_db, user="tester")
    inv.add_sku("BIRRA")
    assert inv.history("BIRRA") == []
    assert inv.history("BIRRA", start=day(0), end=day(5), limit=0) == []
    assert inv.lots("BIRRA") == []
    assert inv.stock("BIRRA", asof=day(1)).on_hand == 0
    inv.snapshot("BIRRA", 5, on=day(0))
    assert [e.qty for e in inv.history("BIRRA", start=day(0), end=day(0), limit=1)] == [5]
    assert inv.history("BIRRA", start=day(1)) == []
    for read in (
        lambda: inv.get_sku("NOPE"),
        lambda: inv.history("NOPE"),
        lambda: inv.history("NOPE", limit=0),
        lambda: inv.lots("NOPE"),
        lambda: inv.stock("NOPE"),
    ):
        with pytest.raises(NotFoundError):
            read()


def test_rows_read_in_and_out_of_a_unit_of_work_are_the_same(db: Database) -> None:
    """A statement gives the same rows through a read unit of work and on its own."""
    Inventory(db, user="tester").add_sku("BIRRA")
    statement = Prepared(text("SELECT sku, pack_size FROM skus"))
    with db.read() as uow:
        inside: list[Any] = [tuple(r) for r in uow.fetch(statement, {})]
    assert inside == db.fetch(statement, {}) == [("BIRRA", 1)]
