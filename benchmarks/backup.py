"""Benchmark of backups: throughput, under a writer, verify cost, restore time.

Prints one JSON document. Every ratio compares with a baseline measured in the same run on
the same file: ``shutil.copyfile`` for throughput, the idle backup for the writer case,
one ``integrity_check`` plus one sha256 pass for ``verify``, the backup time for restore.

    .venv/bin/python benchmarks/backup.py [--size-mb 64] [--repeat 3]
"""

from __future__ import annotations

import argparse
import hashlib
import json
import multiprocessing
import shutil
import sqlite3
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from inventory_core import Database, Settings
from inventory_core.backup import BackupService, RetentionPolicy
from inventory_core.backup.private import PrivateFile
from inventory_core.backup.sqlite_copy import online_copy


def build(path: Path, size_mb: int) -> None:
    """A migrated database of about ``size_mb`` MB: ledger rows plus bulk text."""
    with Database.open(path, settings=Settings.load(backup_dir=path.parent / "unused")) as db:
        db.upgrade()
    conn = sqlite3.connect(path)
    conn.execute("PRAGMA journal_mode=WAL")
    conn.executemany(
        "INSERT INTO skus (sku, description, pack_size, moq, lead_time_days, active, "
        "created_at, updated_at) VALUES (?, ?, 1, 0, 0, 1, '2026-01-01', '2026-01-01')",
        [(f"SKU{i:05d}", f"Article {i}") for i in range(1000)],
    )
    rows = size_mb * 4000
    conn.executemany(
        "INSERT INTO transactions (date, sku, event, qty, priority, created_at) "
        "VALUES (?, ?, 'ORDER', ?, 1, '2026-01-01T00:00:00Z')",
        (
            (f"2026-{1 + i % 12:02d}-{1 + i % 28:02d}", f"SKU{i % 1000:05d}", 1 + i % 50)
            for i in range(rows)
        ),
    )
    conn.commit()
    while path.stat().st_size < size_mb * 1_048_576:
        conn.executemany(
            "INSERT INTO settings (key, value, updated_at) VALUES (?, ?, '2026-01-01')",
            [(f"bulk.{time.monotonic_ns()}.{i}", "x" * 8000) for i in range(500)],
        )
        conn.commit()
    conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    conn.close()


def writer(path: str, stop: Any, commits: Any, longest: Any = None) -> None:
    """Commit one row every 10 ms until told to stop (a separate process); ``longest``
    receives the longest time between two commits."""
    conn = sqlite3.connect(path, timeout=30, isolation_level=None)
    conn.execute("PRAGMA busy_timeout=30000")
    n = 0
    last = time.monotonic()
    while not stop.is_set():
        conn.execute("BEGIN IMMEDIATE")
        conn.execute(
            "INSERT INTO settings (key, value, updated_at) VALUES (?, 'w', '2026-01-01')",
            (f"writer.{time.time_ns()}.{n}",),
        )
        conn.execute("COMMIT")
        n += 1
        commits.value = n
        now = time.monotonic()
        if longest is not None:
            longest.value = max(longest.value, now - last)
        last = now
        time.sleep(0.01)
    conn.close()


def timed(fn: Callable[[], Any], repeat: int) -> tuple[float, Any]:
    """Median seconds of ``repeat`` runs, and the last result."""
    times, result = [], None
    for _ in range(repeat):
        started = time.perf_counter()
        result = fn()
        times.append(time.perf_counter() - started)
    print(f"{getattr(fn, '__name__', 'fn')}: {[round(t, 3) for t in times]}", file=sys.stderr)
    return statistics.median(times), result


def main() -> None:
    """Build the database, run every measurement, print JSON."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--size-mb", type=int, default=64, help="database size to build")
    parser.add_argument("--repeat", type=int, default=3, help="runs per measurement (median)")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(dir=".") as work:
        folder = Path(work)
        live = folder / "bench.db"
        started = time.perf_counter()
        build(live, args.size_mb)
        print(f"build: {time.perf_counter() - started:.1f} s", file=sys.stderr)
        size = live.stat().st_size
        scratch = folder / "scratch.db"

        def file_copy() -> None:
            shutil.copyfile(live, scratch)

        # Before the database is opened: closing a descriptor of our own on the live file
        # would drop the POSIX locks of this process's connections (see db/preflight.py).
        copy_s, _ = timed(file_copy, args.repeat)
        db = Database.open(live, settings=Settings.load(backup_dir=folder / "b"))
        service = BackupService(db, folder / "b", retention=RetentionPolicy(keep_last=2))

        def raw_backup() -> Any:
            scratch.unlink(missing_ok=True)
            with PrivateFile(scratch) as dest:
                return online_copy(live, dest)

        def full_backup() -> Path:
            path = service.backup("bench", record=False)
            service.apply_retention()
            return path

        raw_s, _ = timed(raw_backup, args.repeat)
        backup_s, _ = timed(full_backup, args.repeat)

        ctx = multiprocessing.get_context("spawn")
        stop, commits = ctx.Event(), ctx.Value("i", 0)
        proc = ctx.Process(target=writer, args=(str(live), stop, commits))
        proc.start()
        while commits.value < 5:
            time.sleep(0.01)
        try:
            raw_loaded_s, stats = timed(raw_backup, args.repeat)
            loaded_s, _ = timed(full_backup, args.repeat)
        finally:
            stop.set()
            proc.join()
        backup_path = full_backup()

        def raw_checks() -> None:
            conn = sqlite3.connect(f"file:{backup_path}?mode=ro", uri=True)
            conn.execute("PRAGMA integrity_check").fetchall()
            conn.close()
            hashlib.sha256(backup_path.read_bytes()).hexdigest()

        checks_s, _ = timed(raw_checks, args.repeat)
        verify_s, problems = timed(lambda: service.verify(backup_path), args.repeat)
        restore_s, _ = timed(lambda: service.restore(backup_path), 1)
        longest = ctx.Value("d", 0.0)
        stop = ctx.Event()
        proc = ctx.Process(target=writer, args=(str(live), stop, commits, longest))
        proc.start()
        time.sleep(0.5)
        restored = service.restore(backup_path)
        time.sleep(0.5)
        stop.set()
        proc.join()
        db.close()
    mb = size / 1_048_576
    print(
        json.dumps(
            {
                "command": "python benchmarks/backup.py "
                f"--size-mb {args.size_mb} --repeat {args.repeat}",
                "database_mb": round(mb, 1),
                "file_copy_s": round(copy_s, 3),
                "online_copy_s": round(raw_s, 3),
                "online_copy_vs_file_copy_throughput": round(copy_s / raw_s, 2),
                "backup_with_checks_s": round(backup_s, 3),
                "backup_with_checks_vs_file_copy_throughput": round(copy_s / backup_s, 2),
                "online_copy_under_writer_s": round(raw_loaded_s, 3),
                "online_copy_under_writer_method": stats.method,
                "online_copy_under_writer_restarts": stats.restarts,
                "online_copy_under_writer_vs_idle": round(raw_loaded_s / raw_s, 2),
                "backup_under_writer_s": round(loaded_s, 3),
                "backup_under_writer_vs_idle": round(loaded_s / backup_s, 2),
                "writer_commits": commits.value,
                "verify_s": round(verify_s, 3),
                "integrity_check_plus_sha256_s": round(checks_s, 3),
                "verify_vs_integrity_plus_sha256": round(verify_s / checks_s, 2),
                "verify_problems": len(problems),
                "restore_s": round(restore_s, 3),
                "restore_vs_backup": round(restore_s / backup_s, 2),
                "restore_under_writer_locked_s": getattr(restored, "locked_s", None),
                "restore_under_writer_longest_wait_s": round(longest.value, 3),
                "goals": {
                    "throughput": ">= 0.8",
                    "under_writer_vs_idle": "<= 2",
                    "verify": "<= 1",
                    "restore_vs_backup": "<= 3",
                },
            },
            indent=2,
        )
    )


if __name__ == "__main__":
    main()
