"""Reversal: recorded once, refused when later stock depends on it, side effects undone."""

from __future__ import annotations

import pytest
from sqlalchemy import text

from inventory_core import Database, Inventory, ReceiptLine
from inventory_core.errors import ConflictError, InsufficientStockError, NotFoundError
from tests.ledger_support import counted_birra, day, row_counts


@pytest.fixture
def inv(any_db: Database) -> Inventory:
    """An Inventory with one SKU counted at 10."""
    return counted_birra(any_db)


def test_reverting_twice_is_a_conflict(inv: Inventory) -> None:
    """The second revert of a transaction raises ConflictError."""
    tid = inv.sell("BIRRA", 2, on=day(1))
    inv.revert(tid, reason="till error")
    before = row_counts(inv.db)
    with pytest.raises(ConflictError):
        inv.revert(tid, reason="again")
    assert row_counts(inv.db) == before
    assert [e.reversed for e in inv.history("BIRRA")] == [False, True]


def test_reverting_an_unknown_transaction_is_not_found(inv: Inventory) -> None:
    """An id that does not exist raises NotFoundError."""
    with pytest.raises(NotFoundError):
        inv.revert(999_999, reason="typo")


def test_a_reversal_that_starves_later_sales_is_refused(inv: Inventory) -> None:
    """Reverting a receipt that later sales used raises InsufficientStockError, writes nothing."""
    result = inv.receive("D1", [ReceiptLine("BIRRA", 20)], on=day(1))
    inv.sell("BIRRA", 25, on=day(4))
    before = row_counts(inv.db)
    with pytest.raises(InsufficientStockError) as info:
        inv.revert(result.transaction_ids[0], reason="wrong")
    assert info.value.context["date"] == day(4)
    assert info.value.context["shortfall"] == 15
    assert row_counts(inv.db) == before


def test_reverting_a_count_restores_the_fold_without_it(inv: Inventory) -> None:
    """A reverted SNAPSHOT no longer resets on_hand."""
    inv.adjust("BIRRA", 5, on=day(1))
    count = inv.snapshot("BIRRA", 40, on=day(2))
    inv.revert(count, reason="counted the wrong shelf")
    assert inv.stock("BIRRA", asof=day(3)).on_hand == 15


def test_reverting_a_sale_gives_back_the_days_sales(inv: Inventory) -> None:
    """The day's sales row goes down by the reverted quantity."""
    inv.sell("BIRRA", 3, on=day(1))
    tid = inv.sell("BIRRA", 2, on=day(1))
    with inv.db.read() as uow:
        sold = uow.execute(text("SELECT qty_sold FROM sales WHERE sku = 'BIRRA'")).scalar_one()
    assert sold == 5
    inv.revert(tid, reason="returned")
    with inv.db.read() as uow:
        sold = uow.execute(text("SELECT qty_sold FROM sales WHERE sku = 'BIRRA'")).scalar_one()
    assert sold == 3
    assert inv.stock("BIRRA", asof=day(2)).on_hand == 7


def test_reversal_records_reason_and_user(inv: Inventory) -> None:
    """The transaction_reversals row keeps who reverted and why."""
    tid = inv.sell("BIRRA", 1, on=day(1))
    inv.revert(tid, reason="till error")
    with inv.db.read() as uow:
        row = uow.execute(
            text('SELECT transaction_id, reason, "user" FROM transaction_reversals')
        ).one()
    assert tuple(row) == (tid, "till error", "tester")
