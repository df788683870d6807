"""VACUUM, REINDEX and CSV import beside writer processes: no acknowledged write is lost.

``maintenance vacuum`` and ``reindex`` rewrite the file *through* SQLite (one write
transaction each), never by replacing it, and the CSV import is one unit of work; so a
writer that keeps its connection open waits for them and then writes into the same file.
These tests hold them to it with real processes.
"""

from __future__ import annotations

import multiprocessing
import os
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pytest

from inventory_core import Database
from inventory_core.backup import export_csv, import_csv
from inventory_core.errors import SnapshotTargetNotEmptyError
from inventory_core.opening import maintenance
from tests.backup_support import seed
from tests.db_support import test_settings
from tests.restore_support import (
    acknowledged,
    errors,
    prepare_shop,
    sale_notes,
    sale_writer,
    sku_writer,
    wait_for,
)


def _maintain_beside_writers(tmp_path: Path, action: str, pause: float, via: str) -> None:
    live = tmp_path / "inventory.db"
    url = f"sqlite:///{live}"
    db = Database.open(url, settings=test_settings())
    db.upgrade()
    prepare_shop(db, 2)
    inode = os.stat(live).st_ino
    ctx = multiprocessing.get_context("spawn")
    stop, acked = ctx.Event(), ctx.Value("i", 0)
    logs = [tmp_path / f"w{n}.log" for n in range(2)]
    procs = [
        ctx.Process(
            target=sale_writer,
            args=(url, f"W{n}", pause, stop, acked, str(logs[n]), str(tmp_path / f"w{n}.ino")),
        )
        for n in range(2)
    ]
    for proc in procs:
        proc.start()
    try:
        wait_for(acked, 4)
        if via == "api":
            maintenance.run(db, action)  # type: ignore[arg-type]
        else:
            env = {**os.environ, "INVENTORY_CORE_BACKUP_DIR": str(tmp_path / "b")}
            cli = [sys.executable, "-m", "inventory_core", "--db", str(live), "maintenance"]
            done = subprocess.run([*cli, action], env=env, capture_output=True, text=True)
            assert done.returncode == 0, done.stdout + done.stderr
        wait_for(acked, acked.value + 4, timeout=120)
    finally:
        stop.set()
        for proc in procs:
            proc.join(60)
    db.close()
    assert [p.exitcode for p in procs] == [0, 0]
    notes = [note for log in logs for note in acknowledged(log)]
    assert [e for log in logs for e in errors(log)] == []
    assert set(notes) <= sale_notes(live), "acknowledged sales are missing"
    assert os.stat(live).st_ino == inode
    conn = sqlite3.connect(f"file:{live}?mode=ro", uri=True)
    assert conn.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
    conn.close()


@pytest.mark.parametrize("action", ["vacuum", "reindex"])
@pytest.mark.parametrize(("pause", "via"), [(0.0, "api"), (0.05, "cli")])
def test_maintenance_beside_writers_loses_no_acknowledged_write(
    tmp_path: Path, action: str, pause: float, via: str
) -> None:
    """Every sale acknowledged during a VACUUM or REINDEX is in the live file afterwards."""
    _maintain_beside_writers(tmp_path, action, pause, via)


@pytest.mark.slow
@pytest.mark.parametrize("action", ["vacuum", "reindex"])
@pytest.mark.parametrize("via", ["api", "cli"])
@pytest.mark.parametrize("pause", [0.0, 0.01, 0.05, 0.2, 0.5, 1.0])
def test_maintenance_beside_writers_stress(
    tmp_path: Path, action: str, pause: float, via: str
) -> None:
    """Every pause length, both ways in: still nothing lost."""
    _maintain_beside_writers(tmp_path, action, pause, via)


@pytest.mark.parametrize("delay", [-1.0, 0.0, 0.02, 0.2])
def test_import_beside_a_writer_loses_no_acknowledged_write(tmp_path: Path, delay: float) -> None:
    """An import racing a writer either refuses (rows exist) or commits first; no write lost.

    ``delay`` -1 lets the writer commit first (the import must refuse); the others start
    the writer that long after the import.
    """
    source = Database.open(tmp_path / "source.db", settings=test_settings())
    source.upgrade()
    seed(source, skus=3, events_per_sku=2)
    snapshot = export_csv(source, tmp_path / "snap", zip=True)
    source.close()
    target = tmp_path / "target.db"
    db = Database.open(target, settings=test_settings())
    db.upgrade()
    ctx = multiprocessing.get_context("spawn")
    go, stop = ctx.Event(), ctx.Event()
    log = tmp_path / "skus.log"
    proc = ctx.Process(target=sku_writer, args=(str(target), go, max(delay, 0.0), stop, str(log)))
    proc.start()
    imported = False
    try:
        go.set()
        while delay < 0 and not acknowledged(log):
            time.sleep(0.01)
        try:
            import_csv(db, snapshot)
            imported = True
        except SnapshotTargetNotEmptyError:
            pass
    finally:
        stop.set()
        proc.join(60)
    assert proc.exitcode == 0
    with db.read() as uow:
        from sqlalchemy import text

        skus = {str(r[0]) for r in uow.execute(text("SELECT sku FROM skus"))}
    db.close()
    assert set(acknowledged(log)) <= skus
    assert imported == ({"SKU000", "SKU001", "SKU002"} <= skus)
    if delay < 0:
        assert not imported
