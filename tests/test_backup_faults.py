"""Fault tests with real processes and real files: writers, kill -9, a full disk."""

from __future__ import annotations

import multiprocessing
import os
import random
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pytest

from inventory_core import Database
from inventory_core.backup import BackupService
from inventory_core.errors import BackupSpaceError
from tests.backup_support import add_sku, bulk_settings, count_orders_and_audit, seed, writer_loop
from tests.db_support import test_settings

TESTS = Path(__file__).resolve().parent


def _backup_under_writers(url: str, tmp_path: Path, seconds: float, rounds: int) -> None:
    db = Database.open(url, settings=test_settings())
    db.upgrade()
    seed(db, skus=2, events_per_sku=1)
    bulk_settings(db, rows=200, size=20_000)
    ctx = multiprocessing.get_context("spawn")
    stop = ctx.Event()
    committed = ctx.Value("i", 0)
    writers = [
        ctx.Process(target=writer_loop, args=(url, f"SKU00{n}", stop, committed)) for n in range(2)
    ]
    for w in writers:
        w.start()
    try:
        while committed.value < 20:
            time.sleep(0.01)
        service = BackupService(db, tmp_path / "b", deadline_s=seconds)
        for _ in range(rounds):
            during = committed.value
            path = service.backup("under-load")
            assert committed.value > during, "writers were blocked by the backup"
            conn = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
            assert conn.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
            conn.close()
            events, audits = count_orders_and_audit(path)
            assert events == audits and events >= 2
            assert service.verify(path) == []
    finally:
        stop.set()
        for w in writers:
            w.join(30)
        db.close()
    assert all(w.exitcode == 0 for w in writers)


def test_backup_under_two_writer_processes_is_whole_and_consistent(
    sqlite_url: str, tmp_path: Path
) -> None:
    """While two processes commit continuously, the backup finishes and splits no transaction."""
    _backup_under_writers(sqlite_url, tmp_path, seconds=5.0, rounds=2)


@pytest.mark.slow
def test_backup_under_writers_stress(sqlite_url: str, tmp_path: Path) -> None:
    """Twenty backups in a row under two writers stay whole and consistent."""
    _backup_under_writers(sqlite_url, tmp_path, seconds=5.0, rounds=20)


RESTORE_SCRIPT = """
import sys
from inventory_core import Database, Settings
from inventory_core.backup import BackupService
db = Database.open(sys.argv[1], settings=Settings.load(busy_timeout_ms=2000))
BackupService(db, sys.argv[2]).restore(sys.argv[3])
"""

KILL_POINTS = [
    ("restore-locked", "old"),
    ("restore-safety-taken", "old"),
    ("restore-replaced", "old"),
    ("restore-before-commit", "old"),
    ("restore-committed", "new"),
]


def _prepare(tmp_path: Path) -> tuple[Path, Path, Path]:
    live = tmp_path / "inventory.db"
    db = Database.open(live, settings=test_settings())
    db.upgrade()
    seed(db, skus=2, events_per_sku=3)
    backup = BackupService(db, tmp_path / "b").backup("good")
    add_sku(db, "ONLY-IN-OLD")
    db.close()
    return live, tmp_path / "b", backup


def _state_after_crash(live: Path) -> str:
    with Database.open(live, settings=test_settings(), check="full") as db:
        conn = sqlite3.connect(f"file:{live}?mode=ro", uri=True)
        try:
            assert conn.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
            skus = sorted(r[0] for r in conn.execute("SELECT sku FROM skus"))
            events = conn.execute("SELECT count(*) FROM transactions").fetchone()[0]
        finally:
            conn.close()
        add_sku(db, "WRITABLE")
    assert events == 6
    assert not [p for p in live.parent.iterdir() if ".restore" in p.name]
    if skus == ["ONLY-IN-OLD", "SKU000", "SKU001"]:
        return "old"
    assert skus == ["SKU000", "SKU001"], f"a mix of old and new: {skus}"
    return "new"


def _run_restore(
    live: Path, folder: Path, backup: Path, fault: str | None
) -> subprocess.Popen[bytes]:
    env = {k: v for k, v in os.environ.items() if k != "INVENTORY_CORE_TEST_FAULT"}
    if fault:
        env["INVENTORY_CORE_TEST_FAULT"] = fault
    return subprocess.Popen(
        [sys.executable, "-c", RESTORE_SCRIPT, str(live), str(folder), str(backup)],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )


@pytest.mark.parametrize(("step", "expected"), KILL_POINTS, ids=[k[0] for k in KILL_POINTS])
def test_restore_killed_at_a_step_leaves_old_or_new_never_a_mix(
    tmp_path: Path, step: str, expected: str
) -> None:
    """kill -9 at each step of a restore leaves, at the next open, one whole verified database."""
    live, folder, backup = _prepare(tmp_path)
    proc = _run_restore(live, folder, backup, step)
    _out, err = proc.communicate(timeout=60)
    assert proc.returncode == -signal.SIGKILL, err.decode()
    assert _state_after_crash(live) == expected


def test_restore_without_a_fault_completes_in_a_child_process(tmp_path: Path) -> None:
    """The same child restore, not killed, leaves the new database."""
    live, folder, backup = _prepare(tmp_path)
    proc = _run_restore(live, folder, backup, None)
    _out, err = proc.communicate(timeout=60)
    assert proc.returncode == 0, err.decode()
    assert _state_after_crash(live) == "new"


@pytest.mark.slow
@pytest.mark.parametrize("seed_value", range(15))
def test_restore_killed_after_a_random_delay(tmp_path: Path, seed_value: int) -> None:
    """kill -9 after a random delay also leaves old or new, never a mix."""
    live, folder, backup = _prepare(tmp_path)
    proc = _run_restore(live, folder, backup, None)
    time.sleep(random.Random(seed_value).uniform(0.2, 1.5))
    proc.send_signal(signal.SIGKILL)
    proc.communicate(timeout=60)
    assert _state_after_crash(live) in ("old", "new")


def test_backup_on_a_full_disk_raises_and_leaves_nothing(tmp_path: Path) -> None:
    """A backup folder without room raises BackupSpaceError and keeps no partial file."""
    live = tmp_path / "inventory.db"
    db = Database.open(live, settings=test_settings())
    db.upgrade()
    seed(db, skus=1, events_per_sku=1)
    bulk_settings(db, rows=150, size=20_000)
    small = tmp_path / "small"
    small.mkdir()
    mounted = (
        subprocess.run(
            ["mount", "-t", "tmpfs", "-o", "size=1m", "tmpfs", str(small)], capture_output=True
        ).returncode
        == 0
    )
    try:
        if not mounted:  # no permission to mount: inject the failure instead
            os.environ["INVENTORY_CORE_TEST_FAULT"] = "enospc:backup-copy"
        service = BackupService(db, small)
        with pytest.raises(BackupSpaceError) as raised:
            service.backup("manual")
        assert raised.value.code == "BAK_002" and raised.value.recovery_steps
        assert service.list() == []
        assert list(small.iterdir()) == []
    finally:
        os.environ.pop("INVENTORY_CORE_TEST_FAULT", None)
        if mounted:
            subprocess.run(["umount", str(small)], check=True)
        db.close()


@pytest.mark.parametrize(
    ("step", "expected"), [("prepare", "old"), ("swap", "old"), ("done", "new")]
)
def test_a_journal_left_by_the_file_swapping_restore_is_finished_at_open(
    tmp_path: Path, step: str, expected: str
) -> None:
    """A 0.1.0 restore killed mid-swap left its journal: the next open still finishes it."""
    from inventory_core.backup.files import sidecars
    from inventory_core.backup.journal import old_path, write_journal

    live, _folder, backup = _prepare(tmp_path)
    os.link(live, old_path(live))
    write_journal(live, step, backup, tmp_path / "b" / "safety.db")
    if step != "prepare":
        staged = live.with_name(live.name + ".restore-new")
        staged.write_bytes(backup.read_bytes())
        for sidecar in sidecars(live):
            sidecar.unlink(missing_ok=True)
        os.replace(staged, live)
    assert _state_after_crash(live) == expected


def _kill_restore_beside_writers(tmp_path: Path, fault: str | None, delay: float) -> None:
    """kill -9 a restoring process while two writers sell: no acknowledged sale is lost."""
    import multiprocessing

    from tests.restore_support import acknowledged, prepare_shop, sale_notes, sale_writer, wait_for

    live = tmp_path / "inventory.db"
    url = f"sqlite:///{live}"
    with Database.open(url, settings=test_settings()) as db:
        db.upgrade()
        prepare_shop(db, 2)
        backup = BackupService(db, tmp_path / "b").backup("good")
    ctx = multiprocessing.get_context("spawn")
    stop, acked = ctx.Event(), ctx.Value("i", 0)
    logs = [tmp_path / f"w{n}.log" for n in range(2)]
    procs = [
        ctx.Process(
            target=sale_writer,
            args=(url, f"W{n}", 0.01, stop, acked, str(logs[n]), str(tmp_path / f"w{n}.ino")),
        )
        for n in range(2)
    ]
    for proc in procs:
        proc.start()
    try:
        wait_for(acked, 4)
        restoring = _run_restore(live, tmp_path / "b", backup, fault)
        if fault is None:
            time.sleep(delay)
            restoring.send_signal(signal.SIGKILL)
        restoring.communicate(timeout=60)
        wait_for(acked, acked.value + 4, timeout=120)
    finally:
        stop.set()
        for proc in procs:
            proc.join(60)
    assert [p.exitcode for p in procs] == [0, 0]
    kept = sale_notes(live)
    for safety in (tmp_path / "b").glob("*_pre-restore.db"):
        kept |= sale_notes(safety)
    lost = [n for log in logs for n in acknowledged(log) if n not in kept]
    assert lost == []
    _state_after_crash_is_whole(live)


def _state_after_crash_is_whole(live: Path) -> None:
    with Database.open(live, settings=test_settings(), check="full"):
        conn = sqlite3.connect(f"file:{live}?mode=ro", uri=True)
        try:
            assert conn.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
        finally:
            conn.close()
    assert not [p for p in live.parent.iterdir() if ".restore" in p.name]


@pytest.mark.parametrize("step", ["restore-replaced", "restore-committed"])
def test_restore_killed_beside_writers_loses_no_acknowledged_write(
    tmp_path: Path, step: str
) -> None:
    """Killed inside or just after its transaction, with writers waiting: nothing lost."""
    _kill_restore_beside_writers(tmp_path, step, 0.0)


@pytest.mark.slow
@pytest.mark.parametrize("seed_value", range(8))
def test_restore_killed_beside_writers_after_a_random_delay(
    tmp_path: Path, seed_value: int
) -> None:
    """The same, killed after a random delay."""
    delay = random.Random(seed_value).uniform(0.2, 2.0)
    _kill_restore_beside_writers(tmp_path, None, delay)
