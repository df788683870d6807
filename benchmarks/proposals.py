"""Reorder proposals benchmark: ``Inventory.reorder_proposals`` against raw sqlite3.

Builds a shop of N SKUs (default 10,000) with counts, sales, orders (some received in part,
some without an expected date) and planning fields, then times the library's one-statement
proposals against a hand-written raw SQL query computing the same proposals on the same
file, in the same run, and checks the two agree. Prints one JSON document.

    .venv/bin/python benchmarks/proposals.py            # 10,000 SKUs
    .venv/bin/python benchmarks/proposals.py --skus 1000
"""

from __future__ import annotations

import argparse
import json
import random
import sqlite3
import tempfile
import time
from collections.abc import Callable
from datetime import date, timedelta
from pathlib import Path
from typing import Any

from inventory_core import Database, Inventory, ReceiptLine
from inventory_core.models import EventType

START = date(2026, 1, 1)
ASOF = START + timedelta(days=40)

RAW_PROPOSALS = """
WITH rev AS (SELECT transaction_id FROM transaction_reversals),
hand AS (
  SELECT s.sku,
    COALESCE((SELECT t.qty FROM transactions t WHERE t.sku = s.sku AND t.event = 'SNAPSHOT'
       AND t.date < :asof AND t.transaction_id NOT IN rev ORDER BY t.date DESC LIMIT 1), 0)
    + COALESCE((SELECT SUM(CASE WHEN e.event IN ('SALE', 'WASTE') THEN -e.qty
         WHEN e.event IN ('RECEIPT', 'ADJUST') THEN e.qty ELSE 0 END)
       FROM transactions e WHERE e.sku = s.sku AND e.date < :asof AND e.transaction_id NOT IN rev
         AND e.date >= COALESCE((SELECT t.date FROM transactions t WHERE t.sku = s.sku
           AND t.event = 'SNAPSHOT' AND t.date < :asof AND t.transaction_id NOT IN rev
           ORDER BY t.date DESC LIMIT 1), '0001-01-01')), 0) AS on_hand,
    COALESCE((SELECT SUM(u.qty) FROM transactions u WHERE u.sku = s.sku
       AND u.event = 'UNFULFILLED' AND u.date < :asof AND u.transaction_id NOT IN rev), 0)
       AS unfulfilled
  FROM skus s WHERE s.active AND s.reorder_point IS NOT NULL
),
open_orders AS (
  SELECT o.sku, o.qty_ordered - COALESCE((SELECT SUM(r.qty) FROM order_receipts r
      JOIN transactions rt ON rt.transaction_id = r.transaction_id
      WHERE r.order_id = o.order_id AND rt.date < :asof AND rt.transaction_id NOT IN rev), 0)
      AS open,
    COALESCE(o.expected_date, date(o.order_date, '+' || s.lead_time_days || ' days')) AS arrives,
    date(:asof, '+' || s.lead_time_days || ' days') AS horizon
  FROM order_logs o JOIN skus s ON s.sku = o.sku
  WHERE o.order_date < :asof AND o.status != 'CANCELLED'
    AND (o.transaction_id IS NULL OR o.transaction_id NOT IN rev)
    AND NOT EXISTS (SELECT 1 FROM order_closures c WHERE c.order_id = o.order_id
      AND c.date < :asof AND c.reopens_id IS NULL AND c.closure_id NOT IN
        (SELECT reopens_id FROM order_closures WHERE reopens_id IS NOT NULL))
),
incoming AS (
  SELECT sku, SUM(open) AS qty FROM open_orders WHERE open > 0 AND arrives <= horizon
  GROUP BY sku
),
pos AS (
  SELECT h.sku, h.on_hand + COALESCE(i.qty, 0) - h.unfulfilled AS position
  FROM hand h LEFT JOIN incoming i ON i.sku = h.sku
),
need AS (
  SELECT p.sku, p.position, s.reorder_point, s.pack_size, s.moq,
    COALESCE(s.max_stock, s.reorder_point + COALESCE(s.safety_stock, 0)) - p.position AS need
  FROM pos p JOIN skus s ON s.sku = p.sku
)
SELECT sku, MAX(moq, ((need + pack_size - 1) / pack_size) * pack_size) AS qty
FROM need WHERE position <= reorder_point AND need > 0 ORDER BY sku
"""


def build(db: Database, skus: int) -> None:
    """A shop: every SKU counted, sold for 30 days (bulk), some with orders."""
    rng = random.Random(17)
    inv = Inventory(db, user="bench")
    for n in range(skus):
        inv.add_sku(
            f"SKU{n:05d}",
            pack_size=rng.choice([1, 6, 12, 24]),
            moq=rng.choice([0, 12, 24]),
            lead_time_days=rng.randint(1, 7),
            reorder_point=rng.randint(5, 40),
            safety_stock=rng.choice([None, 5, 10]),
            max_stock=rng.choice([None, 80, 120]),
        )
    events: list[dict[str, Any]] = []
    for n in range(skus):
        code = f"SKU{n:05d}"
        events.append({"sku": code, "event": EventType.SNAPSHOT, "qty": 60, "date": START})
        for offset in range(1, 31, 3):
            events.append(
                {
                    "sku": code,
                    "event": EventType.SALE,
                    "qty": rng.randint(1, 5),
                    "date": START + timedelta(days=offset),
                }
            )
    inv.record_many(events)
    for n in range(0, skus, 3):
        code = f"SKU{n:05d}"
        expected = None if n % 2 else START + timedelta(days=rng.randint(38, 50))
        order_id = inv.order(code, 24, on=START + timedelta(days=35), expected=expected)
        if n % 9 == 0:
            inv.receive(
                f"D{n}", [ReceiptLine(code, 6, order_id=order_id)], on=ASOF - timedelta(days=1)
            )


def best_of(fn: Callable[[], Any], repeat: int) -> float:
    """The fastest of ``repeat`` runs, in seconds."""
    times = []
    for _ in range(repeat):
        started = time.perf_counter()
        fn()
        times.append(time.perf_counter() - started)
    return min(times)


def main() -> None:
    """Build, time both, compare, print JSON."""
    parser = argparse.ArgumentParser()
    parser.add_argument("--skus", type=int, default=10_000)
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as work:
        path = Path(work) / "bench.db"
        db = Database.open(f"sqlite:///{path}")
        db.upgrade()
        build(db, args.skus)
        inv = Inventory(db, user="bench")
        raw = sqlite3.connect(path)
        params = {"asof": ASOF.isoformat()}
        lib = inv.reorder_proposals(asof=ASOF)
        expected = raw.execute(RAW_PROPOSALS, params).fetchall()
        agree = [(p.sku, p.qty) for p in lib] == [(r[0], r[1]) for r in expected]
        lib_s = best_of(lambda: inv.reorder_proposals(asof=ASOF), args.repeat)
        raw_s = best_of(lambda: raw.execute(RAW_PROPOSALS, params).fetchall(), args.repeat)
        raw.close()
        db.close()
    print(
        json.dumps(
            {
                "skus": args.skus,
                "proposals": len(lib),
                "agree_with_raw": agree,
                "reorder_proposals_s": round(lib_s, 4),
                "raw_sql_s": round(raw_s, 4),
                "ratio_vs_raw": round(lib_s / raw_s, 3),
            },
            indent=2,
        )
    )


if __name__ == "__main__":
    main()
