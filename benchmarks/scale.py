"""stock_all at growing sizes: a fast ledger builder and the raw sqlite3 baselines.

The ledgers of the scaling curve (up to 10M events) are written with raw
``sqlite3.executemany`` into a migrated schema: the library's bulk path would take far
longer than the benchmark's budget (see docs/performance.md, "generate"). The data is
consistent (counts, orders, receipts, sales, waste, adjustments, a few reversed sales;
stock never negative) and written day by day, so transaction ids are chronological as in
a live shop.

Two hand-written raw baselines compute exactly what ``stock_all`` returns:

- ``jump``: per SKU, jump through the index to the last count before the date and sum the
  later events; on_order by the Lindley identity over the flow rows (one SQL statement);
- ``fold``: one ordered pass over the covering index, folded in Python.

The faster of the two is the baseline of the ratio.
"""

from __future__ import annotations

import random
import sqlite3
import time
from collections.abc import Iterator
from datetime import date, timedelta
from pathlib import Path
from typing import Any

from inventory_core import Database, Settings

START = date(2024, 1, 1)
TS = "2026-01-01T00:00:00.000000Z"
PRIORITY = {"SNAPSHOT": 0, "ORDER": 1, "RECEIPT": 1, "SALE": 2, "WASTE": 2, "ADJUST": 2}


def _day_events(
    rng: random.Random, state: list[list[int]], per_day: float, day: int
) -> Iterator[tuple[int, str, int]]:
    """One day of events for every SKU: (sku index, event, qty), in ledger order per SKU."""
    for index, s in enumerate(state):
        count = int(per_day) + (rng.random() < per_day - int(per_day))
        if day > 0 and day % 30 == 0 and count:
            s[0] = max(0, s[0] - rng.randint(0, 2))
            yield index, "SNAPSHOT", s[0]
            count -= 1
        for _ in range(count):
            roll = rng.random()
            if roll < 0.08:
                s[1] += 48
                yield index, "ORDER", 48
            elif roll < 0.16 or s[0] < 6:
                s[0] += 48
                s[1] = max(0, s[1] - 48)
                yield index, "RECEIPT", 48
            elif roll < 0.95:
                qty = rng.randint(1, 6)
                s[0] -= qty
                yield index, "SALE", qty
            elif roll < 0.975:
                s[0] -= 1
                yield index, "WASTE", 1
            else:
                s[0] += 1
                yield index, "ADJUST", 1


def build(path: Path, skus: int, events: int, days: int = 365, seed: int = 11) -> dict[str, Any]:
    """A migrated SQLite ledger of ``skus`` SKUs and about ``events`` events at ``path``."""
    started = time.perf_counter()
    for leftover in path.parent.glob(path.name + "*"):
        leftover.unlink()
    settings = Settings.load(backup_dir=str(path.parent / "backups"))
    with Database.open(f"sqlite:///{path}", settings=settings, check=None) as db:
        db.upgrade()
    rng = random.Random(seed)
    names = [f"SKU{n:06d}" for n in range(skus)]
    state = [[0, 0] for _ in names]
    conn = sqlite3.connect(path, isolation_level=None)
    conn.execute("PRAGMA journal_mode=WAL")
    conn.execute("PRAGMA synchronous=OFF")
    conn.execute("BEGIN")
    conn.executemany(
        "INSERT INTO skus (sku, description, pack_size, moq, lead_time_days, active, "
        "created_at, updated_at) VALUES (?, '', 1, 0, 0, 1, ?, ?)",
        [(n, TS, TS) for n in names],
    )
    opening = [(START.isoformat(), n, "SNAPSHOT", 60, 0, TS) for n in names]
    for s in state:
        s[0] = 60
    insert = (
        "INSERT INTO transactions (date, sku, event, qty, priority, created_at) "
        "VALUES (?, ?, ?, ?, ?, ?)"
    )
    conn.executemany(insert, opening)
    per_day = (events - skus) / skus / days
    sales: dict[tuple[str, str], int] = {}
    written = skus
    for day in range(days):
        iso = (START + timedelta(days=day)).isoformat()
        rows = []
        for index, event, qty in _day_events(rng, state, per_day, day):
            rows.append((iso, names[index], event, qty, PRIORITY[event], TS))
            if event == "SALE":
                key = (names[index], iso)
                sales[key] = sales.get(key, 0) + qty
        conn.executemany(insert, rows)
        written += len(rows)
    # A few sales booked twice and reversed: their rows stay, they no longer count.
    doubles = [(d, s, q) for (s, d), q in list(sales.items())[:: max(1, len(sales) // 50)]]
    conn.executemany(insert, [(d, s, "SALE", q, 2, TS) for d, s, q in doubles])
    conn.execute(
        "INSERT INTO transaction_reversals (transaction_id, reason, user, created_at) "
        "SELECT transaction_id, 'booked twice', 'bench', ? FROM transactions "
        "WHERE transaction_id > ?",
        (TS, written),
    )
    conn.executemany(
        "INSERT INTO sales (sku, date, qty_sold, promo_flag) VALUES (?, ?, ?, 0)",
        [(s, d, q) for (s, d), q in sales.items()],
    )
    conn.execute("COMMIT")
    conn.execute("ANALYZE")
    conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    conn.close()
    return {
        "skus": skus,
        "events": written + len(doubles),
        "build_s": round(time.perf_counter() - started, 1),
        "file_mb": round(path.stat().st_size / 1e6, 1),
    }


RAW_JUMP = """
WITH rev AS (SELECT transaction_id FROM transaction_reversals),
flow_rows AS (
  SELECT sku, date, priority, transaction_id,
         CASE event WHEN 'ORDER' THEN qty WHEN 'RECEIPT' THEN -qty ELSE 0 END AS d,
         CASE event WHEN 'UNFULFILLED' THEN qty ELSE 0 END AS u
  FROM transactions
  WHERE event IN ('ORDER', 'RECEIPT', 'UNFULFILLED') AND date < :asof
    AND transaction_id NOT IN rev),
walk AS (
  SELECT sku, d, u, SUM(d) OVER (PARTITION BY sku ORDER BY date, priority, transaction_id
                                 ROWS UNBOUNDED PRECEDING) AS run
  FROM flow_rows),
flows AS (
  SELECT sku, SUM(d) - MIN(0, MIN(run)) AS on_order, SUM(u) AS unfulfilled
  FROM walk GROUP BY sku),
snaps AS (
  SELECT s.sku,
    (SELECT date FROM transactions t
      WHERE t.sku = s.sku AND t.event = 'SNAPSHOT' AND t.date < :asof
        AND t.transaction_id NOT IN rev ORDER BY t.date DESC LIMIT 1) AS snap_date
  FROM skus s)
SELECT n.sku,
  COALESCE((SELECT qty FROM transactions t WHERE t.sku = n.sku AND t.event = 'SNAPSHOT'
            AND t.date = n.snap_date AND t.transaction_id NOT IN rev), 0)
  + COALESCE((SELECT SUM(CASE WHEN e.event IN ('SALE', 'WASTE') THEN -e.qty
                              WHEN e.event IN ('RECEIPT', 'ADJUST') THEN e.qty ELSE 0 END)
              FROM transactions e
              WHERE e.sku = n.sku AND e.date >= COALESCE(n.snap_date, '0001-01-01')
                AND e.date < :asof AND e.transaction_id NOT IN rev), 0) AS on_hand,
  COALESCE(f.on_order, 0), COALESCE(f.unfulfilled, 0)
FROM snaps n LEFT JOIN flows f ON f.sku = n.sku
ORDER BY n.sku
"""

RAW_FOLD = (
    "SELECT sku, event, qty, transaction_id FROM transactions WHERE date < ? "
    "ORDER BY sku, date, priority, transaction_id"
)


def raw_jump(conn: sqlite3.Connection, asof: date) -> dict[str, tuple[int, int, int]]:
    """stock_all as one hand-written SQL statement (index jump to the last count)."""
    rows = conn.execute(RAW_JUMP, {"asof": asof.isoformat()}).fetchall()
    return {r[0]: (int(r[1]), int(r[2]), int(r[3])) for r in rows}


def raw_fold(conn: sqlite3.Connection, asof: date) -> dict[str, tuple[int, int, int]]:
    """stock_all as one ordered scan of the covering index, folded in Python."""
    skipped = {r[0] for r in conn.execute("SELECT transaction_id FROM transaction_reversals")}
    out: dict[str, tuple[int, int, int]] = {
        r[0]: (0, 0, 0) for r in conn.execute("SELECT sku FROM skus")
    }
    current = None
    on_hand = on_order = unfulfilled = 0
    for sku, event, qty, tid in conn.execute(RAW_FOLD, (asof.isoformat(),)):
        if sku != current:
            if current is not None:
                out[current] = (on_hand, on_order, unfulfilled)
            current, on_hand, on_order, unfulfilled = sku, 0, 0, 0
        if tid in skipped:
            continue
        if event == "SNAPSHOT":
            on_hand = qty
        elif event in ("SALE", "WASTE"):
            on_hand -= qty
        elif event == "ADJUST":
            on_hand += qty
        elif event == "RECEIPT":
            on_hand += qty
            on_order = max(0, on_order - qty)
        elif event == "ORDER":
            on_order += qty
        elif event == "UNFULFILLED":
            unfulfilled += qty
    if current is not None:
        out[current] = (on_hand, on_order, unfulfilled)
    return out


__all__ = ["RAW_FOLD", "RAW_JUMP", "build", "raw_fold", "raw_jump"]
