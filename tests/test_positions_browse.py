"""The ``stock_positions`` cache as a person browsing the file sees it: after every kind of
write, each row's on_hand is the SKU's stock."""

from __future__ import annotations

import random
import sqlite3
from datetime import date, timedelta
from pathlib import Path

from sqlalchemy import select

from inventory_core import Database, Inventory, ReceiptLine
from inventory_core.errors import InsufficientStockError, LotConsumedError
from inventory_core.models import StockPosition
from tests.db_support import test_settings

START = date(2026, 1, 5)


def cached(db: Database) -> dict[str, int]:
    """The on_hand of every row of stock_positions, read as a plain table."""
    table = StockPosition.__table__
    with db.read() as uow:
        rows = uow.fetch(select(table.c.sku, table.c.on_hand))
    return {row.sku: row.on_hand for row in rows}


def assert_current(inv: Inventory, what: str) -> None:
    """Every SKU with an unreversed event has a row, and every row holds the SKU's stock."""
    stock = {sku: s.on_hand for sku, s in inv.stock_all().items()}
    rows = cached(inv.db)
    for sku, on_hand in rows.items():
        assert on_hand == stock[sku], (what, sku, on_hand, stock[sku])
    for sku in stock:
        if any(not e.reversed for e in inv.history(sku)):
            assert sku in rows, (what, sku)


def test_the_issue_case_receive_sell_revert(any_db: Database) -> None:
    """Receive 48 with expiry, sell 20, revert the sale: the row says 48, not 28."""
    inv = Inventory(any_db)
    inv.add_sku("MILK")
    inv.receive("D1", [ReceiptLine("MILK", 48, expiry=START + timedelta(days=9))], on=START)
    sale = inv.sell("MILK", 20, on=START + timedelta(days=1))
    inv.revert(sale, reason="typo")
    assert cached(any_db)["MILK"] == 48
    assert inv.stock("MILK").on_hand == 48


def test_every_kind_of_write_keeps_the_rows_current(any_db: Database) -> None:
    """receive, sell, waste, adjust, count, order, close, bulk, revert: rows match stock."""
    inv = Inventory(any_db)
    for code in ("A", "B", "C"):
        inv.add_sku(code)
    inv.receive("R1", [ReceiptLine("A", 30), ReceiptLine("B", 12)], on=START)
    assert_current(inv, "receive")
    sold = inv.sell("A", 5, on=START + timedelta(days=1))
    assert_current(inv, "sell")
    inv.waste("B", 2, on=START + timedelta(days=1))
    inv.adjust("B", 3, on=START + timedelta(days=2))
    assert_current(inv, "waste/adjust")
    inv.count_end_of_day("A", 20, on=START + timedelta(days=2))
    assert_current(inv, "count")
    order_id = inv.order("C", 10, on=START)
    inv.receive("R2", [ReceiptLine("C", 4, order_id=order_id)], on=START + timedelta(days=3))
    inv.close_order(order_id, reason="short", on=START + timedelta(days=4))
    assert_current(inv, "order/receive/close")
    inv.record_many(
        [
            {"sku": "A", "event": "RECEIPT", "qty": 7, "date": START + timedelta(days=5)},
            {"sku": "C", "event": "SALE", "qty": 1, "date": START + timedelta(days=5)},
        ]
    )
    assert_current(inv, "bulk")
    inv.revert(sold, reason="wrong")
    assert_current(inv, "revert of a sale")
    backdated = inv.sell("B", 1, on=START)
    inv.revert(backdated, reason="wrong")
    assert_current(inv, "revert of a backdated sale")


def test_random_shops_keep_the_rows_current(tmp_path: Path) -> None:
    """Random receipts, sales and reverts on three SKUs: the file's rows match stock_all."""
    url = f"sqlite:///{tmp_path / 'shop.db'}"
    rng = random.Random(17)
    with Database.open(url, settings=test_settings()) as db:
        db.upgrade()
        inv = Inventory(db)
        for code in ("A", "B", "C"):
            inv.add_sku(code)
        written: list[int] = []
        for step in range(60):
            sku = rng.choice("ABC")
            on = START + timedelta(days=rng.randrange(20))
            choice = rng.random()
            try:
                if choice < 0.4:
                    expiry = on + timedelta(days=5) if rng.random() < 0.5 else None
                    found = inv.receive(
                        f"D{step}", [ReceiptLine(sku, rng.randrange(1, 20), expiry=expiry)], on=on
                    )
                    written.extend(found.transaction_ids)
                elif choice < 0.8:
                    written.append(inv.sell(sku, rng.randrange(1, 6), on=on))
                elif written:
                    inv.revert(written.pop(rng.randrange(len(written))), reason="random")
            except (InsufficientStockError, LotConsumedError):
                pass  # a refused write writes nothing
            assert_current(inv, f"step {step}")
    conn = sqlite3.connect(f"file:{tmp_path / 'shop.db'}?mode=ro", uri=True)
    try:
        browsed = dict(conn.execute("SELECT sku, on_hand FROM stock_positions").fetchall())
    finally:
        conn.close()
    with Database.open(url, settings=test_settings()) as db:
        truth = {s: v.on_hand for s, v in Inventory(db).stock_all().items()}
    assert all(browsed[s] == truth[s] for s in browsed)


def test_rows_are_current_after_restore_and_import(tmp_path: Path) -> None:
    """A restored backup's rows match stock; an import (which leaves out the derived
    stock_positions) has no row to be stale until the first write, which writes it."""
    from typer.testing import CliRunner

    from inventory_core.cli import app

    runner = CliRunner()
    url = f"sqlite:///{tmp_path / 'shop.db'}"
    with Database.open(url, settings=test_settings()) as db:
        db.upgrade()
        inv = Inventory(db)
        inv.add_sku("MILK")
        inv.receive("D1", [ReceiptLine("MILK", 48, expiry=START + timedelta(days=9))], on=START)
        inv.revert(inv.sell("MILK", 20, on=START + timedelta(days=1)), reason="typo")
    assert runner.invoke(app, ["--db", url, "backup"]).exit_code == 0
    with Database.open(url, settings=test_settings()) as db:
        Inventory(db).sell("MILK", 5, on=START + timedelta(days=2))
    backup = max((tmp_path / "backups").glob("*.db"), key=lambda p: p.stat().st_mtime)
    restored = runner.invoke(app, ["--db", url, "restore", str(backup), "--yes"])
    assert restored.exit_code == 0, restored.output
    with Database.open(url, settings=test_settings()) as db:
        inv = Inventory(db)
        assert inv.stock("MILK").on_hand == 48
        assert_current(inv, "restore")
    assert runner.invoke(app, ["--db", url, "export", str(tmp_path / "snap")]).exit_code == 0
    target = f"sqlite:///{tmp_path / 'new.db'}"
    assert runner.invoke(app, ["--db", target, "init"]).exit_code == 0
    imported = runner.invoke(app, ["--db", target, "import", str(tmp_path / "snap")])
    assert imported.exit_code == 0, imported.output
    with Database.open(target, settings=test_settings()) as db:
        inv = Inventory(db)
        assert cached(db) == {}
        inv.sell("MILK", 1, on=START + timedelta(days=3))
        assert cached(db) == {"MILK": 47}
        assert_current(inv, "import, then a sale")
