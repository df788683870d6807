"""Lot draws through the bulk path: record_many books them, a revert gives them back."""

from __future__ import annotations

from datetime import date

import pytest
from sqlalchemy import text

from inventory_core import Database, Inventory, ReceiptLine
from inventory_core.errors import DatabaseError, LotConsumedError
from inventory_core.models import EventType
from tests.ledger_support import (
    EARLY,
    LATE,
    day,
    early_and_late,
    lots_of,
    lots_ok,
    row_counts,
    two_lots,
)


@pytest.fixture
def inv(any_db: Database) -> Inventory:
    """An Inventory with the SKU LATTE and two lots of 10: one early, one late expiry."""
    return two_lots(any_db)


def test_bulk_decreases_book_their_draws_and_a_revert_gives_them_back(inv: Inventory) -> None:
    """record_many draws FEFO from old and new lots; reverting a bulk sale refills its lots."""
    early, late = early_and_late(inv.db)
    inv.record_many(
        [
            {"sku": "LATTE", "event": "SALE", "qty": 12, "date": day(1)},
            {
                "sku": "LATTE",
                "event": "RECEIPT",
                "qty": 5,
                "date": day(1),
                "expiry": date(2026, 2, 25),
                "document_id": "D2",
            },
            {"sku": "LATTE", "event": "SALE", "qty": 7, "date": day(2)},
            {"sku": "LATTE", "event": "ADJUST", "qty": -1, "date": day(2)},
            {"sku": "LATTE", "event": "SNAPSHOT", "qty": 3, "date": day(3)},
        ]
    )
    (fresh,) = set(lots_of(inv.db, "LATTE")) - {early, late}
    # 12: early 10, late 2; 7: fresh 5, late 2; -1: late 1; the count of 3 (of 5): late 2.
    assert lots_of(inv.db, "LATTE") == {early: 0, late: 3, fresh: 0}
    assert lots_ok(inv.db)
    history = [e for e in inv.history("LATTE") if e.event != EventType.RECEIPT]
    first_sale, second_sale, adjust, count = (e.transaction_id for e in history[-4:])
    inv.revert(count, reason="recount")
    assert lots_of(inv.db, "LATTE") == {early: 0, late: 5, fresh: 0}
    inv.revert(second_sale, reason="returned")
    assert lots_of(inv.db, "LATTE") == {early: 0, late: 7, fresh: 5}
    inv.revert(first_sale, reason="returned")
    inv.revert(adjust, reason="found it")
    assert lots_of(inv.db, "LATTE") == {early: 10, late: 10, fresh: 5}
    assert inv.stock("LATTE").on_hand == 25
    assert lots_ok(inv.db)


def test_a_bulk_receipt_consumed_in_its_own_chunk_is_refused(any_db: Database) -> None:
    """A lot created and drawn from in one bulk chunk: its receipt's revert names the sale."""
    inv = Inventory(any_db, user="tester")
    inv.add_sku("A")
    inv.record_many(
        [
            {"sku": "A", "event": "SNAPSHOT", "qty": 50, "date": day(0)},
            {"sku": "A", "event": "RECEIPT", "qty": 6, "date": day(1), "expiry": EARLY},
            {"sku": "A", "event": "SALE", "qty": 4, "date": day(2)},
        ]
    )
    receipt, sale = (e.transaction_id for e in inv.history("A")[1:])
    with pytest.raises(LotConsumedError) as info:
        inv.revert(receipt, reason="sent back")
    assert info.value.context["transaction_ids"] == [sale]
    inv.revert(sale, reason="returned")
    inv.revert(receipt, reason="sent back")
    assert inv.stock("A").on_hand == 50 and lots_ok(any_db)


def test_a_bulk_chunk_refuses_ids_it_cannot_read_back(db: Database) -> None:
    """A ledger at SQLite's largest rowid gets random ids: the bulk path refuses, writes nothing."""
    inv = Inventory(db, user="tester")
    inv.add_sku("A")
    inv.receive("DDT-1", [ReceiptLine("A", 5, expiry=LATE)], on=day(0))
    with db.unit_of_work() as uow:
        uow.execute(
            text(
                "INSERT INTO transactions (transaction_id, date, sku, event, qty, priority, "
                "created_at) VALUES (9223372036854775807, '2026-01-01', 'A', 'UNFULFILLED', "
                "1, 3, 'x')"
            )
        )
        uow.commit()
    counts = row_counts(db)
    with pytest.raises(DatabaseError, match="are not the 3 inserted"):
        inv.record_many([{"sku": "A", "event": "SALE", "qty": 1, "date": day(1)}] * 3)
    assert row_counts(db) == counts
