"""Writer processes that record every acknowledged sale, for the restore-under-load tests.

Each writer keeps one :class:`Database` open for its whole life (its kept write connection
and its per-thread read connections stay open across whatever the parent does to the file)
and appends the note of every sale ``Inventory.sell`` returned for to its own log file,
flushed line by line: a line in the log is a write acknowledged to that process. The parent
then checks each acknowledged note against the live database and the safety backup.
"""

from __future__ import annotations

import os
import sqlite3
import time
from datetime import date
from pathlib import Path
from typing import Any

from inventory_core import Database, Inventory

DAY = date(2026, 3, 2)
READ_DAY = date(2026, 3, 3)
STOCK = 1_000_000_000


def prepare_shop(db: Database, skus: int = 2) -> None:
    """SKUs ``W0``, ``W1``... each with a count so large that no sale is ever refused."""
    inv = Inventory(db, user="tester")
    for n in range(skus):
        inv.add_sku(f"W{n}", f"Writer {n}")
        inv.snapshot(f"W{n}", STOCK, on=date(2026, 3, 1))


def sale_writer(
    url: str, sku: str, pause: float, stop: Any, acked: Any, log_path: str, inode_path: str
) -> None:
    """Sell one unit at a time until ``stop`` is set, logging each acknowledged sale's note.

    After each sale it reads the SKU's stock through its per-thread read connection. Errors
    are logged too (``ERR <code>``): a write that raised was not acknowledged, so it may be
    missing anywhere. The inode of the file the writer's connection holds open is
    written to ``inode_path`` at the start and again at the end.
    """
    from tests.db_support import test_settings

    db = Database.open(url, settings=test_settings(busy_timeout_ms=10_000, retry_attempts=50))
    inv = Inventory(db, user=f"writer-{sku}")
    live = db.path
    with open(inode_path, "w", encoding="utf-8") as handle:
        handle.write(f"{os.stat(live).st_ino if live else '-'}\n")
    n = 0
    with open(log_path, "a", encoding="utf-8", buffering=1) as log:
        try:
            while not stop.is_set():
                note = f"{sku}-{os.getpid()}-{n}"
                n += 1
                try:
                    inv.sell(sku, 1, on=DAY, note=note)
                except Exception as exc:  # not acknowledged: recorded, never counted
                    detail = str(exc).replace("\n", " ")[:200]
                    log.write(f"ERR {type(exc).__name__} {getattr(exc, 'code', '')} {detail}\n")
                    time.sleep(0.01)
                    continue
                log.write(note + "\n")
                with acked.get_lock():
                    acked.value += 1
                try:  # a one-statement read on this thread's own kept connection
                    inv.stock(sku, asof=READ_DAY)
                except Exception as exc:
                    log.write(f"ERR read {type(exc).__name__} {getattr(exc, 'code', '')}\n")
                if pause:
                    time.sleep(pause)
        finally:
            db.close()
    with open(inode_path, "a", encoding="utf-8") as handle:
        handle.write(f"{os.stat(live).st_ino if live else '-'}\n")


def acknowledged(log_path: Path) -> list[str]:
    """The notes of the sales a writer was told were committed."""
    if not log_path.exists():
        return []
    lines = log_path.read_text(encoding="utf-8").splitlines()
    return [line for line in lines if line and not line.startswith("ERR ")]


def errors(log_path: Path) -> list[str]:
    """The errors a writer met (writes it was *not* told were committed)."""
    if not log_path.exists():
        return []
    lines = log_path.read_text(encoding="utf-8").splitlines()
    return [line for line in lines if line.startswith("ERR ")]


def sale_notes(path: Path) -> set[str]:
    """The notes of every SALE in an SQLite file, read through a raw read-only connection."""
    conn = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
    try:
        rows = conn.execute("SELECT note FROM transactions WHERE event = 'SALE'").fetchall()
    finally:
        conn.close()
    return {str(r[0]) for r in rows if r[0] is not None}


def wait_for(counter: Any, target: int, timeout: float = 60.0) -> None:
    """Wait until a shared counter reaches ``target`` (fail after ``timeout`` seconds)."""
    deadline = time.monotonic() + timeout
    while counter.value < target:
        if time.monotonic() > deadline:
            raise AssertionError(f"the writers acknowledged {counter.value} < {target} writes")
        time.sleep(0.005)


def sku_writer(url: str, go: Any, delay: float, stop: Any, log_path: str) -> None:
    """Once ``go`` is set (and ``delay`` passed), add SKUs ``X0``, ``X1``... until ``stop``,
    logging each acknowledged code."""
    from tests.db_support import test_settings

    db = Database.open(url, settings=test_settings(busy_timeout_ms=10_000, retry_attempts=50))
    inv = Inventory(db, user="sku-writer")
    go.wait(60)
    time.sleep(delay)
    n = 0
    with open(log_path, "a", encoding="utf-8", buffering=1) as log:
        try:
            while not stop.is_set() and n < 200:
                code = f"X{n}"
                n += 1
                try:
                    inv.add_sku(code, "from the writer")
                except Exception as exc:
                    log.write(f"ERR {type(exc).__name__} {getattr(exc, 'code', '')}\n")
                    continue
                log.write(code + "\n")
                time.sleep(0.005)
        finally:
            db.close()
