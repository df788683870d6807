"""The suite's workloads, each next to its hand-written raw ``sqlite3`` baseline.

Every workload is a pair of callables timed in alternation in the same run (library,
raw, library, raw...), so both see the same machine load; the ratio is computed per pair
and summarised as its median and interquartile range. The library side calls the public
API (:class:`Inventory`, ``check_all``, ``BackupService``, ``export_csv``/``import_csv``);
the raw side is the least a careful hand-written ``sqlite3`` program would do for the same
result.
"""

from __future__ import annotations

import csv
import shutil
import sqlite3
import statistics
import tempfile
import time
from collections.abc import Callable
from datetime import date, timedelta
from pathlib import Path
from typing import Any

from scale import RAW_JUMP
from sqlalchemy.dialects import sqlite as sqlite_dialect

from inventory_core import Database, Inventory, ReceiptLine, Settings
from inventory_core.backup import BackupService, export_csv, import_csv
from inventory_core.invariants import INVARIANTS, QueryInvariant, check_all
from inventory_core.tools.profile import list_skus

Call = Callable[[], Any]


def _quartiles(values: list[float]) -> tuple[float, float, float]:
    if len(values) < 2:
        return values[0], values[0], values[0]
    q1, q2, q3 = statistics.quantiles(values, n=4, method="inclusive")
    return q1, q2, q3


def paired(library: Call, raw: Call | None, repeat: int, warmup: int = 1) -> dict[str, Any]:
    """Time ``library`` and ``raw`` alternately ``repeat`` times; medians, IQRs and the ratio."""
    for _ in range(warmup):
        library()
        if raw is not None:
            raw()
    lib_ms: list[float] = []
    raw_ms: list[float] = []
    for _ in range(repeat):
        started = time.perf_counter()
        library()
        lib_ms.append((time.perf_counter() - started) * 1000)
        if raw is not None:
            started = time.perf_counter()
            raw()
            raw_ms.append((time.perf_counter() - started) * 1000)
    out: dict[str, Any] = {"repeat": repeat}
    q1, med, q3 = _quartiles(lib_ms)
    out["library_ms"] = {"median": round(med, 4), "q1": round(q1, 4), "q3": round(q3, 4)}
    if raw is not None:
        q1, med, q3 = _quartiles(raw_ms)
        out["raw_ms"] = {"median": round(med, 4), "q1": round(q1, 4), "q3": round(q3, 4)}
        ratios = [a / b for a, b in zip(lib_ms, raw_ms, strict=True) if b > 0]
        q1, med, q3 = _quartiles(ratios)
        out["ratio"] = {"median": round(med, 2), "q1": round(q1, 2), "q3": round(q3, 2)}
    return out


def open_db(path: Path) -> Database:
    """Open a benchmark database without start-up checks (they are measured separately)."""
    settings = Settings.load(backup_dir=str(path.parent / "backups"))
    return Database.open(f"sqlite:///{path}", settings=settings, check=None)


RAW_GET = (
    "SELECT sku, description, ean, pack_size, moq, lead_time_days, active FROM skus WHERE sku = ?"
)
RAW_LIST = (
    "SELECT sku, description, ean, pack_size, moq, lead_time_days, active FROM skus "
    "ORDER BY sku LIMIT 100"
)
RAW_HISTORY = (
    "SELECT transaction_id, date, event, qty, document_id, note, transaction_id IN "
    "(SELECT transaction_id FROM transaction_reversals) FROM transactions WHERE sku = ? "
    "ORDER BY date DESC, priority DESC, transaction_id DESC LIMIT 50"
)
RAW_LOTS = (
    "SELECT * FROM lots WHERE sku = ? AND qty_remaining > 0 "
    "ORDER BY expiry_date IS NULL, expiry_date, lot_id"
)
RAW_STOCK_ONE = RAW_JUMP.replace(
    "AND transaction_id NOT IN rev),", "AND transaction_id NOT IN rev AND sku = :sku),", 1
).replace("FROM skus s)", "FROM skus s WHERE s.sku = :sku)")


def per_sku(path: Path, sku: str, asof: date, repeat: int) -> dict[str, Any]:
    """get / list 100 / history 50 / FEFO lots / stock(sku) through Inventory vs raw."""
    raw = sqlite3.connect(path)
    with open_db(path) as db:
        inv = Inventory(db)

        def list_100() -> Any:
            with db.read() as uow:
                return list_skus(uow, 100)

        iso = asof.isoformat()
        results = {
            "get_sku": paired(
                lambda: inv.get_sku(sku), lambda: raw.execute(RAW_GET, (sku,)).fetchone(), repeat
            ),
            "list_100_skus": paired(list_100, lambda: raw.execute(RAW_LIST).fetchall(), repeat),
            "history_50": paired(
                lambda: inv.history(sku, limit=50),
                lambda: raw.execute(RAW_HISTORY, (sku,)).fetchall(),
                repeat,
            ),
            "fefo_lots": paired(
                lambda: inv.lots(sku), lambda: raw.execute(RAW_LOTS, (sku,)).fetchall(), repeat
            ),
            "stock_sku": paired(
                lambda: inv.stock(sku, asof),
                lambda: raw.execute(RAW_STOCK_ONE, {"asof": iso, "sku": sku}).fetchall(),
                repeat,
            ),
        }
    raw.close()
    return results


def single_write(path: Path, sku: str, on: date, repeat: int) -> dict[str, Any]:
    """One SALE through ``Inventory.sell`` vs a raw insert + sales upsert + commit."""
    scratch = path.with_name("raw_writes.db")
    shutil.copy(path, scratch)
    raw = sqlite3.connect(scratch, isolation_level=None)
    raw.execute("PRAGMA journal_mode=WAL")
    raw.execute("PRAGMA synchronous=NORMAL")

    def raw_sell() -> None:
        raw.execute("BEGIN IMMEDIATE")
        raw.execute(
            "INSERT INTO transactions (date, sku, event, qty, priority, created_at) "
            "VALUES (?, ?, 'SALE', 1, 2, '2026-01-01T00:00:00Z')",
            (on.isoformat(), sku),
        )
        raw.execute(
            "INSERT INTO sales (sku, date, qty_sold) VALUES (?, ?, 1) "
            "ON CONFLICT (sku, date) DO UPDATE SET qty_sold = qty_sold + 1",
            (sku, on.isoformat()),
        )
        raw.execute("COMMIT")

    with open_db(path) as db:
        inv = Inventory(db, user="bench")
        inv.receive(f"BENCH-{time.time_ns()}", [ReceiptLine(sku, repeat * 4)], on=on)
        result = paired(lambda: inv.sell(sku, 1, on=on), raw_sell, repeat)
    raw.close()
    return result


def bulk_raw_rate(source: Path, workdir: Path, *, one_transaction: bool = False) -> dict[str, Any]:
    """Raw ``executemany`` of the generated ledger's rows into an empty migrated database.

    By default a transaction per 10,000 ledger rows (what ``record_events`` chunks do) and
    one per 100,000 ``sales`` rows; with
    ``one_transaction`` every row goes in one transaction, as a hand-written importer of a
    whole store would. Rows are read from ``source`` 100,000 at a time and only the
    ``executemany`` calls are timed (a store of millions of rows is never held at once).
    """
    target = workdir / "raw_bulk.db"
    for leftover in workdir.glob("raw_bulk.db*"):
        leftover.unlink()
    with open_db(target) as db:
        db.upgrade()
    src = sqlite3.connect(source)
    skus = src.execute("SELECT sku, description, created_at, updated_at FROM skus").fetchall()
    conn = sqlite3.connect(target, isolation_level=None)
    conn.execute("PRAGMA journal_mode=WAL")
    conn.execute("PRAGMA synchronous=NORMAL")
    conn.execute("PRAGMA foreign_keys=ON")
    conn.execute("BEGIN")
    conn.executemany(
        "INSERT INTO skus (sku, description, created_at, updated_at) VALUES (?, ?, ?, ?)", skus
    )
    conn.execute("COMMIT")
    insert_tx = (
        "INSERT INTO transactions (date, sku, event, qty, priority, document_id, note, "
        "created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)"
    )
    step = 10_000
    seconds = 0.0
    events = 0

    def timed(sql: str, rows: list[Any], chunked: bool = True) -> None:
        nonlocal seconds
        started = time.perf_counter()
        if one_transaction:
            conn.executemany(sql, rows)
        elif not chunked:
            conn.execute("BEGIN IMMEDIATE")
            conn.executemany(sql, rows)
            conn.execute("COMMIT")
        else:
            for offset in range(0, len(rows), step):
                conn.execute("BEGIN IMMEDIATE")
                conn.executemany(sql, rows[offset : offset + step])
                conn.execute("COMMIT")
        seconds += time.perf_counter() - started

    started = time.perf_counter()
    if one_transaction:
        conn.execute("BEGIN IMMEDIATE")
    seconds += time.perf_counter() - started
    cursor = src.execute(
        "SELECT date, sku, event, qty, priority, document_id, note, created_at FROM transactions "
        "ORDER BY transaction_id"
    )
    for batch in iter(lambda: cursor.fetchmany(100_000), []):
        events += len(batch)
        timed(insert_tx, batch)
    cursor = src.execute("SELECT sku, date, qty_sold FROM sales")
    for batch in iter(lambda: cursor.fetchmany(100_000), []):
        timed("INSERT INTO sales (sku, date, qty_sold) VALUES (?, ?, ?)", batch, chunked=False)
    started = time.perf_counter()
    if one_transaction:
        conn.execute("COMMIT")
    seconds += time.perf_counter() - started
    src.close()
    conn.close()
    return {"events": events, "seconds": round(seconds, 3), "events_per_s": events / seconds}


def full_check(path: Path, repeat: int) -> dict[str, Any]:
    """``check_all(full=True)`` vs the same invariant SQL + integrity/foreign-key checks raw."""
    raw = sqlite3.connect(path)
    sqls = [
        inv.sql(sqlite_dialect.dialect()) for inv in INVARIANTS if isinstance(inv, QueryInvariant)
    ]

    def raw_check() -> None:
        raw.execute("PRAGMA integrity_check").fetchall()
        raw.execute("PRAGMA foreign_key_check").fetchall()
        for sql in sqls:
            raw.execute(sql).fetchmany(10)

    with open_db(path) as db:
        status = check_all(db, full=True).status.value
        result = paired(lambda: check_all(db, full=True), raw_check, repeat, warmup=0)
    raw.close()
    return {**result, "status": status}


def backup(path: Path, workdir: Path, repeat: int) -> dict[str, Any]:
    """``BackupService.backup`` (verified, manifest) vs ``sqlite3.Connection.backup``."""
    folder = workdir / "backups_bench"
    raw_target = workdir / "raw_backup.db"

    def raw_backup() -> None:
        raw_target.unlink(missing_ok=True)
        src = sqlite3.connect(path)
        dst = sqlite3.connect(raw_target)
        src.backup(dst)
        dst.close()
        src.close()

    with open_db(path) as db:
        service = BackupService(db, folder)
        result = paired(lambda: service.backup("bench", record=False), raw_backup, repeat, 0)
    shutil.rmtree(folder, ignore_errors=True)
    return result


NULL = "\\N"
"""How the raw CSV baseline writes NULL (the csv module would write an empty string)."""


def _raw_export(path: Path, folder: Path) -> list[str]:
    if folder.exists():
        shutil.rmtree(folder)
    folder.mkdir()
    conn = sqlite3.connect(path)
    tables = [
        r[0]
        for r in conn.execute(
            "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' "
            # The database's identity stays with its file, as in the library's snapshot.
            "AND name NOT IN ('alembic_version', 'database_identity')"
        )
    ]
    for table in tables:
        cursor = conn.execute(f'SELECT * FROM "{table}"')
        with (folder / f"{table}.csv").open("w", newline="", encoding="utf-8") as handle:
            writer = csv.writer(handle)
            writer.writerow([d[0] for d in cursor.description])
            writer.writerows([NULL if v is None else v for v in row] for row in cursor)
    conn.close()
    return tables


def _raw_import(folder: Path, target: Path, template: Path, tables: list[str]) -> None:
    shutil.copy(template, target)
    conn = sqlite3.connect(target, isolation_level=None)
    conn.execute("BEGIN")
    for table in tables:
        with (folder / f"{table}.csv").open(newline="", encoding="utf-8") as handle:
            reader = csv.reader(handle)
            header = next(reader)
            marks = ", ".join("?" * len(header))
            columns = ", ".join(f'"{c}"' for c in header)
            rows = ([None if v == NULL else v for v in row] for row in reader)
            conn.executemany(f'INSERT INTO "{table}" ({columns}) VALUES ({marks})', rows)
    conn.execute("COMMIT")
    conn.close()


def csv_roundtrip(path: Path, workdir: Path, repeat: int) -> dict[str, Any]:
    """``export_csv``/``import_csv`` vs ``csv`` module + ``executemany`` on the same tables."""
    empty = workdir / "empty_template.db"
    for leftover in workdir.glob("empty_template.db*"):
        leftover.unlink()
    with open_db(empty) as db:
        db.upgrade()
    lib_folder, raw_folder = workdir / "csv_lib", workdir / "csv_raw"
    tables: list[str] = []

    def lib_export() -> None:
        shutil.rmtree(lib_folder, ignore_errors=True)
        with open_db(path) as db:
            export_csv(db, lib_folder)

    def raw_export() -> None:
        tables[:] = _raw_export(path, raw_folder)

    export = paired(lib_export, raw_export, repeat, 0)
    target_lib, target_raw = workdir / "import_lib.db", workdir / "import_raw.db"

    def lib_import() -> None:
        for leftover in workdir.glob("import_lib.db*"):
            leftover.unlink()
        shutil.copy(empty, target_lib)
        with open_db(target_lib) as db:
            import_csv(db, lib_folder)

    def raw_import() -> None:
        for leftover in workdir.glob("import_raw.db*"):
            leftover.unlink()
        _raw_import(raw_folder, target_raw, empty, tables)

    imported = paired(lib_import, raw_import, repeat, 0)
    return {"export": export, "import": imported}


def latest_day(path: Path) -> date:
    """The day after the newest event (the as-of date that counts everything)."""
    conn = sqlite3.connect(path)
    newest = conn.execute("SELECT MAX(date) FROM transactions").fetchone()[0]
    conn.close()
    return date.fromisoformat(newest) + timedelta(days=1)


def temp_dir(prefix: str) -> Path:
    """A new scratch folder."""
    return Path(tempfile.mkdtemp(prefix=prefix))


def main(argv: list[str] | None = None) -> int:
    """Run only the per-SKU reads on a freshly generated shop and print their JSON.

    ``run.py`` runs every workload; this is the quick loop for work on the read path::

        .venv/bin/python benchmarks/workloads.py                       # the suite's shop
        .venv/bin/python benchmarks/workloads.py --skus 100            # 1,000 events a SKU
    """
    import argparse
    import json
    import os

    from inventory_core.tools.generate import generate, sku_code

    parser = argparse.ArgumentParser(
        description=main.__doc__.splitlines()[0] if main.__doc__ else ""
    )
    parser.add_argument("--skus", type=int, default=1_000, help="SKUs in the generated shop")
    parser.add_argument("--events", type=int, default=100_000, help="events in the shop")
    parser.add_argument("--repeat", type=int, default=15, help="runs per measurement")
    args = parser.parse_args(argv)
    workdir = temp_dir("ic_bench_per_sku_")
    try:
        path = workdir / "generated.db"
        with open_db(path) as db:
            db.upgrade()
            generate(db, skus=args.skus, events=args.events, seed=0)
        sku = sku_code(args.skus // 2)
        report = {
            "skus": args.skus,
            "events": args.events,
            "sku": sku,
            "load_average_1m": round(os.getloadavg()[0], 2),
            "per_sku": per_sku(path, sku, latest_day(path), args.repeat),
        }
    finally:
        shutil.rmtree(workdir, ignore_errors=True)
    print(json.dumps(report, indent=2))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
