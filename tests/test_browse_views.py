"""The SQL views of migration 0007 (stock, ledger, open_orders, lots_remaining) give the
library's numbers on random shops, on SQLite and PostgreSQL."""

from __future__ import annotations

import random
from datetime import date, timedelta
from pathlib import Path

import pytest
from sqlalchemy import text

from inventory_core import Database, Inventory, ReceiptLine
from inventory_core.db import migrations
from inventory_core.db.engine import make_engine
from inventory_core.errors import InsufficientStockError, LotConsumedError, OrderNotOpenError
from tests.db_support import test_settings

START = date(2026, 1, 5)
VIEWS = ("stock", "ledger", "open_orders", "lots_remaining")


def random_shop(inv: Inventory, seed: int, steps: int = 80) -> None:
    """Receipts (some with expiry, some against orders), sales, counts, orders, closes,
    reverts, on four SKUs."""
    rng = random.Random(seed)
    codes = ("A", "B", "C", "D")
    for code in codes:
        inv.add_sku(code)
    written: list[int] = []
    orders: list[int] = []
    for step in range(steps):
        sku = rng.choice(codes)
        on = START + timedelta(days=rng.randrange(30))
        pick = rng.random()
        try:
            if pick < 0.3:
                expiry = on + timedelta(days=rng.randrange(1, 20)) if rng.random() < 0.5 else None
                linked = rng.choice(orders) if orders and rng.random() < 0.3 else None
                done = inv.receive(
                    f"D{step}",
                    [ReceiptLine(sku, rng.randrange(1, 15), order_id=linked, expiry=expiry)],
                    on=on,
                )
                written.extend(done.transaction_ids)
            elif pick < 0.6:
                written.append(inv.sell(sku, rng.randrange(1, 6), on=on))
            elif pick < 0.7:
                orders.append(inv.order(sku, rng.randrange(5, 30), on=START, expected=on))
            elif pick < 0.75:
                written.append(inv.snapshot(sku, rng.randrange(0, 20), on=on))
            elif pick < 0.82 and orders:
                inv.close_order(rng.choice(orders), reason="short", on=START + timedelta(days=31))
            elif written:
                inv.revert(written.pop(rng.randrange(len(written))), reason="random")
        except (InsufficientStockError, LotConsumedError, OrderNotOpenError):
            pass  # a refused write writes nothing
        except Exception as exc:  # receipts against another SKU's order, a second count
            assert getattr(exc, "code", "").startswith(("VAL", "WF", "CON", "REPO")), exc


def view_rows(db: Database, sql: str) -> list[tuple[object, ...]]:
    """Rows of a query over the views, as plain tuples."""
    with db.read() as uow:
        return [tuple(row) for row in uow.fetch(text(sql))]


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_views_give_the_library_numbers(any_url: str, tmp_path: Path, seed: int) -> None:
    """stock = stock_all, lots_remaining = lots, open_orders and ledger match the library."""
    with Database.open(any_url, settings=test_settings()) as db:
        db.upgrade()
        inv = Inventory(db)
        random_shop(inv, seed)
        stock = {s: (v.on_hand, v.on_order, v.unfulfilled) for s, v in inv.stock_all().items()}
        assert any(v[0] for v in stock.values()) and any(v[1] for v in stock.values())
        viewed = view_rows(db, "SELECT sku, on_hand, on_order, unfulfilled FROM stock")
        assert {r[0]: tuple(int(v) for v in r[1:]) for r in viewed} == stock  # type: ignore[call-overload]
        for sku in stock:
            lots = [(lot.lot_id, lot.qty_remaining) for lot in inv.lots(sku)]
            shown = view_rows(
                db,
                f"SELECT lot_id, qty_remaining FROM lots_remaining WHERE sku = '{sku}' "
                "ORDER BY lot_id",
            )
            assert sorted(lots) == [(int(a), int(b)) for a, b in shown]  # type: ignore[call-overload]
            unreversed = [e.transaction_id for e in inv.history(sku) if not e.reversed]
            ledger = view_rows(
                db,
                f"SELECT transaction_id FROM ledger WHERE sku = '{sku}' ORDER BY transaction_id",
            )
            assert sorted(unreversed) == [int(r[0]) for r in ledger]  # type: ignore[call-overload]
        opened = view_rows(db, "SELECT status, qty_open FROM open_orders")
        assert all(status in ("PENDING", "PARTIAL") for status, _ in opened)
        assert all(int(qty) >= 0 for _, qty in opened)  # type: ignore[call-overload]


def test_downgrade_drops_the_views(sqlite_url: str) -> None:
    """Downgrading below 0007 drops every view; upgrading creates them again."""
    query = text("SELECT name FROM sqlite_master WHERE type = 'view'")
    engine = make_engine(sqlite_url)
    try:
        migrations.upgrade(engine)
        with engine.connect() as conn:
            assert {r[0] for r in conn.execute(query)} == set(VIEWS)
        migrations.downgrade(engine, "0006_shop_operations")
        with engine.connect() as conn:
            assert {r[0] for r in conn.execute(query)} == set()
    finally:
        engine.dispose()


def test_every_table_and_view_is_documented(sqlite_url: str) -> None:
    """docs/schema.md has a section for every table and view of a migrated database."""
    documented = (Path(__file__).resolve().parents[1] / "docs" / "schema.md").read_text(
        encoding="utf-8"
    )
    engine = make_engine(sqlite_url)
    try:
        migrations.upgrade(engine)
        with engine.connect() as conn:
            names = {
                str(row[0])
                for row in conn.execute(
                    text(
                        "SELECT name FROM sqlite_master WHERE type IN ('table', 'view') "
                        "AND name NOT LIKE 'sqlite_%'"
                    )
                )
            }
    finally:
        engine.dispose()
    assert set(VIEWS) <= names and "kpi_daily" in names
    missing = sorted(name for name in names if f"### `{name}`" not in documented)
    assert missing == []
