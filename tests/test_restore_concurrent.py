"""Restores beside writer processes that keep their database open: no acknowledged write lost.

Each writer process sells one unit at a time through ``Inventory.sell`` and logs the note
of every sale it was told was committed. After a restore (through the API in this process,
or the CLI in another one) every logged sale must be in the live database (written after
the restore, into the restored database) or in the restore's safety backup (written before
it), the live file must keep its inode, and the writers must carry on without an error.
"""

from __future__ import annotations

import json
import multiprocessing
import os
import sqlite3
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import pytest

from inventory_core import Database
from inventory_core.audit.verify import verify as verify_chain
from inventory_core.backup import BackupService, RestoreResult
from inventory_core.invariants import HealthStatus, check_all
from tests.db_support import test_settings
from tests.restore_support import (
    acknowledged,
    errors,
    prepare_shop,
    sale_notes,
    sale_writer,
    wait_for,
)

WRITERS = 2
PAUSES = [0.0, 0.01, 0.05, 0.2, 0.5, 1.0]


@dataclass(frozen=True)
class Outcome:
    """What one restore beside the writers did to their acknowledged sales."""

    acked: int
    lost: int
    before: int
    after: int
    errors: list[str]


def _safety_named_in_live(live: Path, folder: Path) -> tuple[Path, int]:
    conn = sqlite3.connect(f"file:{live}?mode=ro", uri=True)
    try:
        row = conn.execute(
            "SELECT details FROM audit_log WHERE operation = 'restore' "
            "ORDER BY audit_id DESC LIMIT 1"
        ).fetchone()
    finally:
        conn.close()
    details = json.loads(row[0])
    return folder / details["safety_backup"], int(details["writes_discarded"])


def restore_beside_writers(tmp_path: Path, pause: float, via: str) -> Outcome:
    """Restore a backup while ``WRITERS`` processes sell, and account for every sale."""
    live = tmp_path / "inventory.db"
    url = f"sqlite:///{live}"
    folder = tmp_path / "b"
    db = Database.open(url, settings=test_settings())
    db.upgrade()
    prepare_shop(db, WRITERS)
    service = BackupService(db, folder)
    backup = service.backup("good")
    inode = os.stat(live).st_ino
    ctx = multiprocessing.get_context("spawn")
    stop, acked = ctx.Event(), ctx.Value("i", 0)
    logs = [tmp_path / f"w{n}.log" for n in range(WRITERS)]
    inodes = [tmp_path / f"w{n}.ino" for n in range(WRITERS)]
    procs = [
        ctx.Process(
            target=sale_writer,
            args=(url, f"W{n}", pause, stop, acked, str(logs[n]), str(inodes[n])),
        )
        for n in range(WRITERS)
    ]
    for proc in procs:
        proc.start()
    try:
        wait_for(acked, 2 * WRITERS)
        if via == "api":
            result = service.restore(backup)
            assert isinstance(result, RestoreResult)
            safety, discarded = result.safety_backup, result.writes_discarded
        else:
            env = {**os.environ, "INVENTORY_CORE_BACKUP_DIR": str(folder)}
            cli = [sys.executable, "-m", "inventory_core", "--db", str(live)]
            done = subprocess.run(
                [*cli, "restore", str(backup), "--yes"], env=env, capture_output=True, text=True
            )
            assert done.returncode == 0, done.stdout + done.stderr
            safety, discarded = _safety_named_in_live(live, folder)
        wait_for(acked, acked.value + 2 * WRITERS, timeout=120)
    finally:
        stop.set()
        for proc in procs:
            proc.join(60)
    assert [p.exitcode for p in procs] == [0] * WRITERS
    db.close()
    assert os.stat(live).st_ino == inode
    for path in inodes:
        assert path.read_text().split() == [str(inode), str(inode)]
    notes = [note for log in logs for note in acknowledged(log)]
    in_live, in_safety, in_backup = sale_notes(live), sale_notes(safety), sale_notes(backup)
    lost = [note for note in notes if note not in in_live and note not in in_safety]
    # the safety backup holds the sales before the lock, the live database those after;
    # the backup's own BACKUP audit row (written after its copy) is discarded too
    assert not in_live & (in_safety - in_backup)
    assert discarded == len(in_safety - in_backup) + 1, (discarded, len(in_safety - in_backup))
    with Database.open(live, settings=test_settings()) as check:
        chain = verify_chain(check)
        assert chain.ok, chain
        report = check_all(check)
        assert report.status is HealthStatus.HEALTHY, [r.name for r in report.failures]
    return Outcome(
        acked=len(notes),
        lost=len(lost),
        before=len(in_safety - in_backup),
        after=len(in_live - in_backup),
        errors=[e for log in logs for e in errors(log)],
    )


@pytest.mark.parametrize("pause", [0.0, 0.05, 0.5])
def test_api_restore_beside_writers_loses_no_acknowledged_write(
    tmp_path: Path, pause: float
) -> None:
    """Every sale acknowledged to a writer process is in the live database or the safety backup."""
    outcome = restore_beside_writers(tmp_path, pause, "api")
    assert outcome.lost == 0, outcome
    assert outcome.errors == [], outcome
    assert outcome.before >= 2 * WRITERS and outcome.after >= 2 * WRITERS, outcome


@pytest.mark.parametrize("pause", [0.0, 0.2])
def test_cli_restore_beside_writers_loses_no_acknowledged_write(
    tmp_path: Path, pause: float
) -> None:
    """The same through 'inventory-core restore --yes' in another process."""
    outcome = restore_beside_writers(tmp_path, pause, "cli")
    assert outcome.lost == 0, outcome
    assert outcome.errors == [], outcome
    assert outcome.before >= 2 * WRITERS and outcome.after >= 2 * WRITERS, outcome


@pytest.mark.slow
@pytest.mark.parametrize("rounds", [3])
@pytest.mark.parametrize("via", ["api", "cli"])
@pytest.mark.parametrize("pause", PAUSES)
def test_restores_beside_writers_stress(
    tmp_path: Path, pause: float, via: str, rounds: int
) -> None:
    """Many rounds at every pause length, through the API and the CLI: 0 writes lost."""
    total = lost = 0
    for n in range(rounds):
        (tmp_path / f"round{n}").mkdir()
        outcome = restore_beside_writers(tmp_path / f"round{n}", pause, via)
        total, lost = total + outcome.acked, lost + outcome.lost
        assert outcome.errors == []
    print(f"pause={pause} via={via} rounds={rounds} acknowledged={total} lost={lost}")
    assert lost == 0


def _pg_sale_notes(url: str) -> set[str]:
    with Database.open(url, settings=test_settings(), check=None) as db, db.read() as uow:
        from sqlalchemy import text

        rows = uow.execute(text("SELECT note FROM transactions WHERE event = 'SALE'")).all()
    return {str(r[0]) for r in rows if r[0] is not None}


def _dump_sale_notes(path: Path) -> set[str]:
    from inventory_core.backup.postgres import dump_facts

    found = dump_facts(path, collect=(("transactions", "note"),))
    return {n for n in found.values.get(("transactions", "note"), []) if n}


@pytest.mark.postgres
@pytest.mark.parametrize("pause", [0.0, 0.05])
def test_postgresql_restore_beside_writers_loses_no_acknowledged_write(
    pg_url: str, tmp_path: Path, pause: float
) -> None:
    """On PostgreSQL too: each acknowledged sale is in the live database or the safety dump."""
    db = Database.open(pg_url, settings=test_settings())
    db.upgrade()
    prepare_shop(db, WRITERS)
    service = BackupService(db, tmp_path / "b")
    backup = service.backup("good")
    ctx = multiprocessing.get_context("spawn")
    stop, acked = ctx.Event(), ctx.Value("i", 0)
    logs = [tmp_path / f"w{n}.log" for n in range(WRITERS)]
    procs = [
        ctx.Process(
            target=sale_writer,
            args=(pg_url, f"W{n}", pause, stop, acked, str(logs[n]), str(tmp_path / f"{n}.ino")),
        )
        for n in range(WRITERS)
    ]
    for proc in procs:
        proc.start()
    try:
        wait_for(acked, 2 * WRITERS)
        result = service.restore(backup)
        assert isinstance(result, RestoreResult)
        wait_for(acked, acked.value + 2 * WRITERS, timeout=120)
    finally:
        stop.set()
        for proc in procs:
            proc.join(60)
    db.close()
    assert [p.exitcode for p in procs] == [0] * WRITERS
    notes = [note for log in logs for note in acknowledged(log)]
    in_live, in_safety = _pg_sale_notes(pg_url), _dump_sale_notes(result.safety_backup)
    in_backup = _dump_sale_notes(backup)
    assert [n for n in notes if n not in in_live and n not in in_safety] == []
    assert not in_live & (in_safety - in_backup)
    assert result.writes_discarded == len(in_safety - in_backup) + 1
    # a write held off by the restore is cancelled (DB_030), or its session terminated when
    # it sat idle inside its transaction (the driver then says "server closed the
    # connection": DB_001); one whose snapshot predates the restore's commit sees the new
    # tables empty and fails on its first read. None of them was acknowledged.
    failures = {e.split()[1] for log in logs for e in errors(log)}
    expected = {"WriteCancelledError", "DatabaseError", "NotFoundError", "InsufficientStockError"}
    assert failures <= expected, failures
    assert len(in_live - in_backup) >= 2 * WRITERS


def test_a_second_handle_on_the_file_keeps_this_process_locks(tmp_path: Path) -> None:
    """Opening the file twice in one process must not let another process delete its -shm.

    POSIX locks belong to the process and any ``close`` of the file drops them; had the
    second ``Database.open`` read the header through its own descriptor, the other
    process's last connection would find no lock, checkpoint, and delete ``-wal`` and
    ``-shm`` still in use here: from then on the two would not exclude each other, and a
    restore could not hold that process's writes off.
    """
    live = tmp_path / "inventory.db"
    first = Database.open(live, settings=test_settings())
    first.upgrade()
    prepare_shop(first, 1)
    shm = live.with_name(live.name + "-shm")
    inode = os.stat(shm).st_ino
    second = Database.open(live, settings=test_settings())
    script = (
        "import sqlite3, sys; c = sqlite3.connect(sys.argv[1]); "
        "c.execute('SELECT count(*) FROM skus').fetchone(); c.close()"
    )
    subprocess.run([sys.executable, "-c", script, str(live)], check=True)
    assert shm.exists() and os.stat(shm).st_ino == inode
    second.close()
    first.close()


HOLDER = """
import sys, time
from inventory_core import Database
db = Database.open(sys.argv[1], check=None)
db.revision()
print("open", flush=True)
sys.stdin.readline()
db.close()
"""


def test_a_damaged_file_is_not_swapped_while_another_process_has_it_open(
    tmp_path: Path,
) -> None:
    """restore_damaged refuses (BAK_055) while a program is connected, and works once it left."""
    from inventory_core.backup import restore_damaged
    from inventory_core.errors import RestoreDatabaseInUseError

    live = tmp_path / "inventory.db"
    with Database.open(live, settings=test_settings()) as db:
        db.upgrade()
        prepare_shop(db, 1)
        backup = BackupService(db, tmp_path / "b").backup("good")
    holder = subprocess.Popen(
        [sys.executable, "-c", HOLDER, str(live)],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert holder.stdout is not None and holder.stdout.readline().strip() == "open"
        inode = os.stat(live).st_ino
        with pytest.raises(RestoreDatabaseInUseError) as raised:
            restore_damaged(live, backup, test_settings())
        assert raised.value.code == "BAK_055" and os.stat(live).st_ino == inode
    finally:
        assert holder.stdin is not None
        holder.stdin.write("\n")
        holder.stdin.flush()
        holder.wait(30)
    aside = restore_damaged(live, backup, test_settings())
    assert aside.exists() and os.stat(live).st_ino != inode
