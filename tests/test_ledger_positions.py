"""stock_positions: written with every single write, trusted only while provably current."""

from __future__ import annotations

import sqlite3
from datetime import date

import pytest
from sqlalchemy import text

from inventory_core import Database, Inventory, ReceiptLine
from inventory_core.errors import InsufficientStockError
from inventory_core.invariants import check_all
from inventory_core.ledger import positions
from tests.ledger_support import counted_birra, day

FAR = date(2100, 1, 1)


def position_row(db: Database, sku: str) -> tuple[int, str, int] | None:
    """The stored row of ``sku`` as (on_hand, tail_date, tail_priority), read with raw SQL."""
    with db.read() as uow:
        row = uow.execute(
            text("SELECT on_hand, tail_date, tail_priority FROM stock_positions WHERE sku = :sku"),
            {"sku": sku},
        ).first()
    return None if row is None else (int(row[0]), str(row[1]), int(row[2]))


def current_position(db: Database, sku: str) -> positions.Position | None:
    """The position the write path would trust for ``sku`` (None when stale or missing)."""
    with db.read() as uow:
        return positions.read_many(uow, [sku]).get(sku)


@pytest.fixture
def inv(any_db: Database) -> Inventory:
    """An Inventory with one counted SKU."""
    return counted_birra(any_db)


def test_every_single_write_leaves_the_final_on_hand_and_last_event(inv: Inventory) -> None:
    """After a count, a sale and a later order, the row holds on_hand 7 and the order's slot."""
    inv.sell("BIRRA", 3, on=day(2))
    inv.order("BIRRA", 24, on=day(3))
    assert position_row(inv.db, "BIRRA") == (7, str(day(3)), 1)
    assert current_position(inv.db, "BIRRA") == positions.Position(7, day(3), 1)
    assert inv.stock("BIRRA", asof=FAR).on_hand == 7


def test_a_backdated_write_is_checked_against_the_later_events(inv: Inventory) -> None:
    """A backdated sale that would starve a later sale is refused although the row has stock."""
    inv.sell("BIRRA", 8, on=day(5))
    with pytest.raises(InsufficientStockError) as raised:
        inv.sell("BIRRA", 5, on=day(1))
    assert raised.value.context["shortfall"] == 3
    assert position_row(inv.db, "BIRRA") == (2, str(day(5)), 2)


def test_a_receipt_rewrites_the_row(inv: Inventory) -> None:
    """A receipt rewrites the row from the ledger; the next sale sees the receipt."""
    inv.sell("BIRRA", 10, on=day(1))
    inv.receive("DDT-1", [ReceiptLine("BIRRA", 5)], on=day(2))
    assert current_position(inv.db, "BIRRA") == positions.Position(5, day(2), 1)
    inv.sell("BIRRA", 5, on=day(3))
    assert position_row(inv.db, "BIRRA") == (0, str(day(3)), 2)


def test_a_reversal_rewrites_the_row(inv: Inventory) -> None:
    """Reverting a sale frees its stock at once: the row is rewritten without the sale."""
    sale = inv.sell("BIRRA", 10, on=day(1))
    assert current_position(inv.db, "BIRRA") is not None
    inv.revert(sale, reason="keyed twice")
    assert current_position(inv.db, "BIRRA") == positions.Position(10, day(0), 0)
    inv.sell("BIRRA", 4, on=day(2))
    assert position_row(inv.db, "BIRRA") == (6, str(day(2)), 2)


def test_a_reversal_of_another_sku_leaves_the_row_current(inv: Inventory) -> None:
    """Only reversals of the SKU's own events make its row stale."""
    inv.add_sku("ACQUA")
    inv.snapshot("ACQUA", 5, on=day(0))
    inv.sell("BIRRA", 1, on=day(1))
    inv.revert(inv.sell("ACQUA", 1, on=day(1)), reason="wrong SKU")
    assert current_position(inv.db, "BIRRA") == positions.Position(9, day(1), 2)


def test_a_row_is_not_trusted_after_a_write_around_the_library(sqlite_url: str) -> None:
    """A sale inserted with raw sqlite3 makes the row stale, so the next sale cannot overdraw."""
    db = Database.open(sqlite_url)
    db.upgrade()
    inv = Inventory(db, user="tester")
    inv.add_sku("BIRRA")
    inv.snapshot("BIRRA", 10, on=day(0))
    inv.sell("BIRRA", 2, on=day(1))
    assert db.path is not None
    raw = sqlite3.connect(db.path)
    raw.execute(
        "INSERT INTO transactions (date, sku, event, qty, priority, created_at) "
        "VALUES (?, 'BIRRA', 'SALE', 7, 2, '')",
        (day(1).isoformat(),),
    )
    raw.commit()
    raw.close()
    with pytest.raises(InsufficientStockError) as raised:
        inv.sell("BIRRA", 2, on=day(2))
    assert raised.value.context["shortfall"] == 1
    inv.sell("BIRRA", 1, on=day(2))
    assert position_row(db, "BIRRA") == (0, str(day(2)), 2)
    db.close()


def test_deleting_every_row_is_safe(inv: Inventory) -> None:
    """With the cache emptied, writes fold the ledger, refuse overdrafts and rebuild it."""
    inv.sell("BIRRA", 4, on=day(1))
    with inv.db.unit_of_work() as uow:
        uow.execute(text("DELETE FROM stock_positions"))
        uow.commit()
    with pytest.raises(InsufficientStockError):
        inv.sell("BIRRA", 7, on=day(2))
    inv.sell("BIRRA", 6, on=day(2))
    assert position_row(inv.db, "BIRRA") == (0, str(day(2)), 2)
    assert all(r.ok for r in check_all(inv.db).results)


def test_a_wrong_current_row_is_reported_by_the_check(inv: Inventory) -> None:
    """An edited on_hand in a current row fails stock_positions_match_ledger, and only it."""
    inv.sell("BIRRA", 4, on=day(1))
    with inv.db.unit_of_work() as uow:
        uow.execute(text("UPDATE stock_positions SET on_hand = on_hand + 5"))
        uow.commit()
    failing = [r for r in check_all(inv.db).results if not r.ok]
    assert [r.name for r in failing] == ["stock_positions_match_ledger"]
    assert failing[0].sample[0]["ledger_on_hand"] == 6
