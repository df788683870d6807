"""Adopting a desktop-order-system store: a synthetic legacy folder of SKUS x DAYS of daily
sales (plus weekly orders and receipts, monthly cycle counts) imported with ``adopt``, next to
raw ``executemany`` of the same ledger rows into the same schema, in the same run.

Prints JSON: rows read, events written, seconds, events/s, the ratio to raw, the report's
totals and the peak resident memory (``ru_maxrss``) of the process when the import is done
(before the raw baseline, which loads its rows at once). Run from the repository
root::

    .venv/bin/python benchmarks/adopt.py                     # 100 SKUs x 365 days
    .venv/bin/python benchmarks/adopt.py --skus 1000 --days 3650
"""

from __future__ import annotations

import argparse
import csv
import json
import random
import resource
import shutil
import sys
import time
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import workloads as w

from inventory_core.adopt import adopt, open_source

START = date(2016, 1, 4)


def write_folder(folder: Path, skus: int, days: int, seed: int = 0) -> int:
    """A legacy data folder; returns the number of ledger and sales rows written."""
    rng = random.Random(seed)
    folder.mkdir(parents=True, exist_ok=True)
    codes = [f"SKU{i:05d}" for i in range(skus)]
    with (folder / "skus.csv").open("w", newline="", encoding="utf-8") as out:
        writer = csv.writer(out)
        writer.writerow(("sku", "description", "ean", "moq", "pack_size", "review_period"))
        writer.writerows((code, f"Item {code}", "", 6, 6, 7) for code in codes)
    rows = 0
    with (
        (folder / "transactions.csv").open("w", newline="", encoding="utf-8") as tx_file,
        (folder / "sales.csv").open("w", newline="", encoding="utf-8") as sales_file,
    ):
        tx = csv.writer(tx_file)
        sales = csv.writer(sales_file)
        tx.writerow(("date", "sku", "event", "qty", "receipt_date", "note"))
        sales.writerow(("date", "sku", "qty_sold"))
        for code in codes:
            tx.writerow((START.isoformat(), code, "SNAPSHOT", 60, "", ""))
            rows += 1
        for i in range(days):
            day = (START + timedelta(days=i)).isoformat()
            for code in codes:
                if i % 7 == 0:
                    tx.writerow((day, code, "ORDER", 60, day, f"Ordine ORD-{day}-{code}"))
                    tx.writerow((day, code, "RECEIPT", 60, "", f"Ordine ORD-{day}-{code}"))
                    rows += 2
                if i % 30 == 29:
                    tx.writerow((day, code, "ADJUST", rng.randint(0, 40), "", "Conteggio"))
                    rows += 1
                sales.writerow((day, code, rng.randint(0, 14)))
                rows += 1
    return rows


def main(argv: list[str] | None = None) -> int:
    """Generate the folder, adopt it, measure raw executemany of its rows, print JSON."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--skus", type=int, default=100)
    parser.add_argument("--days", type=int, default=365)
    parser.add_argument("--workdir", type=Path, default=None)
    args = parser.parse_args(argv)
    workdir = args.workdir or w.temp_dir("ic_bench_adopt_")
    try:
        results = run(workdir, args.skus, args.days)
    finally:
        if args.workdir is None:
            shutil.rmtree(workdir, ignore_errors=True)
    print(json.dumps(results, indent=2))
    return 0


def run(workdir: Path, skus: int, days: int) -> dict[str, Any]:
    """The measurement (see the module docstring)."""
    folder = workdir / "data"
    rows = write_folder(folder, skus, days)
    target = workdir / "adopted.db"
    with w.open_db(target) as db:
        db.upgrade()
        started = time.perf_counter()
        with open_source(folder) as source:
            result = adopt(db, source)
        seconds = time.perf_counter() - started
    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    events = len(result.translation.events)
    raw = w.bulk_raw_rate(target, workdir, one_transaction=True)
    rate = events / seconds
    print(f"adopt: {rate:,.0f} events/s, raw {raw['events_per_s']:,.0f}", file=sys.stderr)
    return {
        "skus": skus,
        "days": days,
        "legacy_rows": rows,
        "events": events,
        "seconds": round(seconds, 2),
        "events_per_s": round(rate),
        "raw_executemany": raw,
        "ratio_to_raw": round(rate / raw["events_per_s"], 3),
        "peak_rss_mb_after_adopt": round(peak_mb, 1),
        "report_totals": result.translation.totals(),
    }


if __name__ == "__main__":
    raise SystemExit(main())
