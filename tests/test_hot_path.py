"""The hot path behind one object: shared writer locks, one fork hook, typed named rows."""

from __future__ import annotations

import re
from datetime import date
from pathlib import Path

from inventory_core import Database, Inventory, ReceiptLine
from inventory_core.ledger import lots, master
from tests.db_support import test_settings
from tests.uow_support import REPO

FORK_HOOK = re.compile(r"os\.register_at_fork\(")


def test_two_handles_on_one_file_share_one_writer_lock(db: Database) -> None:
    """A second handle on the same file queues behind the first one's writer lock."""
    assert db.path is not None
    second = Database.open(db.path, settings=test_settings())
    try:
        assert second.writer_lock is db.writer_lock
    finally:
        second.close()


def test_the_database_layer_registers_one_fork_hook() -> None:
    """Only db/connections.py registers a fork hook, once, for every open handle."""
    found = {
        path.name: len(FORK_HOOK.findall(path.read_text(encoding="utf-8")))
        for path in (REPO / "inventory_core" / "db").glob("*.py")
    }
    assert {name: n for name, n in found.items() if n} == {"connections.py": 1}


def test_ledger_reads_give_dates_the_same_in_and_out_of_a_unit_of_work(tmp_path: Path) -> None:
    """History and lots read on a thread's connection and inside a unit give equal dates."""
    with Database.open(tmp_path / "shop.db", settings=test_settings()) as db:
        db.upgrade()
        inv = Inventory(db, user="tester")
        inv.add_sku("BIRRA")
        inv.receive(
            "DDT-1", [ReceiptLine("BIRRA", 5, expiry=date(2027, 1, 1))], on=date(2026, 2, 1)
        )
        alone = (master.history(db, "BIRRA", None, None, None), lots.list_lots(db, "BIRRA"))
        with db.read() as uow:
            inside = (master.history(uow, "BIRRA", None, None, None), lots.list_lots(uow, "BIRRA"))
    assert alone == inside
    history, held = alone
    assert [type(entry.date) for entry in history] == [date]
    assert (held[0].received_date, held[0].expiry_date) == (date(2026, 2, 1), date(2027, 1, 1))
