"""Benchmark of ledger coverage: what sealing costs a sale, and ``audit verify`` over 1M rows.

Compares the library in this checkout with another checkout of it (``--baseline``, e.g. a
``git worktree`` of the commit before ledger coverage) in the same run, in alternating
rounds, each round in a fresh process. Prints one JSON document::

    git worktree add /tmp/baseline <commit>
    .venv/bin/python benchmarks/coverage.py --baseline /tmp/baseline
    .venv/bin/python benchmarks/coverage.py --baseline /tmp/baseline --rows 100000

1. **sell**: ``Inventory.sell`` per second on a stocked SQLite file (``--sells`` a round).
2. **verify**: ``audit.verify`` of a ledger of ``--rows`` sales, each with its own audit row
   (the worst case for coverage: one run per row), built with ``executemany``. The baseline
   walks the chain only; this checkout also proves every ledger row is sealed.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import date
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent.parent
DAY = date(2026, 2, 12)
SKUS = 20


def _open(path: Path) -> Any:
    from inventory_core import Database, Settings

    settings = Settings.load(backup_dir=path.parent / "backups")
    db = Database.open(f"sqlite:///{path}", settings=settings, check=None)
    db.upgrade()
    return db


def worker_sell(sells: int) -> dict[str, Any]:
    """Sales per second through the public API on a fresh, stocked file."""
    from inventory_core import Inventory

    with tempfile.TemporaryDirectory() as folder:
        db = _open(Path(folder) / "sell.db")
        inv = Inventory(db, user="bench")
        for n in range(SKUS):
            inv.add_sku(f"SKU{n:03d}", "bench item")
            inv.snapshot(f"SKU{n:03d}", 10_000_000, on=date(2026, 1, 1))
        for n in range(200):  # warm-up
            inv.sell(f"SKU{n % SKUS:03d}", 1, on=DAY)
        started = time.perf_counter()
        for n in range(sells):
            inv.sell(f"SKU{n % SKUS:03d}", 1, on=DAY)
        elapsed = time.perf_counter() - started
        db.close()
    return {"sells_per_s": round(sells / elapsed, 1)}


def worker_verify(rows: int, repeats: int) -> dict[str, Any]:
    """Seconds of ``audit.verify`` over ``rows`` sales with one audit row each."""
    from sqlalchemy import insert

    from inventory_core import audit
    from inventory_core.audit import trail
    from inventory_core.models import AuditLog, Sku, Transaction

    try:
        from inventory_core.audit import coverage
    except ImportError:  # the baseline: no ledger coverage
        coverage = None  # type: ignore[assignment]
    with tempfile.TemporaryDirectory() as folder:
        db = _open(Path(folder) / "verify.db")
        stamp = "2026-02-12T10:00:00.000000Z"
        with db.unit_of_work() as uow:
            uow.execute(insert(Sku), [{"sku": f"SKU{n:03d}"} for n in range(SKUS)])
            batch: list[dict[str, Any]] = []
            audits: list[dict[str, Any]] = []
            for tid in range(1, rows + 1):
                sku = f"SKU{tid % SKUS:03d}"
                batch.append(
                    {
                        "transaction_id": tid,
                        "date": DAY,
                        "sku": sku,
                        "event": "SALE",
                        "qty": 1,
                        "priority": 2,
                        "created_at": stamp,
                    }
                )
                row: dict[str, Any] = {
                    "timestamp": stamp,
                    "operation": "sell",
                    "user": "bench",
                    "details": f'{{"qty":1,"sku":"{sku}","transaction_id":{tid}}}',
                    "run_id": "bench",
                    "duration_ms": 0.25,
                }
                if coverage is not None:
                    text = coverage.row_text(
                        (tid, DAY.isoformat(), sku, "SALE", 1, 2, None, None, stamp)
                    )
                    row["sku"] = sku
                    row["ledger"] = coverage.encode(
                        {"transactions": [[tid, tid, coverage.digest_of((text,))]]}
                    )
                audits.append(row)
                if len(batch) == 50_000:
                    uow.execute(insert(Transaction), batch)
                    batch = []
            if batch:
                uow.execute(insert(Transaction), batch)
            chained = list(trail.chain_rows(audits))
            for start in range(0, len(chained), 50_000):
                uow.execute(insert(AuditLog), chained[start : start + 50_000])
            uow.commit()
        samples = []
        for _ in range(repeats):
            started = time.perf_counter()
            report = audit.verify(db)
            samples.append(time.perf_counter() - started)
            assert report.ok, report.reason
        db.close()
    return {"verify_s": round(min(samples), 3), "samples": [round(s, 3) for s in samples]}


def run_worker(tree: Path, *args: str) -> dict[str, Any]:
    """One measurement in a fresh process that imports the library from ``tree``."""
    env = {**os.environ, "PYTHONPATH": str(tree)}
    done = subprocess.run(
        [sys.executable, __file__, "--worker", *args],
        env=env,
        capture_output=True,
        text=True,
        check=True,
    )
    return dict(json.loads(done.stdout.strip().splitlines()[-1]))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--baseline", type=Path, help="a checkout of the library to compare")
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--sells", type=int, default=3_000)
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--worker", nargs="+", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.worker:
        kind, *rest = args.worker
        result = worker_sell(int(rest[0])) if kind == "sell" else worker_verify(*map(int, rest))
        print(json.dumps(result))
        return
    trees = {"current": HERE}
    if args.baseline is not None:
        trees["baseline"] = args.baseline.resolve()
    sells: dict[str, list[float]] = {name: [] for name in trees}
    for _ in range(args.rounds):
        for name, tree in trees.items():
            sells[name].append(run_worker(tree, "sell", str(args.sells))["sells_per_s"])
    verify = {name: run_worker(tree, "verify", str(args.rows), "3") for name, tree in trees.items()}
    out: dict[str, Any] = {
        "rows": args.rows,
        "sell_per_s": {name: statistics.median(v) for name, v in sells.items()},
        "sell_rounds": sells,
        "verify_s": {name: v["verify_s"] for name, v in verify.items()},
    }
    if "baseline" in trees:
        out["sell_ratio_vs_baseline"] = round(
            out["sell_per_s"]["current"] / out["sell_per_s"]["baseline"], 3
        )
        out["verify_ratio_vs_baseline"] = round(
            out["verify_s"]["current"] / out["verify_s"]["baseline"], 3
        )
    print(json.dumps(out, indent=2))


if __name__ == "__main__":
    main()
