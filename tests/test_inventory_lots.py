"""Lots: FEFO consumption, waste from a lot, lots never above on_hand."""

from __future__ import annotations

from datetime import date

import pytest

from inventory_core import Database, Inventory, ReceiptLine
from inventory_core.errors import InsufficientStockError, NotFoundError
from tests.ledger_support import day, lots_total, row_counts


@pytest.fixture
def inv(any_db: Database) -> Inventory:
    """An Inventory with one SKU and three lots: no expiry, late and early expiry."""
    inventory = Inventory(any_db, user="tester")
    inventory.add_sku("LATTE")
    inventory.receive(
        "D1",
        [
            ReceiptLine("LATTE", 5),
            ReceiptLine("LATTE", 10, expiry=date(2026, 3, 20)),
            ReceiptLine("LATTE", 10, expiry=date(2026, 3, 1)),
            ReceiptLine("LATTE", 4, expiry=date(2026, 3, 1)),
        ],
        on=day(0),
    )
    return inventory


def _remaining(inv: Inventory) -> list[tuple[date | None, int]]:
    return [(lot.expiry_date, lot.qty_remaining) for lot in inv.lots("LATTE")]


def test_lots_are_listed_first_expiry_first_out(inv: Inventory) -> None:
    """lots() returns the earliest expiry first (ties by lot id) and omits lots without expiry."""
    lots = inv.lots("LATTE")
    assert [(lot.expiry_date, lot.qty_received) for lot in lots] == [
        (date(2026, 3, 1), 10),
        (date(2026, 3, 1), 4),
        (date(2026, 3, 20), 10),
    ]
    assert lots[0].lot_id < lots[1].lot_id


def test_a_sale_consumes_the_earliest_expiry_first(inv: Inventory) -> None:
    """Selling 12 empties the first early lot and takes 2 from the second."""
    inv.sell("LATTE", 12, on=day(1))
    assert _remaining(inv) == [(date(2026, 3, 1), 2), (date(2026, 3, 20), 10)]


def test_waste_from_a_lot_takes_from_that_lot(inv: Inventory) -> None:
    """waste(lot_id=...) leaves the other lots alone."""
    late = inv.lots("LATTE")[-1].lot_id
    inv.waste("LATTE", 3, on=day(1), lot_id=late)
    assert _remaining(inv) == [
        (date(2026, 3, 1), 10),
        (date(2026, 3, 1), 4),
        (date(2026, 3, 20), 7),
    ]


def test_waste_beyond_a_lot_is_refused(inv: Inventory) -> None:
    """Wasting more than the lot holds raises InsufficientStockError and writes nothing."""
    small = inv.lots("LATTE")[1].lot_id
    before = row_counts(inv.db)
    with pytest.raises(InsufficientStockError) as info:
        inv.waste("LATTE", 5, on=day(1), lot_id=small)
    assert info.value.context["shortfall"] == 1
    with pytest.raises(NotFoundError):
        inv.waste("LATTE", 1, on=day(1), lot_id=small + 1000)
    assert row_counts(inv.db) == before


def test_a_lower_count_trims_the_lots_fefo(inv: Inventory) -> None:
    """A count of 8 after 29 on hand consumes the 21 missing units from the lots, FEFO."""
    inv.snapshot("LATTE", 8, on=day(2))
    assert lots_total(inv.db, "LATTE") <= 8
    assert _remaining(inv) == [(date(2026, 3, 20), 3)]


def test_a_backdated_receipt_before_a_count_keeps_lots_within_on_hand(inv: Inventory) -> None:
    """A lot received before a later count cannot hold more than that count left."""
    inv.snapshot("LATTE", 0, on=day(5))
    inv.receive("D2", [ReceiptLine("LATTE", 6, expiry=date(2026, 4, 1))], on=day(3))
    assert lots_total(inv.db, "LATTE") == 0
    assert inv.lots("LATTE") == []


def test_reverting_a_receipt_removes_its_own_lot_first(inv: Inventory) -> None:
    """The reverted receipt's lot empties; the other lots stay as they were."""
    result = inv.receive("D2", [ReceiptLine("LATTE", 6, expiry=date(2026, 2, 20))], on=day(1))
    inv.revert(result.transaction_ids[0], reason="sent back")
    assert _remaining(inv) == [
        (date(2026, 3, 1), 10),
        (date(2026, 3, 1), 4),
        (date(2026, 3, 20), 10),
    ]
