"""Subprocess commands of tests/test_pg_row_locks.py: one library writer each.

Run as ``python -m tests.pg_locks_support COMMAND URL ARGS...``; prints one JSON line.
"""

from __future__ import annotations

import json
import sys
import time
from datetime import date
from pathlib import Path


def sell(url: str, sku: str, qty: str) -> None:
    """Sell ``qty`` of ``sku`` once; print how long the call took."""
    from inventory_core import Database, Inventory, Settings

    db = Database.open(url, settings=Settings.load(), check=None)
    started = time.monotonic()
    tid = Inventory(db, user="locks").sell(sku, int(qty), on=date(2026, 3, 2))
    print(json.dumps({"tid": tid, "elapsed_s": time.monotonic() - started}), flush=True)
    db.close()


def receive(url: str, prefix: str, sku: str, count: str, go: str) -> None:
    """Wait for the file ``go``, then receive ``count`` documents ``<prefix>-<n>`` of ``sku``."""
    from inventory_core import Database, Inventory, ReceiptLine, Settings

    db = Database.open(url, settings=Settings.load(), check=None)
    inv = Inventory(db, user="locks")
    while not Path(go).exists():
        time.sleep(0.005)
    replayed = 0
    for n in range(int(count)):
        done = inv.receive(f"{prefix}-{n}", [ReceiptLine(sku, 1 + n % 3)], on=date(2026, 3, 2))
        replayed += done.replayed
    print(json.dumps({"replayed": replayed}), flush=True)
    db.close()


def appends(url: str, count: str, go: str) -> None:
    """Wait for ``go``, then append ``count`` audit rows from SERIALIZABLE units of work."""
    from inventory_core import Database, Settings
    from inventory_core.audit import trail

    db = Database.open(url, settings=Settings.load(), check=None)
    while not Path(go).exists():
        time.sleep(0.005)
    for n in range(int(count)):
        db.run(
            lambda uow, n=n: trail.append(
                uow, trail.Operation.MAINTENANCE, user="locks", details={"n": n}
            )
        )
    print(json.dumps({"appended": int(count)}), flush=True)
    db.close()


def sells(url: str, sku: str, count: str, go: str) -> None:
    """Wait for ``go``, then sell 1 of ``sku`` ``count`` times."""
    from inventory_core import Database, Inventory, Settings

    db = Database.open(url, settings=Settings.load(), check=None)
    inv = Inventory(db, user="locks")
    while not Path(go).exists():
        time.sleep(0.005)
    for _ in range(int(count)):
        inv.sell(sku, 1, on=date(2026, 3, 2))
    print(json.dumps({"sold": int(count)}), flush=True)
    db.close()


def add_sku(url: str, sku: str) -> None:
    """Add ``sku``; print the error's code and message (or that it was added)."""
    from inventory_core import Database, Inventory, Settings
    from inventory_core.errors import InventoryError

    db = Database.open(url, settings=Settings.load(), check=None)
    try:
        Inventory(db, user="locks").add_sku(sku)
        print(json.dumps({"added": True}), flush=True)
    except InventoryError as exc:
        print(json.dumps({"code": exc.code, "message": str(exc)}), flush=True)
    db.close()


COMMANDS = {
    "add_sku": add_sku,
    "sell": sell,
    "receive": receive,
    "appends": appends,
    "sells": sells,
}

if __name__ == "__main__":
    COMMANDS[sys.argv[1]](*sys.argv[2:])
