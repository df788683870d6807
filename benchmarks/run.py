"""The benchmark suite (``make bench``): every workload of issue 8 next to its raw baseline.

Writes ``benchmarks/results/results.json``, ``results.md`` (the table of
docs/performance.md) and ``stock_all_scaling.png``. Run from the repository root::

    .venv/bin/python benchmarks/run.py            # default sizes, under 10 minutes
    .venv/bin/python benchmarks/run.py --full     # adds the 10M-event row and the 10-year adopt

With ``INVENTORY_CORE_TEST_POSTGRES_URL`` set, the same reads run on PostgreSQL (a fresh
database, dropped afterwards) and are reported next to SQLite.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shutil
import sqlite3
import sys
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import adopt
import pg
import report
import scale
import workloads as w

from inventory_core import Inventory
from inventory_core.tools.generate import generate, sku_code

RESULTS = Path(__file__).resolve().parent / "results"
CURVE = [(1_000, 100_000), (1_000, 1_000_000), (10_000, 1_000_000), (100_000, 1_000_000)]
FULL_ROW = (1_000, 10_000_000)
GENERATED = (1_000, 100_000)


def log(message: str) -> None:
    """Progress on stderr, so stdout stays the JSON document."""
    print(f"[{time.strftime('%H:%M:%S')}] {message}", file=sys.stderr, flush=True)


def bench_generated(
    workdir: Path, repeat: int, size: tuple[int, int]
) -> tuple[dict[str, Any], Path]:
    """Generate the shop through the bulk path, then time the per-SKU reads and writes."""
    path = workdir / "generated.db"
    skus, events = size
    with w.open_db(path) as db:
        db.upgrade()
        made = generate(db, skus=skus, events=events, seed=0)
    log(f"generate: {made.events_per_second:,.0f} events/s")
    raw_bulk = w.bulk_raw_rate(path, workdir)
    out: dict[str, Any] = {
        "generate": {
            "skus": skus,
            "events": made.events,
            "seconds": round(made.seconds, 2),
            "events_per_s": round(made.events_per_second),
            "raw_executemany_events_per_s": round(raw_bulk["events_per_s"]),
            "ratio": round(raw_bulk["events_per_s"] / made.events_per_second, 2),
        }
    }
    sku = sku_code(skus // 2)
    asof = w.latest_day(path)
    out["per_sku"] = w.per_sku(path, sku, asof, repeat)
    log("per-SKU reads done")
    out["single_write"] = w.single_write(path, sku, asof, max(repeat, 30))
    out["backup"] = w.backup(path, workdir, 5)
    out["csv"] = w.csv_roundtrip(path, workdir, 3)
    log("writes, backup, CSV done")
    return out, path


def _stock_all_row(path: Path, built: dict[str, Any], repeat: int) -> dict[str, Any]:
    asof = w.latest_day(path)
    raw = sqlite3.connect(path)
    with w.open_db(path) as db:
        inv = Inventory(db)
        lib = {k: (v.on_hand, v.on_order, v.unfulfilled) for k, v in inv.stock_all(asof).items()}
        exact = lib == scale.raw_jump(raw, asof) == scale.raw_fold(raw, asof)
        jump = w.paired(lambda: inv.stock_all(asof), lambda: scale.raw_jump(raw, asof), repeat)
        fold = w.paired(lambda: None, lambda: scale.raw_fold(raw, asof), max(3, repeat // 2), 0)
    raw.close()
    fastest = min(jump["raw_ms"]["median"], fold["raw_ms"]["median"])
    return {
        **built,
        "library_ms": jump["library_ms"],
        "raw_jump_ms": jump["raw_ms"],
        "raw_fold_ms": fold["raw_ms"],
        "ratio_vs_jump": jump["ratio"],
        "ratio_vs_fastest": round(jump["library_ms"]["median"] / fastest, 2),
        "fastest_raw": "jump" if fastest == jump["raw_ms"]["median"] else "fold",
        "exact": exact,
    }


def bench_curve(
    workdir: Path, curve: list[tuple[int, int]], repeat: int
) -> tuple[list[dict[str, Any]], Path]:
    """stock_all along the scaling curve; returns the rows and the second ledger's path."""
    rows = []
    keep = workdir / "curve_{}_{}.db".format(*curve[1])
    for skus, events in curve:
        path = workdir / f"curve_{skus}_{events}.db"
        built = scale.build(path, skus, events)
        log(f"built {skus:,} SKUs x {events:,} events in {built['build_s']} s")
        rows.append(_stock_all_row(path, built, 3 if events >= 10_000_000 else repeat))
        log(f"stock_all {rows[-1]['library_ms']['median']:.1f} ms")
        if path != keep:
            for leftover in workdir.glob(path.name + "*"):
                leftover.unlink()
    return rows, keep


def _scaled(size: tuple[int, int], factor: float) -> tuple[int, int]:
    return max(10, int(size[0] * factor)), max(1_000, int(size[1] * factor))


def run_suite(workdir: Path, full: bool, repeat: int, scale_by: float) -> dict[str, Any]:
    """Every workload, in one process, at the default sizes times ``scale_by``."""
    started = time.perf_counter()
    results: dict[str, Any] = {
        "command": "python benchmarks/run.py" + (" --full" if full else ""),
        "when": datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
        "machine": {
            "python": platform.python_version(),
            "sqlite": sqlite3.sqlite_version,
            "cpus": os.cpu_count(),
            "platform": platform.platform(),
        },
    }
    generated_size = _scaled(GENERATED, scale_by)
    curve = [_scaled(p, scale_by) for p in CURVE + ([FULL_ROW] if full else [])]
    generated, _ = bench_generated(workdir, repeat, generated_size)
    results.update(generated)
    results["stock_all_curve"], big = bench_curve(workdir, curve, min(repeat, 5))
    results["full_check_1m"] = w.full_check(big, 3)
    log(f"full check {results['full_check_1m']['library_ms']['median']:.0f} ms")
    adopt_size = (1_000, 3_650) if full else (max(1, int(100 * scale_by)), 365)
    results["adopt"] = adopt.run(workdir / "adopt", *adopt_size)
    log(f"adopt {results['adopt']['events_per_s']:,} events/s")
    if os.environ.get(pg.ENV):
        results["postgresql"] = pg.bench(repeat, results, big, generated_size)
        log("PostgreSQL done")
    results["seconds"] = round(time.perf_counter() - started, 1)
    return results


def main(argv: list[str] | None = None) -> int:
    """Run the suite and write the results."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--full", action="store_true", help="add the 10M-event row")
    parser.add_argument("--repeat", type=int, default=15, help="runs per measurement")
    parser.add_argument("--out", type=Path, default=RESULTS, help="results folder")
    parser.add_argument("--workdir", type=Path, default=None, help="scratch folder")
    parser.add_argument(
        "--scale", type=float, default=1.0, help="multiply every size (0.01 for a smoke run)"
    )
    args = parser.parse_args(argv)
    workdir = args.workdir or w.temp_dir("ic_bench_suite_")
    workdir.mkdir(parents=True, exist_ok=True)
    try:
        results = run_suite(workdir, args.full, args.repeat, args.scale)
    finally:
        if args.workdir is None:
            shutil.rmtree(workdir, ignore_errors=True)
    args.out.mkdir(parents=True, exist_ok=True)
    (args.out / "results.json").write_text(json.dumps(results, indent=2) + "\n")
    (args.out / "results.md").write_text(report.markdown(results))
    chart = report.chart(results, args.out / "stock_all_scaling.png")
    log(f"wrote {args.out}/results.json, results.md" + (f", {chart.name}" if chart else ""))
    print(json.dumps(results, indent=2))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
