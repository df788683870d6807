"""Ledger benchmark: as-of stock, single writes and the bulk path, against raw sqlite3.

Prints one JSON document. Every ratio compares with a raw ``sqlite3`` baseline measured in
the same run on the same file, so the numbers travel between machines.

    .venv/bin/python benchmarks/ledger.py            # 10,000 x 100 and 1,000 x 1,000 events
    .venv/bin/python benchmarks/ledger.py --quick    # small sizes, a few seconds
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
import tracemalloc
from collections.abc import Callable
from datetime import date, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy.orm import Session

from inventory_core import Database, Inventory, Settings
from inventory_core.ledger.fold import LedgerEvent, reference_fold
from inventory_core.ledger.stock_one import stock_one_sqlite
from inventory_core.models import EVENT_PRIORITY, EventType, Transaction

START = date(2025, 1, 1)
ASOF = date(2026, 1, 1)
MIX = [
    ("SALE", 60),
    ("RECEIPT", 10),
    ("ORDER", 10),
    ("WASTE", 5),
    ("ADJUST", 5),
    ("UNFULFILLED", 5),
    ("SNAPSHOT", 5),
]

RAW_STOCK_ALL = """
WITH rev AS (SELECT transaction_id FROM transaction_reversals),
base AS (
  SELECT s.sku,
    (SELECT t.date FROM transactions t WHERE t.sku = s.sku AND t.event = 'SNAPSHOT'
       AND t.date < :asof AND t.transaction_id NOT IN rev ORDER BY t.date DESC LIMIT 1) AS sd,
    (SELECT t.qty FROM transactions t WHERE t.sku = s.sku AND t.event = 'SNAPSHOT'
       AND t.date < :asof AND t.transaction_id NOT IN rev ORDER BY t.date DESC LIMIT 1) AS sq
  FROM skus s
),
flows AS (
  SELECT sku, SUM(d) - MIN(0, MIN(run)) AS on_order, SUM(u) AS unfulfilled FROM (
    SELECT sku, d, u, SUM(d) OVER (PARTITION BY sku ORDER BY date, priority, transaction_id
                                   ROWS UNBOUNDED PRECEDING) AS run
    FROM (SELECT sku, date, priority, transaction_id,
            CASE event WHEN 'ORDER' THEN qty WHEN 'RECEIPT' THEN -qty ELSE 0 END AS d,
            CASE event WHEN 'UNFULFILLED' THEN qty ELSE 0 END AS u
          FROM transactions WHERE event IN ('ORDER', 'RECEIPT', 'UNFULFILLED')
            AND date < :asof AND transaction_id NOT IN rev))
  GROUP BY sku
)
SELECT b.sku,
  COALESCE(b.sq, 0) + COALESCE((SELECT SUM(CASE WHEN e.event IN ('SALE', 'WASTE') THEN -e.qty
      WHEN e.event IN ('RECEIPT', 'ADJUST') THEN e.qty ELSE 0 END)
    FROM transactions e WHERE e.sku = b.sku AND e.date >= COALESCE(b.sd, '0001-01-01')
      AND e.date < :asof AND e.transaction_id NOT IN rev), 0),
  COALESCE(f.on_order, 0), COALESCE(f.unfulfilled, 0)
FROM base b LEFT JOIN flows f ON f.sku = b.sku ORDER BY b.sku
"""

RAW_ON_HAND_ONE = RAW_STOCK_ALL.replace(
    "FROM skus s\n", "FROM skus s WHERE s.sku = :sku\n"
).replace(
    "AND date < :asof AND transaction_id NOT IN rev))",
    "AND date < :asof AND sku = :sku AND transaction_id NOT IN rev))",
)

# The same query with the reversal set as a plain subquery: SQLite then probes the
# reversals' index row by row instead of materialising all of them first (10,000 rows
# here, ~4 ms), which is what a careful hand-written single-SKU query would do.
RAW_STOCK_ONE_INDEXED = RAW_ON_HAND_ONE.replace(
    "WITH rev AS (SELECT transaction_id FROM transaction_reversals),\n", "WITH "
).replace("NOT IN rev", "NOT IN (SELECT transaction_id FROM transaction_reversals)")


def best(fn: Callable[[], Any], repeat: int) -> float:
    """Best wall time of ``repeat`` runs, in seconds."""
    times = []
    for _ in range(repeat):
        started = time.perf_counter()
        fn()
        times.append(time.perf_counter() - started)
    return min(times)


def per_call_us(fn: Callable[[], Any], calls: int) -> float:
    """Median over 5 rounds of the mean time per call, in microseconds."""
    rounds = []
    for _ in range(5):
        started = time.perf_counter()
        for _ in range(calls):
            fn()
        rounds.append((time.perf_counter() - started) / calls * 1e6)
    return statistics.median(rounds)


def open_db(path: Path) -> Database:
    """A migrated database at ``path`` with the library's default settings."""
    db = Database.open(f"sqlite:///{path}", settings=Settings.load(backup_dir=path.parent / "bk"))
    db.upgrade()
    return db


def populate(path: Path, skus: int, per_sku: int, seed: int = 1) -> int:
    """Fill the ledger through raw sqlite3 (fast; the data need not be non-negative)."""
    rng = random.Random(seed)
    kinds = [k for k, w in MIX for _ in range(w)]
    conn = sqlite3.connect(path)
    conn.execute("PRAGMA synchronous=OFF")
    now = "2025-01-01T00:00:00.000000Z"
    conn.executemany(
        "INSERT INTO skus (sku, description, ean, pack_size, moq, lead_time_days, active, "
        "created_at, updated_at) VALUES (?, '', NULL, 1, 0, 0, 1, ?, ?)",
        [(f"SKU{i:06d}", now, now) for i in range(skus)],
    )
    span = (ASOF - START).days + 30
    rows = []
    for i in range(skus):
        sku = f"SKU{i:06d}"
        rows.append((START.isoformat(), sku, "SNAPSHOT", 100, 0, now))
        for _ in range(per_sku - 1):
            kind = kinds[rng.randrange(len(kinds))]
            qty = rng.randint(1, 20)
            if kind == "ADJUST" and rng.random() < 0.5:
                qty = -qty
            when = START + timedelta(days=rng.randrange(1, span))
            rows.append((when.isoformat(), sku, kind, qty, EVENT_PRIORITY[EventType(kind)], now))
    conn.executemany(
        "INSERT INTO transactions (date, sku, event, qty, priority, created_at) "
        "VALUES (?, ?, ?, ?, ?, ?)",
        rows,
    )
    total = len(rows)
    conn.executemany(
        "INSERT INTO transaction_reversals (transaction_id, reason, user, created_at) "
        "VALUES (?, 'bench', 'bench', ?)",
        [(tid, now) for tid in rng.sample(range(1, total + 1), total // 100)],
    )
    conn.commit()
    conn.execute("ANALYZE")
    conn.close()
    return total


def naive_fold(path: Path) -> dict[str, Any]:
    """The per-SKU loop the library replaces: one query per SKU, folded in Python."""
    conn = sqlite3.connect(path)
    reversed_ids = {r[0] for r in conn.execute("SELECT transaction_id FROM transaction_reversals")}
    out: dict[str, Any] = {}
    for (sku,) in conn.execute("SELECT sku FROM skus ORDER BY sku").fetchall():
        events = [
            LedgerEvent(tid, sku, date.fromisoformat(d), EventType(e), q)
            for tid, d, e, q in conn.execute(
                "SELECT transaction_id, date, event, qty FROM transactions WHERE sku = ?", (sku,)
            )
        ]
        out.update(reference_fold(events, ASOF, reversed_ids=reversed_ids, skus=[sku]))
    conn.close()
    return out


def bench_stock(workdir: Path, skus: int, per_sku: int, with_naive: bool) -> dict[str, Any]:
    """stock_all and stock(sku) through Inventory against the raw query on one file."""
    path = workdir / f"stock_{skus}x{per_sku}.db"
    db = open_db(path)
    db.close()
    total = populate(path, skus, per_sku)
    db = open_db(path)
    inv = Inventory(db)
    raw = sqlite3.connect(path)
    raw_all = lambda: raw.execute(RAW_STOCK_ALL, {"asof": ASOF.isoformat()}).fetchall()  # noqa: E731
    got = inv.stock_all(asof=ASOF)
    expected = raw_all()
    assert [(s.sku, s.on_hand, s.on_order, s.unfulfilled) for s in got.values()] == [
        tuple(r) for r in expected
    ], "library and raw query disagree"
    repeat = 3
    lib_s = best(lambda: inv.stock_all(asof=ASOF), repeat)
    raw_s = best(raw_all, repeat)
    tracemalloc.start()
    inv.stock_all(asof=ASOF)
    peak_mb = tracemalloc.get_traced_memory()[1] / 1e6
    tracemalloc.stop()
    sku = "SKU000000"
    params = {"asof": ASOF.isoformat(), "sku": sku}
    one = inv.stock(sku, asof=ASOF)
    assert [(one.sku, one.on_hand, one.on_order, one.unfulfilled)] == [
        tuple(r) for r in raw.execute(RAW_STOCK_ONE_INDEXED, params)
    ], "library and raw query disagree on one SKU"
    one_lib = per_call_us(lambda: inv.stock(sku, asof=ASOF), 300)
    one_raw = per_call_us(lambda: raw.execute(RAW_ON_HAND_ONE, params).fetchall(), 300)
    one_indexed = per_call_us(lambda: raw.execute(RAW_STOCK_ONE_INDEXED, params).fetchall(), 300)
    get_lib = per_call_us(lambda: inv.get_sku(sku), 1000)
    get_raw = per_call_us(
        lambda: raw.execute("SELECT * FROM skus WHERE sku = ?", (sku,)).fetchone(), 1000
    )
    plan = [r[3] for r in raw.execute("EXPLAIN QUERY PLAN " + RAW_STOCK_ALL, params)]
    one_sql = stock_one_sqlite().compiled(db.engine.dialect)
    one_plan = [
        r[3]
        for r in raw.execute(
            "EXPLAIN QUERY PLAN " + one_sql.sql, one_sql.parameters({"asof": ASOF, "sku": sku})
        )
    ]
    result: dict[str, Any] = {
        "events": total,
        "skus": skus,
        "stock_all_s": round(lib_s, 4),
        "raw_best_query_s": round(raw_s, 4),
        "ratio_vs_raw": round(lib_s / raw_s, 3),
        "stock_all_python_peak_mb": round(peak_mb, 1),
        "stock_one_us": round(one_lib, 1),
        "stock_one_raw_us": round(one_raw, 1),
        "stock_one_raw_indexed_us": round(one_indexed, 1),
        "stock_one_ratio": round(one_lib / min(one_raw, one_indexed), 2),
        "get_sku_us": round(get_lib, 1),
        "get_sku_raw_us": round(get_raw, 1),
        "get_sku_ratio": round(get_lib / get_raw, 2),
        "plan": plan,
        "stock_one_plan": one_plan,
    }
    if with_naive:
        naive_s = best(lambda: naive_fold(path), 1)
        result["naive_per_sku_fold_s"] = round(naive_s, 3)
        result["naive_ratio"] = round(naive_s / lib_s, 1)
    raw.close()
    db.close()
    return result


ROUNDS = 10
"""Single writes are timed in this many interleaved rounds (see :func:`bench_writes`)."""


def bench_writes(workdir: Path, sells: int, bulk_rows: int) -> dict[str, Any]:
    """Single sells through Inventory and the bulk path, against raw sqlite3 and the ORM.

    The three single-write loops (``sell``, plain ORM add-and-commit, raw ``INSERT`` +
    ``COMMIT``) take turns in :data:`ROUNDS` rounds of ``sells / ROUNDS`` writes each, on
    the same file, and each rate is the median of its rounds: how fast this machine commits
    drifts by a third within minutes, and timing each loop in one block let that drift into
    the ratios.
    """
    path = workdir / "writes.db"
    db = open_db(path)
    inv = Inventory(db, user="bench")
    inv.add_sku("S")
    inv.snapshot("S", 10**9 - 1, on=START)
    raw = sqlite3.connect(path, isolation_level=None)
    raw.execute("PRAGMA synchronous=NORMAL")
    per_round = max(1, sells // ROUNDS)
    rates: dict[str, list[float]] = {"sell": [], "orm": [], "raw": []}
    with Session(db.engine) as session:
        for n in range(ROUNDS):
            started = time.perf_counter()
            for _ in range(per_round):
                inv.sell("S", 1, on=START + timedelta(days=1 + n))
            rates["sell"].append(per_round / (time.perf_counter() - started))
            started = time.perf_counter()
            for _ in range(per_round):
                row = Transaction(date=START, sku="S", event="UNFULFILLED", qty=1, priority=3)
                session.add(row)
                session.commit()
            rates["orm"].append(per_round / (time.perf_counter() - started))
            started = time.perf_counter()
            for _ in range(per_round):
                raw.execute("BEGIN IMMEDIATE")
                raw.execute(
                    "INSERT INTO transactions (date, sku, event, qty, priority, created_at) "
                    "VALUES ('2025-01-02', 'S', 'UNFULFILLED', 1, 3, 'x')"
                )
                raw.execute("COMMIT")
            rates["raw"].append(per_round / (time.perf_counter() - started))
    db.close()
    sell_rate, orm_rate, raw_single = (statistics.median(rates[k]) for k in ("sell", "orm", "raw"))
    rows = [("2025-01-03", "S", "UNFULFILLED", 1, 3, "x")] * bulk_rows
    raw.execute("BEGIN IMMEDIATE")
    started = time.perf_counter()
    raw.executemany(
        "INSERT INTO transactions (date, sku, event, qty, priority, created_at) "
        "VALUES (?, ?, ?, ?, ?, ?)",
        rows,
    )
    raw.execute("COMMIT")
    raw_bulk = bulk_rows / (time.perf_counter() - started)
    raw.close()

    db = open_db(path)
    inv = Inventory(db, user="bench")
    events = [
        {"sku": "S", "event": "SALE", "qty": 1, "date": START + timedelta(days=400 + i // 1000)}
        for i in range(bulk_rows)
    ]
    started = time.perf_counter()
    inv.record_many(events)
    bulk_rate = bulk_rows / (time.perf_counter() - started)
    db.close()
    return {
        "rounds": ROUNDS,
        "sell_per_s": round(sell_rate),
        "sell_per_s_range": [round(min(rates["sell"])), round(max(rates["sell"]))],
        "orm_add_commit_per_s": round(orm_rate),
        "raw_insert_commit_per_s": round(raw_single),
        "sell_vs_orm": round(sell_rate / orm_rate, 2),
        "sell_vs_orm_by_round": [
            round(a / b, 2) for a, b in zip(rates["sell"], rates["orm"], strict=True)
        ],
        "sell_vs_raw_insert_commit": round(sell_rate / raw_single, 3),
        "bulk_per_s": round(bulk_rate),
        "raw_executemany_per_s": round(raw_bulk),
        "bulk_vs_raw": round(bulk_rate / raw_bulk, 3),
    }


def main(argv: list[str] | None = None) -> int:
    """Run every measurement and print the JSON report."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="small sizes for a smoke run")
    args = parser.parse_args(argv)
    sizes = [(200, 50), (20, 500)] if args.quick else [(10_000, 100), (1_000, 1_000)]
    report: dict[str, Any] = {
        "sqlite": sqlite3.sqlite_version,
        "python": sys.version.split()[0],
        "quick": args.quick,
        "load_average_1m": round(os.getloadavg()[0], 2),
    }
    with tempfile.TemporaryDirectory(prefix="ledger_bench_") as tmp:
        workdir = Path(tmp)
        report["stock_all"] = {
            f"{s}x{n}": bench_stock(workdir, s, n, with_naive=True) for s, n in sizes
        }
        report["writes"] = bench_writes(
            workdir, 500 if args.quick else 5_000, 10_000 if args.quick else 100_000
        )
    print(json.dumps(report, indent=2))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
