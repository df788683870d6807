"""Per-SKU read costs of the shop queries against raw sqlite3 on the same file, same run.

Builds the shop of ``benchmarks/proposals.py`` (N SKUs, default 2,000), then times, per
call, ``Inventory.on_order_by_date`` (pipeline), ``position``, ``lots(asof=...)`` and the
all-SKU ``expiring`` against hand-written raw SQL giving the same rows, as of a day after
every event (so the as-of forms and the current state agree and can be compared). Checks
the answers agree and prints one JSON document with microseconds per call and the ratio.

Two yardsticks for the pipeline and the lots: ``raw_us`` reads the current-state columns
(``order_logs.qty_received``, ``lots.qty_remaining``, the ``stock`` view) that give the
same answer after every event, what an application without as-of reads would run;
``raw_asof_us`` is the same as-of computation written by hand (receipts, closures and lot
draws dated before the day, reversals left out), the like-for-like comparison. The
library's figure includes its read unit of work, the SKU lookup and the result objects.

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
RAW_PIPELINE_ASOF = """
SELECT expected_date, SUM(open), COUNT(*) FROM (
  SELECT o.expected_date, o.qty_ordered - (
    SELECT COALESCE(SUM(r.qty), 0) FROM order_receipts r
    JOIN transactions t ON t.transaction_id = r.transaction_id
    WHERE r.order_id = o.order_id AND t.date < :asof
      AND t.transaction_id NOT IN (SELECT transaction_id FROM transaction_reversals)) AS open
  FROM order_logs o
  WHERE o.sku = :sku AND o.order_date < :asof AND o.status != 'CANCELLED'
    AND (o.transaction_id IS NULL
         OR o.transaction_id NOT IN (SELECT transaction_id FROM transaction_reversals))
    AND NOT EXISTS (SELECT 1 FROM order_closures c
      WHERE c.order_id = o.order_id AND c.date < :asof AND c.reopens_id IS NULL
        AND c.closure_id NOT IN (SELECT reopens_id FROM order_closures
                                 WHERE reopens_id IS NOT NULL)))
WHERE open > 0 GROUP BY expected_date ORDER BY expected_date IS NULL, expected_date
"""
RAW_LOTS_ASOF = """
SELECT lot_id, remaining FROM (
  SELECT l.lot_id, l.expiry_date, l.qty_received - (
    SELECT COALESCE(SUM(d.qty), 0) FROM lot_draws d
    LEFT JOIN transactions t ON t.transaction_id = d.transaction_id
    WHERE d.lot_id = l.lot_id AND (d.transaction_id IS NULL
      OR (d.reversal_id IS NOT NULL AND t.date < :asof)
      OR (d.reversal_id IS NULL AND t.date < :asof AND d.transaction_id NOT IN
          (SELECT transaction_id FROM transaction_reversals)))) AS remaining
  FROM lots l
  WHERE l.sku = :sku AND l.received_date < :asof
    AND l.transaction_id NOT IN (SELECT transaction_id FROM transaction_reversals))
WHERE remaining > 0 ORDER BY expiry_date IS NULL, expiry_date, lot_id
"""
RAW_EXPIRING_ASOF = RAW_LOTS_ASOF.replace(
    "l.sku = :sku", "l.expiry_date <= date(:asof, '+30 days')"
).replace("ORDER BY expiry_date IS NULL, expiry_date, lot_id", "ORDER BY expiry_date, lot_id")
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

        def raw_pipe_asof(code: str) -> list[tuple[Any, ...]]:
            rows = raw.execute(RAW_PIPELINE_ASOF, {"asof": asof, "sku": code}).fetchall()
            return [r if r[0] is not None else (None, r[1]) for r in rows]

        def raw_lots_asof(code: str) -> list[tuple[Any, ...]]:
            return raw.execute(RAW_LOTS_ASOF, {"asof": asof, "sku": code}).fetchall()

        checks = {
            "pipeline": all(pipe(c) == raw_pipe(c) == raw_pipe_asof(c) for c in codes[:50]),
            "expiring": [lot.lot_id for lot in inv.expiring(30, asof=ASOF)]
            == [r[0] for r in raw.execute(RAW_EXPIRING, (asof,)).fetchall()]
            == [r[0] for r in raw.execute(RAW_EXPIRING_ASOF, {"asof": asof}).fetchall()],
            "lots_asof": all(
                [(lot.lot_id, lot.qty_remaining) for lot in inv.lots(c, asof=ASOF)]
                == raw.execute(RAW_LOTS, (c,)).fetchall()
                == raw_lots_asof(c)
                for c in codes[:50]
            ),
        }
        results = {
            "pipeline": (
                per_call(pipe, codes),
                per_call(raw_pipe, codes),
                per_call(raw_pipe_asof, codes),
            ),
            "position": (
                per_call(lambda c: inv.position(c, ASOF), codes),
                per_call(lambda c: raw.execute(RAW_POSITION, (asof, c)).fetchone(), codes),
                None,
            ),
            "lots_asof": (
                per_call(lambda c: inv.lots(c, asof=ASOF), codes),
                per_call(lambda c: raw.execute(RAW_LOTS, (c,)).fetchall(), codes),
                per_call(raw_lots_asof, codes),
            ),
            "expiring_all_skus": (
                per_call(lambda c: inv.expiring(30, asof=ASOF), codes[:5]),
                per_call(lambda c: raw.execute(RAW_EXPIRING, (asof,)).fetchall(), codes[:5]),
                per_call(
                    lambda c: raw.execute(RAW_EXPIRING_ASOF, {"asof": asof}).fetchall(), codes[:5]
                ),
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
                        **(
                            {"raw_asof_us": round(like, 1), "ratio_asof": round(lib / like, 2)}
                            if like
                            else {}
                        ),
                    }
                    for name, (lib, rw, like) in results.items()
                },
            },
            indent=2,
        )
    )


if __name__ == "__main__":
    main()
