"""The same workloads on PostgreSQL, next to SQLite (no goal yet: a first curve).

A fresh database is created on the server named by ``INVENTORY_CORE_TEST_POSTGRES_URL``
and dropped afterwards. The generated shop goes through the library (``generate``); the
1M-event ledger of the SQLite curve is copied in with ``COPY`` for a second stock_all point.
``check_all`` is left out here: on PostgreSQL its window-function invariants over a
100,000-event ledger ran for minutes (see docs/performance.md), longer than the suite's budget.
"""

from __future__ import annotations

import os
import sqlite3
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import psycopg
import workloads as w
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

from inventory_core import Database, Inventory, ReceiptLine
from inventory_core.tools.generate import generate, sku_code
from inventory_core.tools.profile import list_skus

ENV = "INVENTORY_CORE_TEST_POSTGRES_URL"


@contextmanager
def fresh_database() -> Iterator[str]:
    """The URL of a new, empty PostgreSQL database, dropped on exit."""
    admin_url = os.environ[ENV]
    name = f"ic_bench_{uuid.uuid4().hex[:10]}"
    admin = create_engine(admin_url, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    try:
        yield make_url(admin_url).set(database=name).render_as_string(hide_password=False)
    finally:
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


def _copy_ledger(url: str, source: Path) -> int:
    """Copy SKUs, transactions and reversals of a SQLite ledger into PostgreSQL with COPY."""
    conninfo = make_url(url).set(drivername="postgresql").render_as_string(hide_password=False)
    src = sqlite3.connect(source)
    tables = {
        "skus": "sku, description, pack_size, moq, lead_time_days, created_at, updated_at",
        "transactions": "transaction_id, date, sku, event, qty, priority, created_at",
        "transaction_reversals": 'transaction_id, reason, "user", created_at',
    }
    copied = 0
    with psycopg.connect(conninfo) as conn, conn.cursor() as cur:
        for table, columns in tables.items():
            with cur.copy(f"COPY {table} ({columns}) FROM STDIN") as copy:
                for row in src.execute(f"SELECT {columns} FROM {table}"):
                    copy.write_row(row)
                    copied += table == "transactions"
        cur.execute("ANALYZE")
    src.close()
    return copied


def _timed(fn: Any, repeat: int) -> float:
    return float(w.paired(fn, None, repeat)["library_ms"]["median"])


def bench(
    repeat: int, sqlite: dict[str, Any], ledger_1m: Path, size: tuple[int, int]
) -> dict[str, Any]:
    """Library medians on PostgreSQL for the generated shop and two stock_all sizes."""
    rows: list[tuple[str, float, float | None]] = []
    curve = []
    with fresh_database() as url, Database.open(url, check=None) as db:
        db.upgrade()
        made = generate(db, skus=size[0], events=size[1], seed=0)
        inv = Inventory(db)
        sku = sku_code(size[0] // 2)
        with db.read() as uow:
            newest = uow.execute(text("SELECT MAX(date) FROM transactions")).scalar_one()
        asof = newest.fromordinal(newest.toordinal() + 1)

        def list_100() -> Any:
            with db.read() as uow:
                return list_skus(uow, 100)

        reads = {
            "get_sku": lambda: inv.get_sku(sku),
            "list_100_skus": list_100,
            "history_50": lambda: inv.history(sku, limit=50),
            "fefo_lots": lambda: inv.lots(sku),
            "stock_sku": lambda: inv.stock(sku, asof),
        }
        for name, fn in reads.items():
            rows.append((name, _timed(fn, repeat), sqlite["per_sku"][name]["library_ms"]["median"]))
        inv.receive(f"BENCH-{time.time_ns()}", [ReceiptLine(sku, 200)], on=asof)
        sell = _timed(lambda: inv.sell(sku, 1, on=asof), 30)
        rows.append(
            ("single-event write (sell)", sell, sqlite["single_write"]["library_ms"]["median"])
        )
        stock_all = _timed(lambda: inv.stock_all(asof), 5)
        rows.append((f"stock_all, generated {made.events:,} events", stock_all, None))
        curve.append({"events": made.events, "library_ms": stock_all})
    with fresh_database() as url, Database.open(url, check=None) as db:
        db.upgrade()
        events = _copy_ledger(url, ledger_1m)
        asof = w.latest_day(ledger_1m)
        inv = Inventory(db)
        big = _timed(lambda: inv.stock_all(asof), 3)
        curve.append({"events": events, "library_ms": big})
        sqlite_big = sqlite["stock_all_curve"][1]["library_ms"]["median"]
        skus = sqlite["stock_all_curve"][1]["skus"]
        rows.append((f"stock_all, {skus:,} SKUs x {events:,} events", big, sqlite_big))
    return {
        "generate_events_per_s": round(made.events_per_second),
        "rows": rows,
        "stock_all_curve": curve,
    }
