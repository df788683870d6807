"""Benchmark: the health check on a 100,000- and a 1,000,000-event ledger.

Builds each ledger fast with raw ``sqlite3.executemany`` on a migrated schema (consistent
data: stock never negative, sales matching the SALE events, reversals, orders, receipts,
lots, one hash-chained audit row per event), then measures:

- the start-up check (``Database.open(check="quick")``) and ``startup_check`` alone;
- ``check_all`` quick (``quick_check``) and full (``integrity_check``), per invariant, one
  check at a time and concurrently (the default), and ``integrity_check`` alone (the floor);
- each invariant query run through raw ``sqlite3`` (the same SQL), as the ratio baseline.

Prints one JSON document. Run: ``.venv/bin/python benchmarks/invariants.py`` (options:
``--sizes 100000 1000000``, ``--events-per-sku 1000``, ``--workdir DIR``, ``--reuse``,
``--repeat 3``).
"""

from __future__ import annotations

import argparse
import json
import os
import random
import sqlite3
import statistics
import sys
import tempfile
import time
from datetime import date, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy.dialects import sqlite as sqlite_dialect

from inventory_core import Database
from inventory_core.audit.trail import canonical_json, chain_rows
from inventory_core.config import Settings
from inventory_core.invariants import (
    INVARIANTS,
    HealthReport,
    QueryInvariant,
    check_all,
    startup_check,
)
from inventory_core.invariants.report import default_workers

START = date(2024, 1, 1)
PRIORITY = {"SNAPSHOT": 0, "ORDER": 1, "RECEIPT": 1, "SALE": 2, "WASTE": 2, "ADJUST": 2}
TS = "2026-01-01T00:00:00.000000Z"


def sku_history(rng: random.Random, sku: str, events: int) -> list[tuple[Any, ...]]:
    """One SKU's events (day, priority, event, qty, doc, reversed), never below zero."""
    rows: list[tuple[Any, ...]] = []
    on_hand = 500
    rows.append((0, 0, "SNAPSHOT", on_hand, None, False))
    day = 0
    last_snapshot_day = 0
    for i in range(events - 1):
        day += rng.random() < 0.35
        roll = rng.random()
        if roll < 0.50:
            qty = rng.randint(1, 12)
            if qty <= on_hand:
                reverted = rng.random() < 0.01
                on_hand -= 0 if reverted else qty
                rows.append((day, 2, "SALE", qty, None, reverted))
                continue
            roll = 0.6
        if roll < 0.62:
            qty = rng.randint(40, 120)
            on_hand += qty
            rows.append((day, 1, "RECEIPT", qty, f"DDT-{sku}-{i}", False))
        elif roll < 0.70:
            rows.append((day, 1, "ORDER", rng.randint(40, 120), None, False))
        elif roll < 0.78 and on_hand >= 2:
            on_hand -= 2
            rows.append((day, 2, "WASTE", 2, None, False))
        elif roll < 0.86:
            rows.append((day, 2, "ADJUST", 1, None, False))
            on_hand += 1
        elif roll < 0.90 and day > last_snapshot_day:
            day += 1  # a count opens the day: every later event of the day follows it
            on_hand = max(0, on_hand - rng.randint(0, 3))
            last_snapshot_day = day
            rows.append((day, 0, "SNAPSHOT", on_hand, None, False))
        else:
            rows.append((day, 3, "UNFULFILLED", rng.randint(1, 5), None, False))
    rows.append(("final", on_hand))
    return rows


def build(path: Path, skus: int, per_sku: int, seed: int = 7) -> dict[str, Any]:
    """Create a migrated database at ``path`` and fill it with ``skus * per_sku`` events."""
    started = time.perf_counter()
    settings = Settings.load(backup_dir=str(path.parent / "backups"))
    db = Database.open(f"sqlite:///{path}", settings=settings, check=None)
    db.upgrade()
    db.close()
    rng = random.Random(seed)
    events: list[tuple[Any, ...]] = []
    finals: dict[str, int] = {}
    for n in range(skus):
        sku = f"SKU{n:05d}"
        history = sku_history(rng, sku, per_sku)
        finals[sku] = history.pop()[1]
        events.extend(
            (day, prio, n, sku, ev, qty, doc, rev) for day, prio, ev, qty, doc, rev in history
        )
    events.sort(key=lambda e: (e[0], e[2]))  # chronological ids, like a live shop
    conn = sqlite3.connect(path)
    conn.execute("PRAGMA journal_mode=WAL")
    conn.execute("PRAGMA synchronous=OFF")
    with conn:
        conn.executemany(
            "INSERT INTO skus (sku, description, pack_size, moq, lead_time_days, active, "
            "created_at, updated_at) VALUES (?, '', 1, 0, 0, 1, ?, ?)",
            [(sku, TS, TS) for sku in finals],
        )
        tx_rows, reversals, sales, receiving, audit = [], [], {}, [], []
        for tid, (day, prio, _n, sku, ev, qty, doc, rev) in enumerate(events, start=1):
            day_iso = (START + timedelta(days=day)).isoformat()
            tx_rows.append((tid, day_iso, sku, ev, qty, prio, doc, TS))
            if rev:
                reversals.append((tid, "benchmark", "bench", TS))
            if ev == "SALE" and not rev:
                sales[(sku, day_iso)] = sales.get((sku, day_iso), 0) + qty
            if ev == "RECEIPT":
                receiving.append((doc, sku, day_iso, qty, "h" * 64, TS))
            audit.append({
                "audit_id": tid, "timestamp": TS, "operation": ev.lower(), "user": "bench",
                "sku": sku, "details": canonical_json({"sku": sku, "qty": qty}),
                "run_id": "bench", "duration_ms": 0.0,
            })  # fmt: skip
        conn.executemany(
            "INSERT INTO transactions (transaction_id, date, sku, event, qty, priority, "
            "document_id, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
            tx_rows,
        )
        conn.executemany(
            "INSERT INTO transaction_reversals (transaction_id, reason, user, created_at) "
            "VALUES (?, ?, ?, ?)",
            reversals,
        )
        conn.executemany(
            "INSERT INTO sales (sku, date, qty_sold, promo_flag) VALUES (?, ?, ?, 0)",
            [(sku, day, qty) for (sku, day), qty in sales.items()],
        )
        conn.executemany(
            "INSERT INTO receiving_logs (document_id, sku, receipt_date, qty_received, "
            "document_hash, created_at) VALUES (?, ?, ?, ?, ?, ?)",
            receiving,
        )
        conn.executemany(
            "INSERT INTO lots (sku, transaction_id, received_date, qty_received, qty_remaining, "
            "created_at) VALUES (?, 1, '2024-01-01', ?, ?, ?)",
            [(sku, max(1, final), min(final, 30), TS) for sku, final in finals.items()],
        )
        # What the lots lost, as one opening draw each (what migration 0005 writes).
        conn.execute(
            "INSERT INTO lot_draws (lot_id, qty) SELECT lot_id, qty_received - qty_remaining "
            "FROM lots WHERE qty_remaining < qty_received"
        )
        conn.executemany(
            'INSERT INTO audit_log (audit_id, timestamp, operation, "user", sku, details, '
            "run_id, duration_ms, prev_hash, hash) VALUES (:audit_id, :timestamp, :operation, "
            ":user, :sku, :details, :run_id, :duration_ms, :prev_hash, :hash)",
            chain_rows(audit),
        )
    conn.execute("ANALYZE")
    conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    conn.close()
    return {
        "events": len(events),
        "skus": skus,
        "reversals": len(reversals),
        "sales_rows": len(sales),
        "build_s": round(time.perf_counter() - started, 2),
        "file_mb": round(path.stat().st_size / 1e6, 1),
    }


def best_of(runs: int, fn: Any) -> float:
    """Median wall time in ms of ``runs`` calls of ``fn``."""
    times = []
    for _ in range(runs):
        started = time.perf_counter()
        fn()
        times.append((time.perf_counter() - started) * 1000)
    return round(statistics.median(times), 3)


def measure(path: Path, repeat: int = 3) -> dict[str, Any]:
    """Time the start-up check, check_all and the raw-sqlite3 baseline on ``path``.

    The full check runs ``repeat`` times each way, alternating: one check at a time
    (``workers=1``, whose per-invariant times are each part alone) and concurrently (the
    default); medians are reported. SQLite's ``integrity_check`` alone through raw
    ``sqlite3`` is the floor of the concurrent full check: one statement, one thread.
    """
    url = f"sqlite:///{path}"
    settings = Settings.load(backup_dir=str(path.parent / "backups"))
    open_quick = best_of(5, lambda: Database.open(url, settings=settings).close())
    open_none = best_of(5, lambda: Database.open(url, settings=settings, check=None).close())
    load_before = os.getloadavg()
    db = Database.open(url, settings=settings, check=None)
    try:
        startup = best_of(5, lambda: startup_check(db))
        check_all(db, full=False)  # warm-up: the first pass reads the file into the OS cache
        workers = default_workers(db)
        quick_alone = check_all(db, full=False, workers=1)
        quick = check_all(db, full=False)
        alone: list[HealthReport] = []
        together: list[HealthReport] = []
        for _ in range(repeat):
            alone.append(check_all(db, full=True, workers=1))
            together.append(check_all(db, full=True))
    finally:
        db.close()
    raw = sqlite3.connect(path)
    integrity = best_of(repeat, lambda: raw.execute("PRAGMA integrity_check").fetchall())
    baseline: dict[str, dict[str, float]] = {}
    for invariant in INVARIANTS:
        if isinstance(invariant, QueryInvariant):
            sql = invariant.sql(sqlite_dialect.dialect())
            raw_ms = best_of(1, lambda sql=sql: raw.execute(sql).fetchmany(10))
            ours = quick_alone.result(invariant.name).elapsed_ms
            baseline[invariant.name] = {
                "raw_sqlite3_ms": round(raw_ms, 3),
                "ratio": round(ours / raw_ms, 2) if raw_ms else 0.0,
            }
    raw.close()
    statuses = {report.status.value for report in alone + together}
    return {
        "open_check_quick_ms": open_quick,
        "open_check_none_ms": open_none,
        "startup_check_ms": startup,
        "workers": workers,
        "check_all_quick_ms": quick.elapsed_ms,
        "check_all_quick_sequential_ms": quick_alone.elapsed_ms,
        "check_all_full_ms": median_ms(together),
        "check_all_full_sequential_ms": median_ms(alone),
        "check_all_full_runs_ms": [report.elapsed_ms for report in together],
        "check_all_full_sequential_runs_ms": [report.elapsed_ms for report in alone],
        "raw_integrity_check_ms": integrity,
        "same_results": all(outcome(r) == outcome(alone[0]) for r in alone + together),
        "status": "/".join(sorted(statuses)),
        "queries_total_ms": round(
            sum(r.elapsed_ms for r in quick_alone.results if r.name in baseline), 3
        ),
        "per_invariant_ms": per_invariant_median(alone),
        "per_invariant_concurrent_ms": per_invariant_median(together),
        "per_invariant_quick_ms": {r.name: r.elapsed_ms for r in quick_alone.results},
        "raw_sqlite3_baseline": baseline,
        "load_average_before_after": [round(load_before[0], 2), round(os.getloadavg()[0], 2)],
    }


def median_ms(reports: list[HealthReport]) -> float:
    """Median ``elapsed_ms`` of ``reports``."""
    return round(statistics.median(report.elapsed_ms for report in reports), 3)


def per_invariant_median(reports: list[HealthReport]) -> dict[str, float]:
    """Each invariant's median ``elapsed_ms`` over ``reports``, in registry order."""
    return {
        result.name: round(statistics.median(r.result(result.name).elapsed_ms for r in reports), 3)
        for result in reports[0].results
    }


def outcome(report: HealthReport) -> list[tuple[Any, ...]]:
    """What a report found, without its timings: equal for equal findings."""
    return [(r.name, r.ok, r.count, r.sample, r.detail) for r in report.results]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[100_000, 1_000_000])
    parser.add_argument("--events-per-sku", type=int, default=1000)
    parser.add_argument("--workdir", type=Path, default=None)
    parser.add_argument(
        "--reuse", action="store_true", help="Measure ledgers already built in --workdir."
    )
    parser.add_argument(
        "--repeat", type=int, default=3, help="Full checks per mode (medians reported)."
    )
    args = parser.parse_args(argv)
    workdir = args.workdir or Path(tempfile.mkdtemp(prefix="ic_bench_invariants_"))
    workdir.mkdir(parents=True, exist_ok=True)
    results: dict[str, Any] = {"python": sys.version.split()[0], "sqlite": sqlite3.sqlite_version}
    runs = []
    for size in args.sizes:
        path = workdir / f"ledger_{size}.db"
        if args.reuse and path.exists():
            built = {"events": size, "skus": size // args.events_per_sku, "reused": True}
        else:
            for leftover in workdir.glob(f"ledger_{size}.db*"):
                leftover.unlink()
            built = build(path, max(1, size // args.events_per_sku), args.events_per_sku)
        runs.append({"ledger": built, **measure(path, args.repeat)})
    results["runs"] = runs
    if len(runs) >= 2:
        small, large = runs[0], runs[-1]
        factor = large["ledger"]["events"] / small["ledger"]["events"]
        results["scaling"] = {
            "events_factor": round(factor, 1),
            "time_factor_per_invariant": {
                name: round(ms / max(small["per_invariant_ms"][name], 0.001), 1)
                for name, ms in large["per_invariant_ms"].items()
            },
            "check_all_full_factor": round(
                large["check_all_full_ms"] / small["check_all_full_ms"], 1
            ),
        }
    results["workdir"] = str(workdir)
    print(json.dumps(results, indent=2))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
