"""Benchmark of the audit trail: its share of a single-event write, and verify over 1M rows.

Prints one JSON document. Run from the repository root::

    .venv/bin/python benchmarks/audit.py            # 1,000,000 rows for verify
    .venv/bin/python benchmarks/audit.py --rows 100000 --writes 300

1. **Write cost.** ``Inventory.sell`` (one SALE event, one unit of work, one commit) is timed
   on two identical databases in the same run, alternating sale by sale: once as shipped, once
   with ``trail.append`` swapped for a no-op. The difference is what auditing costs. A raw
   ``sqlite3`` insert+commit with the same PRAGMAs is timed too, as the floor.
2. **verify.** ``audit.verify`` walks a chain of ``--rows`` rows built quickly with
   ``executemany`` of precomputed chained hashes; the same walk with bare ``sqlite3`` (fetch
   and recompute every hash, no SQLAlchemy) is the floor.
"""

from __future__ import annotations

import argparse
import json
import platform
import sqlite3
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from datetime import date
from functools import partial
from itertools import islice
from pathlib import Path
from typing import Any

from sqlalchemy import insert

from inventory_core import Database, Settings, audit
from inventory_core.audit import trail
from inventory_core.inventory import Inventory
from inventory_core.models import AuditLog

SKUS = 20
DAY = date(2026, 2, 12)


def _open(path: Path) -> Database:
    settings = Settings.load(backup_dir=path.parent / "backups")
    db = Database.open(f"sqlite:///{path}", settings=settings, check=None)
    db.upgrade()
    return db


def _stocked(db: Database) -> Inventory:
    inventory = Inventory(db, user="bench")
    for number in range(SKUS):
        inventory.add_sku(f"SKU{number:03d}", "bench item")
        inventory.snapshot(f"SKU{number:03d}", 1_000_000, on=date(2026, 1, 1))
    return inventory


def _timed(action: Callable[[], object]) -> tuple[float, float]:
    """Wall-clock and CPU seconds of one call."""
    wall, cpu = time.perf_counter(), time.process_time()
    action()
    return time.perf_counter() - wall, time.process_time() - cpu


def _noop_append(*_args: Any, **_kwargs: Any) -> str:
    return trail.GENESIS_HASH


def _median_ms(samples: list[float]) -> float:
    return round(statistics.median(samples) * 1000, 4)


def bench_write(workdir: Path, writes: int) -> dict[str, Any]:
    """Median time of one Inventory.sell with and without the audit row, same run.

    The two modes alternate sale by sale, so a burst of load from other programs hits both
    alike; CPU time is reported next to wall-clock time because it is what a busy machine
    distorts least.
    """
    audited_db, bare_db = _open(workdir / "audited.db"), _open(workdir / "bare.db")
    audited, bare = _stocked(audited_db), _stocked(bare_db)
    real_append: Callable[..., str] = trail.append
    on_wall: list[float] = []
    on_cpu: list[float] = []
    off_wall: list[float] = []
    off_cpu: list[float] = []
    for number in range(writes):
        sku = f"SKU{number % SKUS:03d}"
        wall, cpu = _timed(partial(audited.sell, sku, 1, on=DAY))
        on_wall.append(wall)
        on_cpu.append(cpu)
        trail.append = _noop_append
        try:
            wall, cpu = _timed(partial(bare.sell, sku, 1, on=DAY))
        finally:
            trail.append = real_append
        off_wall.append(wall)
        off_cpu.append(cpu)
    audited_rows = audit.head(audited_db)[1]
    bare_rows = audit.head(bare_db)[1]
    audited_db.close()
    bare_db.close()
    raw = _raw_sqlite_write(workdir / "raw.db", writes)
    on, off = _median_ms(on_wall), _median_ms(off_wall)
    on_c, off_c = _median_ms(on_cpu), _median_ms(off_cpu)
    return {
        "writes_per_mode": writes,
        "sell_with_audit_ms": on,
        "sell_without_audit_ms": off,
        "audit_share_of_write": round((on - off) / on, 4),
        "sell_with_audit_cpu_ms": on_c,
        "sell_without_audit_cpu_ms": off_c,
        "audit_share_of_write_cpu": round((on_c - off_c) / on_c, 4),
        "goal_audit_share_max": 0.25,
        "raw_sqlite3_insert_commit_ms": round(raw, 4),
        "sell_with_audit_vs_raw_sqlite3": round(on / raw, 2),
        "audit_rows_written": audited_rows - 2 * SKUS,
        "audit_rows_when_skipped": bare_rows - 2 * SKUS,
    }


def _raw_sqlite_write(path: Path, writes: int) -> float:
    conn = sqlite3.connect(path, isolation_level=None)
    conn.execute("PRAGMA journal_mode=WAL")
    conn.execute("PRAGMA synchronous=NORMAL")
    conn.execute("CREATE TABLE t (id INTEGER PRIMARY KEY, sku TEXT, qty INTEGER, day TEXT)")
    samples = []
    for number in range(writes):
        started = time.perf_counter()
        conn.execute("BEGIN IMMEDIATE")
        conn.execute("INSERT INTO t (sku, qty, day) VALUES (?, 1, '2026-02-12')", (str(number),))
        conn.execute("COMMIT")
        samples.append(time.perf_counter() - started)
    conn.close()
    return statistics.median(samples) * 1000


def build_chain(db: Database, rows: int, batch: int = 20_000) -> str:
    """Append ``rows`` valid chained rows with executemany; return the head hash."""
    fields = (
        {
            "timestamp": f"2026-01-01T00:{number // 60 % 60:02d}:{number % 60:02d}.000000Z",
            "operation": "sell",
            "user": f"operator_{number % 9:02d}",
            "details": trail.canonical_json(
                {"date": "2026-02-12", "qty": number % 17 + 1, "sku": f"SKU{number % 997}"}
            ),
            "run_id": f"00000000-0000-4000-8000-{number // 5000:012d}",
            "duration_ms": round((number % 1000) / 37, 3),
            "sku": None,
        }
        for number in range(rows)
    )
    chained = trail.chain_rows(fields)
    head = trail.GENESIS_HASH
    with db.unit_of_work() as uow:
        while chunk := list(islice(chained, batch)):
            uow.execute(insert(AuditLog), chunk)
            head = chunk[-1]["hash"]
        uow.commit()
    return head


def _raw_walk(path: Path) -> float:
    """The same walk with bare sqlite3: fetch every row and recompute every hash."""
    conn = sqlite3.connect(path)
    started = time.perf_counter()
    prev = trail.GENESIS_HASH
    for ts, op, user, details, run_id, duration, stored_prev, stored in conn.execute(
        "SELECT timestamp, operation, user, details, run_id, duration_ms, prev_hash, hash "
        "FROM audit_log ORDER BY audit_id"
    ):
        digest = trail.chain_hash(stored_prev, ts, op, user, details, run_id, duration)
        if stored_prev != prev or digest != stored:
            raise AssertionError("the benchmark chain is broken")
        prev = stored
    conn.close()
    return time.perf_counter() - started


def bench_verify(workdir: Path, rows: int) -> dict[str, Any]:
    """Seconds for audit.verify over ``rows`` rows, and a bare sqlite3+hashlib walk."""
    path = workdir / "chain.db"
    db = _open(path)
    started = time.perf_counter()
    head_hash = build_chain(db, rows)
    built = time.perf_counter() - started
    reports: list[audit.ChainReport] = []
    seconds, cpu = _timed(lambda: reports.append(audit.verify(db)))
    report = reports[0]
    db.close()
    raw = _raw_walk(path)
    assert report.ok and report.rows_checked == rows and report.head_hash == head_hash
    return {
        "rows": rows,
        "build_s": round(built, 2),
        "verify_s": round(seconds, 3),
        "verify_cpu_s": round(cpu, 3),
        "verify_rows_per_s": round(rows / seconds),
        "goal_verify_s_max": 10.0,
        "raw_sqlite3_same_walk_s": round(raw, 3),
        "verify_vs_raw_walk": round(seconds / raw, 2),
    }


def main() -> None:
    """Run both measurements and print them as JSON."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=1_000_000, help="audit rows for verify")
    parser.add_argument("--writes", type=int, default=1000, help="sells per mode")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="inventory_core_bench_audit_") as tmp:
        workdir = Path(tmp)
        result = {
            "benchmark": "audit",
            "python": platform.python_version(),
            "sqlite": sqlite3.sqlite_version,
            "platform": platform.platform(),
            "write": bench_write(workdir, args.writes),
            "verify": bench_verify(workdir, args.rows),
        }
    json.dump(result, sys.stdout, indent=2)
    print()


if __name__ == "__main__":
    main()
