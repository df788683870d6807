"""Per-SKU read costs of the shop queries against raw sqlite3 on the same file, same run.

Builds the shop of ``benchmarks/proposals.py`` (N SKUs, default 2,000), then times, per
call, ``Inventory.on_order_by_date`` (pipeline), ``position``, ``lots(asof=...)`` and the
all-SKU ``expiring`` against hand-written raw SQL giving the same rows, as of a day after
every event (so the as-of forms and the current state agree and can be compared). Checks
the answers agree and prints one JSON document with microseconds per call and the ratio.

The raw SQL reads the current-state columns (``order_logs.qty_received``,
``lots.qty_remaining``, the ``stock`` view) that give the same answer after every event;
the library computes the as-of answer from the ledger (replaying receipts, closures and lot
draws) inside a read unit of work, so the ratios are an upper bound of what an as-of read
costs over a current-state lookup, not a like-for-like comparison of the same plan.

    .venv/bin/python benchmarks/reads_per_sku.py
    .venv/bin/python benchmarks/reads_per_sku.py --skus 500 --calls 200
"""

from __future__ import annotations

import argparse
import json
import random
import sqlite3
import sys
import tempfile
import time
from collections.abc import Callable
from datetime import date
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

from proposals import build

from inventory_core import Database, Inventory, ReceiptLine

ASOF = date(2026, 6, 1)

RAW_PIPELINE = """
SELECT expected_date, SUM(qty_ordered - qty_received), COUNT(*) FROM order_logs
WHERE sku = ? AND status IN ('PENDING', 'PARTIAL') AND qty_ordered > qty_received
GROUP BY expected_date ORDER BY expected_date IS NULL, expected_date
"""
RAW_POSITION = """
SELECT s.on_hand + COALESCE((SELECT SUM(o.qty_ordered - o.qty_received) FROM order_logs o
    JOIN skus k ON k.sku = o.sku
    WHERE o.sku = s.sku AND o.status IN ('PENDING', 'PARTIAL')
      AND COALESCE(o.expected_date, date(o.order_date, '+' || k.lead_time_days || ' days'))
          <= date(?, '+' || k.lead_time_days || ' days')), 0) - s.unfulfilled
FROM stock s WHERE s.sku = ?
"""
RAW_LOTS = """
SELECT lot_id, qty_remaining FROM lots WHERE sku = ? AND qty_remaining > 0
ORDER BY expiry_date IS NULL, expiry_date, lot_id
"""
RAW_EXPIRING = """
SELECT lot_id FROM lots WHERE qty_remaining > 0 AND expiry_date <= date(?, '+30 days')
ORDER BY expiry_date, lot_id
"""


def per_call(fn: Callable[[str], Any], codes: list[str]) -> float:
    """Microseconds per call of ``fn`` over ``codes`` (best of three passes)."""
    best = float("inf")
    for _ in range(3):
        started = time.perf_counter()
        for code in codes:
            fn(code)
        best = min(best, (time.perf_counter() - started) / len(codes))
    return best * 1e6


def main() -> None:
    """Build, time each read against its raw SQL, compare, print JSON."""
    parser = argparse.ArgumentParser()
    parser.add_argument("--skus", type=int, default=2_000)
    parser.add_argument("--calls", type=int, default=300)
    args = parser.parse_args()
    rng = random.Random(7)
    with tempfile.TemporaryDirectory() as work:
        path = Path(work) / "bench.db"
        db = Database.open(f"sqlite:///{path}")
        db.upgrade()
        build(db, args.skus)
        inv = Inventory(db, user="bench")
        for n in range(0, args.skus, 5):
            code = f"SKU{n:05d}"
            inv.receive(
                f"L{n}",
                [ReceiptLine(code, 10, expiry=date(2026, 6, 1 + n % 28))],
                on=date(2026, 2, 20),
            )
            inv.sell(code, 3 + n % 7, on=date(2026, 2, 21))
        raw = sqlite3.connect(path)
        codes = [f"SKU{rng.randrange(args.skus):05d}" for _ in range(args.calls)]
        asof = ASOF.isoformat()

        def pipe(code: str) -> list[tuple[Any, ...]]:
            found = inv.on_order_by_date(code, ASOF)
            rows = [(d.expected.isoformat(), d.qty, d.orders) for d in found.dated]
            return rows + ([(None, found.undated)] if found.undated else [])

        def raw_pipe(code: str) -> list[tuple[Any, ...]]:
            rows = raw.execute(RAW_PIPELINE, (code,)).fetchall()
            return [r if r[0] is not None else (None, r[1]) for r in rows]

        checks = {
            "pipeline": all(pipe(c) == raw_pipe(c) for c in codes[:50]),
            "expiring": [lot.lot_id for lot in inv.expiring(30, asof=ASOF)]
            == [r[0] for r in raw.execute(RAW_EXPIRING, (asof,)).fetchall()],
            "lots_asof": all(
                [(lot.lot_id, lot.qty_remaining) for lot in inv.lots(c, asof=ASOF)]
                == raw.execute(RAW_LOTS, (c,)).fetchall()
                for c in codes[:50]
            ),
        }
        results = {
            "pipeline": (per_call(pipe, codes), per_call(raw_pipe, codes)),
            "position": (
                per_call(lambda c: inv.position(c, ASOF), codes),
                per_call(lambda c: raw.execute(RAW_POSITION, (asof, c)).fetchone(), codes),
            ),
            "lots_asof": (
                per_call(lambda c: inv.lots(c, asof=ASOF), codes),
                per_call(lambda c: raw.execute(RAW_LOTS, (c,)).fetchall(), codes),
            ),
            "expiring_all_skus": (
                per_call(lambda c: inv.expiring(30, asof=ASOF), codes[:5]),
                per_call(lambda c: raw.execute(RAW_EXPIRING, (asof,)).fetchall(), codes[:5]),
            ),
        }
        raw.close()
        db.close()
    print(
        json.dumps(
            {
                "benchmark": "reads_per_sku",
                "skus": args.skus,
                "calls": args.calls,
                "agree": checks,
                "queries": {
                    name: {
                        "library_us": round(lib, 1),
                        "raw_us": round(rw, 1),
                        "ratio": round(lib / rw, 2) if rw else None,
                    }
                    for name, (lib, rw) in results.items()
                },
            },
            indent=2,
        )
    )


if __name__ == "__main__":
    main()
