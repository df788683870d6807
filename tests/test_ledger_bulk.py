"""The bulk path: the same rules as single writes, checked per SKU over the whole batch."""

from __future__ import annotations

import gc
import random
from datetime import date

import pytest
from sqlalchemy import text

from inventory_core import Database, Inventory
from inventory_core.errors import ConflictError, InsufficientStockError, NotFoundError
from inventory_core.ledger import positions
from inventory_core.ledger.inputs import EventIn
from inventory_core.models import EventType
from tests.ledger_support import day, lots_total, oracle, row_counts


@pytest.fixture
def inv(any_db: Database) -> Inventory:
    """An Inventory with two SKUs and chunks of 50 events."""
    inventory = Inventory(any_db, user="importer", chunk_size=50)
    inventory.add_sku("A")
    inventory.add_sku("B")
    return inventory


def _random_history(seed: int, count: int) -> list[dict[str, object]]:
    rng = random.Random(seed)
    events: list[dict[str, object]] = []
    for sku in ("A", "B"):
        events.append({"sku": sku, "event": "SNAPSHOT", "qty": 50, "date": day(0)})
    for _ in range(count):
        sku = rng.choice(["A", "B"])
        kind = rng.choice(["ORDER", "RECEIPT", "SALE", "ADJUST", "UNFULFILLED"])
        qty = rng.randint(1, 5) if kind != "ADJUST" else rng.choice([-1, 2])
        events.append({"sku": sku, "event": kind, "qty": qty, "date": day(rng.randint(1, 60))})
    return events


def test_a_bulk_import_matches_the_reference_fold(inv: Inventory) -> None:
    """Stock after record_many equals the fold of the imported events at every date."""
    result = inv.record_many(_random_history(7, 400))
    assert result.events == 402 and result.chunks == 9
    for asof in (day(1), day(20), day(61)):
        assert inv.stock_all(asof=asof) == oracle(inv.db, asof, ["A", "B"])


def test_bulk_accepts_event_models_and_fills_sales(inv: Inventory) -> None:
    """EventIn items are accepted and SALE events add up in the day's sales row."""
    events = [
        EventIn(sku="A", event=EventType.RECEIPT, qty=10, date=day(0)),
        EventIn(sku="A", event=EventType.SALE, qty=3, date=day(1)),
        EventIn(sku="A", event=EventType.SALE, qty=2, date=day(1)),
    ]
    inv.record_many(events)
    with inv.db.read() as uow:
        sold = uow.execute(text("SELECT qty_sold FROM sales WHERE sku = 'A'")).scalar_one()
    assert sold == 5
    assert inv.stock("A", asof=day(2)).on_hand == 5


def test_a_batch_that_goes_negative_is_refused_whole(inv: Inventory) -> None:
    """A sale beyond stock anywhere in a chunk refuses the chunk with the date and shortfall."""
    inv.snapshot("A", 5, on=day(0))
    before = row_counts(inv.db)
    with pytest.raises(InsufficientStockError) as info:
        inv.record_many(
            [
                {"sku": "A", "event": "SALE", "qty": 4, "date": day(3)},
                {"sku": "A", "event": "SALE", "qty": 3, "date": day(2)},
            ]
        )
    assert info.value.context["date"] == day(3)
    assert info.value.context["shortfall"] == 2
    assert row_counts(inv.db) == before


def test_a_batch_is_checked_against_existing_later_events(inv: Inventory) -> None:
    """A backdated batch that starves an existing later sale is refused."""
    inv.snapshot("A", 5, on=day(0))
    inv.sell("A", 5, on=day(9))
    with pytest.raises(InsufficientStockError) as info:
        inv.record_many([{"sku": "A", "event": "WASTE", "qty": 1, "date": day(2)}])
    assert info.value.context["date"] == day(9)


def test_unknown_skus_and_double_counts_are_refused(inv: Inventory) -> None:
    """An unknown SKU is NotFound; two counts for one SKU and day are a conflict."""
    with pytest.raises(NotFoundError):
        inv.record_many([{"sku": "Z", "event": "SALE", "qty": 1, "date": day(1)}])
    with pytest.raises(ConflictError):
        inv.record_many(
            [
                {"sku": "A", "event": "SNAPSHOT", "qty": 1, "date": day(1)},
                {"sku": "A", "event": "SNAPSHOT", "qty": 2, "date": day(1)},
            ]
        )


def test_bulk_receipts_create_lots_and_consume_them_fefo(inv: Inventory) -> None:
    """Receipts with an expiry create lots; later sales in the batch consume them FEFO."""
    inv.record_many(
        [
            {
                "sku": "A",
                "event": "RECEIPT",
                "qty": 6,
                "date": day(0),
                "expiry": date(2026, 6, 1),
                "document_id": "DOC-1",
            },
            {
                "sku": "A",
                "event": "RECEIPT",
                "qty": 6,
                "date": day(0),
                "expiry": date(2026, 5, 1),
                "document_id": "DOC-1",
            },
            {"sku": "A", "event": "SALE", "qty": 8, "date": day(1)},
        ]
    )
    assert [(lot.expiry_date, lot.qty_remaining) for lot in inv.lots("A")] == [
        (date(2026, 6, 1), 4)
    ]
    assert lots_total(inv.db, "A") <= inv.stock("A", asof=day(5)).on_hand
    with pytest.raises(ConflictError):
        inv.record_many(
            [{"sku": "A", "event": "RECEIPT", "qty": 1, "date": day(2), "document_id": "DOC-1"}]
        )


def test_a_chunk_leaves_current_positions_for_the_next_writes(inv: Inventory) -> None:
    """After a bulk import each SKU's row holds its final on_hand and last event."""
    inv.record_many(
        [
            {"sku": "A", "event": "SNAPSHOT", "qty": 10, "date": day(0)},
            {"sku": "A", "event": "SALE", "qty": 3, "date": day(2)},
            {"sku": "B", "event": "SNAPSHOT", "qty": 4, "date": day(1)},
        ]
    )
    with inv.db.read() as uow:
        found = positions.read_many(uow, ["A", "B"])
    assert found == {
        "A": positions.Position(7, day(2), 2),
        "B": positions.Position(4, day(1), 0),
    }


def test_a_chunk_after_the_last_event_is_checked_from_the_position(inv: Inventory) -> None:
    """A later chunk that overdraws is refused with the shortfall a single write reports."""
    inv.record_many([{"sku": "A", "event": "SNAPSHOT", "qty": 5, "date": day(0)}])
    before = row_counts(inv.db)
    with pytest.raises(InsufficientStockError) as raised:
        inv.record_many(
            [
                {"sku": "A", "event": "SALE", "qty": 4, "date": day(1)},
                {"sku": "A", "event": "SALE", "qty": 3, "date": day(2)},
            ]
        )
    assert raised.value.context["shortfall"] == 2
    assert str(raised.value.context["date"]) == str(day(2))
    assert row_counts(inv.db) == before


def test_a_second_count_on_the_last_counts_day_is_a_conflict(inv: Inventory) -> None:
    """A chunk whose count falls on the day of the SKU's last count is refused."""
    inv.record_many([{"sku": "A", "event": "SNAPSHOT", "qty": 5, "date": day(3)}])
    with pytest.raises(ConflictError):
        inv.record_many([{"sku": "A", "event": "SNAPSHOT", "qty": 6, "date": day(3)}])


def test_rows_keep_the_chunks_order_around_receipts_with_lots(inv: Inventory) -> None:
    """An ORDER before a lot-creating RECEIPT on one day stays before it: on_order ends at 0."""
    inv.record_many(
        [
            {"sku": "A", "event": "ORDER", "qty": 6, "date": day(1)},
            {"sku": "A", "event": "RECEIPT", "qty": 6, "date": day(1), "expiry": day(90)},
            {"sku": "A", "event": "SALE", "qty": 2, "date": day(1)},
            {"sku": "A", "event": "RECEIPT", "qty": 3, "date": day(1), "expiry": day(30)},
        ]
    )
    stock = inv.stock("A", asof=day(2))
    assert (stock.on_hand, stock.on_order) == (7, 0)
    with inv.db.read() as uow:
        linked = uow.execute(
            text(
                "SELECT t.qty, t.event FROM lots l JOIN transactions t "
                "ON t.transaction_id = l.transaction_id ORDER BY l.lot_id"
            )
        ).all()
    assert [tuple(row) for row in linked] == [(6, "RECEIPT"), (3, "RECEIPT")]


def test_the_garbage_collector_is_back_on_after_a_refused_batch(inv: Inventory) -> None:
    """record_many pauses the cyclic collector and restores it even when it raises."""
    assert gc.isenabled()
    with pytest.raises(NotFoundError):
        inv.record_many([{"sku": "NOPE", "event": "SALE", "qty": 1, "date": day(1)}])
    assert gc.isenabled()
    gc.disable()
    try:
        inv.record_many([{"sku": "A", "event": "ORDER", "qty": 1, "date": day(1)}])
        assert not gc.isenabled()
    finally:
        gc.enable()
