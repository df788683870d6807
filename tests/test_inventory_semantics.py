"""Every row of the ledger semantics table (DESIGN.md), on SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import date

import pytest

from inventory_core import Database, Inventory, ReceiptLine, Stock
from inventory_core.errors import ConflictError, InsufficientStockError, NotFoundError
from tests.ledger_support import day, oracle, row_counts


@pytest.fixture
def inv(any_db: Database) -> Inventory:
    """An Inventory with one SKU, BIRRA."""
    inventory = Inventory(any_db, user="tester")
    inventory.add_sku("BIRRA", "Birra Lager 0.5L", pack_size=24)
    return inventory


def _stock(inv: Inventory, asof: date) -> Stock:
    found = inv.stock("BIRRA", asof=asof)
    assert inv.stock_all(asof=asof)["BIRRA"] == found
    assert oracle(inv.db, asof, ["BIRRA"])["BIRRA"] == found
    return found


def test_a_sku_without_events_has_zero_stock(inv: Inventory) -> None:
    """A new SKU has nothing on hand, on order or unfulfilled."""
    assert _stock(inv, day(5)) == Stock("BIRRA", 0, 0, 0, day(5))


def test_snapshot_sets_on_hand_and_leaves_on_order(inv: Inventory) -> None:
    """A SNAPSHOT replaces on_hand with the count and does not touch on_order."""
    inv.order("BIRRA", 50, on=day(0))
    inv.snapshot("BIRRA", 10, on=day(1))
    inv.snapshot("BIRRA", 7, on=day(2))
    assert _stock(inv, day(3)) == Stock("BIRRA", 7, 50, 0, day(3))


def test_events_on_the_asof_date_do_not_count(inv: Inventory) -> None:
    """Stock as of D folds only the events strictly before D."""
    inv.snapshot("BIRRA", 10, on=day(1))
    assert _stock(inv, day(1)).on_hand == 0
    assert _stock(inv, day(2)).on_hand == 10


def test_receipt_adds_on_hand_and_reduces_on_order_clamped_at_zero(inv: Inventory) -> None:
    """A RECEIPT adds to on_hand and lowers on_order, never below zero."""
    inv.order("BIRRA", 30, on=day(0))
    inv.receive("D1", [ReceiptLine("BIRRA", 20)], on=day(1))
    assert _stock(inv, day(2)) == Stock("BIRRA", 20, 10, 0, day(2))
    inv.receive("D2", [ReceiptLine("BIRRA", 25)], on=day(2))
    assert _stock(inv, day(3)) == Stock("BIRRA", 45, 0, 0, day(3))
    inv.order("BIRRA", 12, on=day(3))
    assert _stock(inv, day(4)).on_order == 12


def test_same_day_receipt_before_order_clamps_first(inv: Inventory) -> None:
    """ORDER and RECEIPT share a priority, so the same day runs them by transaction id."""
    inv.receive("D1", [ReceiptLine("BIRRA", 5)], on=day(1))
    inv.order("BIRRA", 5, on=day(1))
    assert _stock(inv, day(2)).on_order == 5


def test_sale_waste_and_adjust_change_on_hand(inv: Inventory) -> None:
    """SALE and WASTE subtract, ADJUST adds its signed quantity."""
    inv.snapshot("BIRRA", 100, on=day(0))
    inv.sell("BIRRA", 10, on=day(1))
    inv.waste("BIRRA", 5, on=day(1))
    inv.adjust("BIRRA", -3, on=day(2))
    inv.adjust("BIRRA", 8, on=day(2))
    assert _stock(inv, day(3)).on_hand == 90


def test_unfulfilled_accumulates_without_stock_effect(inv: Inventory) -> None:
    """UNFULFILLED adds to unfulfilled (cumulatively) and leaves on_hand alone."""
    inv.snapshot("BIRRA", 4, on=day(0))
    inv.unfulfilled("BIRRA", 6, on=day(1))
    inv.unfulfilled("BIRRA", 2, on=day(3))
    assert _stock(inv, day(2)) == Stock("BIRRA", 4, 0, 6, day(2))
    assert _stock(inv, day(4)) == Stock("BIRRA", 4, 0, 8, day(4))


def test_same_day_snapshot_comes_first(inv: Inventory) -> None:
    """A count recorded after a same-day sale still applies before it (priority 0)."""
    inv.snapshot("BIRRA", 20, on=day(0))
    inv.sell("BIRRA", 5, on=day(1))
    inv.snapshot("BIRRA", 30, on=day(1))
    assert _stock(inv, day(2)).on_hand == 25


def test_same_day_receipt_comes_before_sales(inv: Inventory) -> None:
    """A receipt (priority 1) feeds a sale (priority 2) recorded earlier the same day."""
    inv.receive("D1", [ReceiptLine("BIRRA", 10)], on=day(1))
    inv.sell("BIRRA", 10, on=day(1))
    assert _stock(inv, day(2)).on_hand == 0


def test_a_sale_beyond_stock_is_refused_with_date_and_shortfall(inv: Inventory) -> None:
    """Selling more than on hand raises InsufficientStockError and writes nothing."""
    inv.snapshot("BIRRA", 5, on=day(0))
    before = row_counts(inv.db)
    with pytest.raises(InsufficientStockError) as info:
        inv.sell("BIRRA", 8, on=day(2))
    assert info.value.context == {"sku": "BIRRA", "date": day(2), "shortfall": 3}
    assert row_counts(inv.db) == before


def test_a_backdated_sale_is_checked_against_later_days(inv: Inventory) -> None:
    """A backdated sale that starves a later sale names the later date and the deficit."""
    inv.snapshot("BIRRA", 10, on=day(0))
    inv.sell("BIRRA", 6, on=day(5))
    inv.sell("BIRRA", 3, on=day(7))
    before = row_counts(inv.db)
    with pytest.raises(InsufficientStockError) as info:
        inv.sell("BIRRA", 4, on=day(2))
    assert info.value.context["date"] == day(7)
    assert info.value.context["shortfall"] == 3
    assert row_counts(inv.db) == before


def test_a_backdated_sale_before_a_later_count_is_allowed(inv: Inventory) -> None:
    """A later SNAPSHOT resets on_hand, so only the days up to it limit a backdated sale."""
    inv.snapshot("BIRRA", 10, on=day(0))
    inv.snapshot("BIRRA", 3, on=day(5))
    inv.sell("BIRRA", 10, on=day(2))
    assert _stock(inv, day(3)).on_hand == 0
    assert _stock(inv, day(6)).on_hand == 3


def test_a_lower_count_that_starves_later_sales_is_refused(inv: Inventory) -> None:
    """A backdated SNAPSHOT below what later sales took is refused."""
    inv.receive("D1", [ReceiptLine("BIRRA", 10)], on=day(0))
    inv.sell("BIRRA", 8, on=day(4))
    with pytest.raises(InsufficientStockError) as info:
        inv.snapshot("BIRRA", 2, on=day(3))
    assert info.value.context["date"] == day(4)
    assert info.value.context["shortfall"] == 6


def test_a_negative_adjust_beyond_stock_is_refused(inv: Inventory) -> None:
    """A negative ADJUST below zero is refused like a sale."""
    inv.snapshot("BIRRA", 2, on=day(0))
    with pytest.raises(InsufficientStockError):
        inv.adjust("BIRRA", -3, on=day(1))


def test_a_second_count_on_the_same_day_is_a_conflict(inv: Inventory) -> None:
    """At most one unreversed SNAPSHOT per SKU and day; revert the first to recount."""
    first = inv.snapshot("BIRRA", 10, on=day(1))
    with pytest.raises(ConflictError):
        inv.snapshot("BIRRA", 12, on=day(1))
    inv.revert(first, reason="miscounted")
    inv.snapshot("BIRRA", 12, on=day(1))
    assert _stock(inv, day(2)).on_hand == 12


def test_reversed_events_do_not_count(inv: Inventory) -> None:
    """A reverted sale and a reverted order no longer count anywhere."""
    inv.snapshot("BIRRA", 10, on=day(0))
    sale = inv.sell("BIRRA", 4, on=day(1))
    order_id = inv.order("BIRRA", 9, on=day(1))
    order_tid = next(e.transaction_id for e in inv.history("BIRRA") if e.event == "ORDER")
    inv.revert(sale, reason="till error")
    inv.revert(order_tid, reason="supplier refused")
    assert _stock(inv, day(2)) == Stock("BIRRA", 10, 0, 0, day(2))
    assert order_id > 0


def test_writes_to_an_unknown_sku_are_not_found(inv: Inventory) -> None:
    """Every write and read names the unknown SKU."""
    before = row_counts(inv.db)
    for call in (
        lambda: inv.sell("NOPE", 1, on=day(1)),
        lambda: inv.snapshot("NOPE", 1, on=day(1)),
        lambda: inv.order("NOPE", 1, on=day(1)),
        lambda: inv.unfulfilled("NOPE", 1, on=day(1)),
        lambda: inv.adjust("NOPE", 1, on=day(1)),
        lambda: inv.receive("D9", [ReceiptLine("NOPE", 1)], on=day(1)),
        lambda: inv.stock("NOPE"),
        lambda: inv.get_sku("NOPE"),
        lambda: inv.lots("NOPE"),
        lambda: inv.history("NOPE"),
    ):
        with pytest.raises(NotFoundError) as info:
            call()
        assert info.value.context["key"] == "NOPE"
    assert row_counts(inv.db) == before
