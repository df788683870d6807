"""Lot draws: a reverted decrease gives its units back to exactly the lots it consumed."""

from __future__ import annotations

import sqlite3
from datetime import date

import pytest
from sqlalchemy import select, text
from sqlalchemy.engine import make_url

from inventory_core import Database, Inventory, ReceiptLine
from inventory_core.db import migrations
from inventory_core.errors import (
    AppendOnlyViolationError,
    LotConsumedError,
    LotDrawsMismatchError,
)
from inventory_core.invariants import check_all
from inventory_core.ledger import draws, events
from inventory_core.ledger.inputs import EventIn, validate
from inventory_core.models import EventType, LotDraw
from tests.ledger_support import (
    EARLY,
    LATE,
    day,
    draw_rows,
    early_and_late,
    lots_of,
    lots_ok,
    row_counts,
    table_fingerprint,
    two_lots,
)


@pytest.fixture
def inv(any_db: Database) -> Inventory:
    """An Inventory with the SKU LATTE and two lots of 10: one early, one late expiry."""
    return two_lots(any_db)


def test_reverting_a_sale_gives_its_units_back_to_the_lot(any_db: Database) -> None:
    """The issue's case: receive 48 with an expiry, sell 20, revert: the lot holds 48 again."""
    inv = Inventory(any_db, user="tester")
    inv.add_sku("BIRRA")
    result = inv.receive("DDT-1", [ReceiptLine("BIRRA", 48, expiry=LATE)], on=day(0))
    lot = result.lot_ids[0]
    sale = inv.sell("BIRRA", 20, on=day(1))
    assert lots_of(any_db, "BIRRA") == {lot: 28}
    inv.revert(sale, reason="till error")
    assert inv.stock("BIRRA").on_hand == 48
    assert lots_of(any_db, "BIRRA") == {lot: 48}
    assert draw_rows(any_db) == [(lot, sale, False, 20)]
    assert lots_ok(any_db)


def test_a_sale_across_two_lots_goes_back_to_both(inv: Inventory) -> None:
    """A sale of 14 takes 10 from the early lot and 4 from the late one; its revert returns both."""
    early, late = early_and_late(inv.db)
    sale = inv.sell("LATTE", 14, on=day(1))
    assert lots_of(inv.db, "LATTE") == {early: 0, late: 6}
    inv.revert(sale, reason="returned")
    assert lots_of(inv.db, "LATTE") == {early: 10, late: 10}
    assert lots_ok(inv.db)


def test_a_revert_after_later_sales_gives_back_only_what_it_took(inv: Inventory) -> None:
    """Later sales that emptied the early lot do not change what a reverted sale gets back."""
    early, late = early_and_late(inv.db)
    first = inv.sell("LATTE", 5, on=day(1))  # early 5
    inv.sell("LATTE", 8, on=day(2))  # early 5, late 3
    inv.revert(first, reason="returned")
    # Exactly the 5 units of the early lot come back (a FEFO replay would say 2 and 10).
    assert lots_of(inv.db, "LATTE") == {early: 5, late: 7}
    inv.sell("LATTE", 6, on=day(3))  # FEFO again: early first
    assert lots_of(inv.db, "LATTE") == {early: 0, late: 6}
    assert inv.stock("LATTE").on_hand == 6
    assert lots_ok(inv.db)


def test_reverting_a_negative_adjustment_gives_its_units_back(inv: Inventory) -> None:
    """A negative ADJUST drew FEFO; its revert puts the units back into that lot."""
    early, late = early_and_late(inv.db)
    tid = inv.adjust("LATTE", -7, on=day(1))
    assert lots_of(inv.db, "LATTE") == {early: 3, late: 10}
    inv.revert(tid, reason="miscounted")
    assert lots_of(inv.db, "LATTE") == {early: 10, late: 10}
    assert lots_ok(inv.db)


def test_reverting_waste_from_a_chosen_lot_gives_back_to_that_lot(inv: Inventory) -> None:
    """waste(lot_id=late) draws from the late lot only, and its revert refills only that lot."""
    early, late = early_and_late(inv.db)
    tid = inv.waste("LATTE", 3, on=day(1), lot_id=late)
    inv.sell("LATTE", 4, on=day(2))
    assert lots_of(inv.db, "LATTE") == {early: 6, late: 7}
    inv.revert(tid, reason="found the crate")
    assert lots_of(inv.db, "LATTE") == {early: 6, late: 10}
    assert lots_ok(inv.db)


def test_reverting_a_lower_count_gives_back_what_it_took(inv: Inventory) -> None:
    """A count of 6 out of 20 drew 14 FEFO; reverting the count returns those 14."""
    early, late = early_and_late(inv.db)
    count = inv.snapshot("LATTE", 6, on=day(1))
    assert lots_of(inv.db, "LATTE") == {early: 0, late: 6}
    inv.revert(count, reason="counted the wrong shelf")
    assert lots_of(inv.db, "LATTE") == {early: 10, late: 10}
    assert inv.stock("LATTE").on_hand == 20
    assert lots_ok(inv.db)


def test_reverting_a_consumed_receipt_is_refused_and_writes_nothing(any_db: Database) -> None:
    """A receipt whose lot a standing sale drew from is refused (WF_010) until the sale goes."""
    inv = Inventory(any_db, user="tester")
    inv.add_sku("BIRRA")
    inv.snapshot("BIRRA", 100, on=day(0))
    receipt = inv.receive("DDT-1", [ReceiptLine("BIRRA", 48, expiry=EARLY)], on=day(1))
    sale = inv.sell("BIRRA", 20, on=day(2))
    counts, rows = row_counts(any_db), table_fingerprint(any_db)
    with pytest.raises(LotConsumedError) as info:
        inv.revert(receipt.transaction_ids[0], reason="sent back")
    assert info.value.code == "WF_010"
    assert info.value.context["lot_id"] == receipt.lot_ids[0]
    assert info.value.context["transaction_ids"] == [sale]
    assert str(sale) in info.value.message
    assert row_counts(any_db) == counts and table_fingerprint(any_db) == rows
    inv.revert(sale, reason="till error")
    inv.revert(receipt.transaction_ids[0], reason="sent back")
    assert lots_of(any_db, "BIRRA") == {receipt.lot_ids[0]: 0}
    assert inv.stock("BIRRA").on_hand == 100
    assert lots_ok(any_db)


def test_a_receipt_trimmed_by_a_later_count_can_still_be_reverted(inv: Inventory) -> None:
    """A backdated lot trimmed to a later count drew from itself: that does not block its revert."""
    inv.snapshot("LATTE", 20, on=day(5))
    result = inv.receive("D2", [ReceiptLine("LATTE", 6, expiry=date(2026, 2, 20))], on=day(3))
    tid, lot = result.transaction_ids[0], result.lot_ids[0]
    assert (lot, tid, False, 6) in draw_rows(inv.db)
    inv.revert(tid, reason="wrong day")
    assert lots_of(inv.db, "LATTE")[lot] == 0
    assert lots_ok(inv.db)


def test_a_reversal_that_lowers_stock_books_its_draws_to_the_reversal(any_db: Database) -> None:
    """Reverting a positive ADJUST takes its units FEFO, booked to the reversal for good."""
    inv = Inventory(any_db, user="tester")
    inv.add_sku("BIRRA")
    lot = inv.receive("DDT-1", [ReceiptLine("BIRRA", 10, expiry=EARLY)], on=day(0)).lot_ids[0]
    extra = inv.adjust("BIRRA", 5, on=day(1))
    inv.sell("BIRRA", 3, on=day(2))  # the lot: 7 left
    inv.revert(extra, reason="double entry")
    assert inv.stock("BIRRA").on_hand == 7 and lots_of(any_db, "BIRRA") == {lot: 2}
    assert (lot, extra, True, 5) in draw_rows(any_db)
    assert lots_ok(any_db)


def test_units_given_back_past_a_later_count_are_trimmed_to_it(inv: Inventory) -> None:
    """A sale reverted under a later count gets its units back, then the count trims them."""
    early, late = early_and_late(inv.db)
    sale = inv.sell("LATTE", 4, on=day(1))
    inv.snapshot("LATTE", 16, on=day(5))  # counts the 4 as gone: draws nothing
    inv.revert(sale, reason="returned")
    # on_hand stays 16 (the count); the 4 go back to the early lot, the trim takes them.
    assert inv.stock("LATTE").on_hand == 16
    assert lots_of(inv.db, "LATTE") == {early: 6, late: 10}
    assert (early, sale, True, 4) in draw_rows(inv.db)
    assert lots_ok(inv.db)


def test_a_lot_edited_by_hand_makes_the_reversal_refuse(db: Database) -> None:
    """A lot raised by hand above what its draws allow: the revert refuses (WF_011)."""
    inv = Inventory(db, user="tester")
    inv.add_sku("BIRRA")
    lot = inv.receive("DDT-1", [ReceiptLine("BIRRA", 10, expiry=EARLY)], on=day(0)).lot_ids[0]
    sale = inv.sell("BIRRA", 4, on=day(1))
    raw = sqlite3.connect(make_url(str(db.engine.url)).database or "")
    raw.execute("UPDATE lots SET qty_remaining = 8 WHERE lot_id = ?", (lot,))
    raw.commit()
    raw.close()
    counts = row_counts(db)
    with pytest.raises(LotDrawsMismatchError) as info:
        inv.revert(sale, reason="returned")
    assert info.value.code == "WF_011" and info.value.context["lot_id"] == lot
    assert row_counts(db) == counts and lots_of(db, "BIRRA") == {lot: 8}


def test_the_invariant_catches_a_sale_reverted_by_hand(db: Database) -> None:
    """The issue's database built by hand: a reversal row, the lot left at 28, is caught."""
    inv = Inventory(db, user="tester")
    inv.add_sku("BIRRA")
    lot = inv.receive("DDT-1", [ReceiptLine("BIRRA", 48, expiry=LATE)], on=day(0)).lot_ids[0]
    sale = inv.sell("BIRRA", 20, on=day(1))
    raw = sqlite3.connect(make_url(str(db.engine.url)).database or "")
    raw.execute(
        "INSERT INTO transaction_reversals (transaction_id, reason, user, created_at) "
        "VALUES (?, 'by hand', 'script', '2026-02-03T00:00:00Z')",
        (sale,),
    )
    raw.execute("UPDATE sales SET qty_sold = 0 WHERE sku = 'BIRRA'")
    raw.commit()
    raw.close()
    report = check_all(db)
    # The reversal written by hand is sealed by no audit row, which the seal reports too.
    assert [r.name for r in report.results if not r.ok] == ["lots_consistent", "ledger_coverage"]
    result = report.result("lots_consistent")
    assert result.count == 1
    assert result.sample[0]["lot_id"] == lot
    assert (result.sample[0]["qty"], result.sample[0]["expected"]) == (28, 48)
    assert result.sample[0]["problem"] == "lot differs from its draws"


def test_lot_draws_refuse_update_and_delete(any_db: Database) -> None:
    """lot_draws is append-only: UPDATE, DELETE (and TRUNCATE) abort with REPO_005."""
    inv = Inventory(any_db, user="tester")
    inv.add_sku("BIRRA")
    inv.receive("DDT-1", [ReceiptLine("BIRRA", 5, expiry=LATE)], on=day(0))
    inv.sell("BIRRA", 2, on=day(1))
    statements = ["UPDATE lot_draws SET qty = qty + 1", "DELETE FROM lot_draws"]
    if any_db.engine.dialect.name == "postgresql":
        statements.append("TRUNCATE lot_draws")
    for statement in statements:
        with pytest.raises(AppendOnlyViolationError), any_db.unit_of_work() as uow:
            uow.execute(text(statement))
    assert len(draw_rows(any_db)) == 1


def _traced_sale(db: Database, sku: str, qty: int, on: date) -> list[str]:
    """The SQL statements one sale runs in its unit of work (SQLite's trace callback)."""
    ev = validate(EventIn, sku=sku, event=EventType.SALE, qty=qty, date=on)
    statements: list[str] = []
    with db.unit_of_work() as uow:
        driver = uow.connection.connection.driver_connection
        driver.set_trace_callback(statements.append)
        try:
            events.record(uow, ev)
        finally:
            driver.set_trace_callback(None)
        uow.commit()
    return statements


def test_only_a_sale_that_draws_from_lots_writes_a_draw(db: Database) -> None:
    """A sale of a SKU without open lots runs no lot statement; one with lots adds one insert."""
    inv = Inventory(db, user="tester")
    inv.add_sku("PLAIN")
    inv.add_sku("FRESH")
    inv.snapshot("PLAIN", 50, on=day(0))
    inv.receive("DDT-1", [ReceiptLine("FRESH", 50, expiry=LATE)], on=day(0))
    inv.sell("PLAIN", 1, on=day(1))
    inv.sell("FRESH", 1, on=day(1))
    plain = _traced_sale(db, "PLAIN", 1, day(2))
    fresh = _traced_sale(db, "FRESH", 1, day(2))
    # Only the first statement (the SKU, its position, whether it has open lots) names lots.
    assert not any("lot" in s.lower() for s in plain[1:]), plain
    assert "lot_draws" not in plain[0]
    assert len(fresh) == len(plain) + 3, fresh  # read the lots, update one, book the draw
    assert sum("INSERT INTO lot_draws" in s for s in fresh) == 1


def test_a_revert_reads_draws_and_consumers_through_their_indices(db: Database) -> None:
    """The draws of a transaction and of a lot are found by index, never by a table scan."""
    inv = Inventory(db, user="tester")
    inv.add_sku("BIRRA")
    inv.receive("DDT-1", [ReceiptLine("BIRRA", 5, expiry=LATE)], on=day(0))
    inv.sell("BIRRA", 1, on=day(1))
    own = draws._OWN_DRAWS.compiled(db.engine.dialect).sql
    consumers = str(
        select(LotDraw.__table__.c.transaction_id)
        .where(LotDraw.__table__.c.lot_id == 1)
        .compile(dialect=db.engine.dialect, compile_kwargs={"literal_binds": True})
    )
    with db.read() as uow:
        plans = [
            " ".join(
                str(row[-1])
                for row in uow.connection.exec_driver_sql(f"EXPLAIN QUERY PLAN {sql}", params)
            )
            for sql, params in ((own, (1,)), (consumers, ()))
        ]
    assert "USING INDEX ix_lot_draws_transaction_id" in plans[0], plans[0]
    assert "ix_lot_draws_lot_id" in plans[1], plans[1]


def test_lots_from_before_0005_get_an_opening_row_and_stay_consistent(sqlite_url: str) -> None:
    """Upgrading a ledger with consumed lots books an opening row; older sales give nothing back."""
    db = Database.open(sqlite_url)
    db.upgrade()
    inv = Inventory(db, user="tester")
    inv.add_sku("BIRRA")
    lot = inv.receive("DDT-1", [ReceiptLine("BIRRA", 48, expiry=LATE)], on=day(0)).lot_ids[0]
    old_sale = inv.sell("BIRRA", 20, on=day(1))
    migrations.downgrade(db.engine, "0002_stock_positions")
    db.close()
    db = Database.open(sqlite_url, create=False, migrate=True)
    try:
        inv = Inventory(db, user="tester")
        assert draw_rows(db) == [(lot, None, False, 20)]
        # The downgrade stripped the seals of rows written at head: only the chain says so.
        assert {r.name for r in check_all(db).results if not r.ok} == {"audit_chain"}
        inv.revert(old_sale, reason="till error")  # drawn before 0005: nothing to give back
        assert inv.stock("BIRRA").on_hand == 48 and lots_of(db, "BIRRA") == {lot: 28}
        new_sale = inv.sell("BIRRA", 5, on=day(2))
        inv.revert(new_sale, reason="till error")
        assert lots_of(db, "BIRRA") == {lot: 28}
        # The downgrade stripped the seals of rows written at head: only the chain says so.
        assert {r.name for r in check_all(db).results if not r.ok} == {"audit_chain"}
    finally:
        db.close()
