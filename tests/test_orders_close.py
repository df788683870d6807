"""Closing an order short: on_order exact at every date, reopening, refusals, coverage."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import text

from inventory_core import Database, Inventory, ReceiptLine, audit
from inventory_core.db import migrations
from inventory_core.errors import (
    AppendOnlyViolationError,
    InventoryError,
    NotFoundError,
    OrderClosedError,
    OrderNotOpenError,
    ValidationError,
)
from inventory_core.invariants import check_all
from inventory_core.ledger.fold import ClosureEvent, LedgerEvent, reference_fold
from inventory_core.models import EventType
from tests.db_support import test_settings
from tests.test_ledger_coverage import assert_caught, tamper_ledger


def day(n: int) -> date:
    """The n-th day of March 2026 (0 is 1 March)."""
    return date(2026, 3, 1) + timedelta(days=n)


def partial_order(inv: Inventory) -> int:
    """A SKU with an order of 48 of which 20 arrived on day 3; the order's id."""
    inv.add_sku("BIRRA")
    order_id = inv.order("BIRRA", 48, on=day(0), expected=day(2))
    inv.receive("DDT-1", [ReceiptLine("BIRRA", 20, order_id=order_id)], on=day(3))
    return order_id


def test_a_closed_remainder_leaves_on_order_from_its_date_only(any_db: Database) -> None:
    """Before the close date on_order still shows the remainder; from it on, not."""
    inv = Inventory(any_db, user="tester")
    order_id = partial_order(inv)
    done = inv.close_order(order_id, reason="supplier out of stock", on=day(5))
    assert (done.qty, done.status, done.date) == (28, "CLOSED", day(5))
    assert inv.stock("BIRRA", asof=day(5)).on_order == 28
    assert inv.stock("BIRRA", asof=day(6)).on_order == 0
    assert inv.stock_all(asof=day(5))["BIRRA"].on_order == 28
    assert inv.stock_all(asof=day(6))["BIRRA"].on_order == 0
    with any_db.read() as uow:
        status = uow.execute(
            text("SELECT status FROM order_logs WHERE order_id = :o"), {"o": order_id}
        ).scalar_one()
    assert status == "CLOSED"
    assert audit.verify(any_db).ok
    assert check_all(any_db).status.value == "HEALTHY"


def test_reopening_restores_on_order_at_every_date_and_the_status(any_db: Database) -> None:
    """reopen_order cancels the closure: on_order and status are as before the close."""
    inv = Inventory(any_db, user="tester")
    order_id = partial_order(inv)
    inv.close_order(order_id, reason="never coming", on=day(5))
    done = inv.reopen_order(order_id, reason="supplier found stock")
    assert (done.status, done.reopened is not None) == ("PARTIAL", True)
    assert inv.stock("BIRRA", asof=day(9)).on_order == 28
    inv.receive("DDT-2", [ReceiptLine("BIRRA", 28, order_id=order_id)], on=day(9))
    assert inv.stock("BIRRA", asof=day(10)).on_order == 0
    # The order is RECEIVED now: nothing left to close.
    with pytest.raises(OrderNotOpenError):
        inv.close_order(order_id, reason="again", on=day(10))
    assert check_all(any_db).status.value == "HEALTHY"


def test_a_pending_order_closes_whole_and_can_close_again_after_reopening(
    any_db: Database,
) -> None:
    """A PENDING order closes with its whole quantity; close, reopen, close again works."""
    inv = Inventory(any_db, user="tester")
    inv.add_sku("LATTE")
    order_id = inv.order("LATTE", 10, on=day(0))
    assert inv.close_order(order_id, reason="r", on=day(0)).qty == 10
    assert inv.stock("LATTE", asof=day(1)).on_order == 0
    inv.reopen_order(order_id, reason="r")
    assert inv.stock("LATTE", asof=day(1)).on_order == 10
    inv.close_order(order_id, reason="r", on=day(2))
    assert inv.stock("LATTE", asof=day(2)).on_order == 10
    assert inv.stock("LATTE", asof=day(3)).on_order == 0
    assert check_all(any_db).status.value == "HEALTHY"


def test_a_closed_order_refuses_receipts_and_reverts_until_reopened(any_db: Database) -> None:
    """Receiving on it, reverting its receipt or its ORDER: OrderClosedError, nothing written."""
    inv = Inventory(any_db, user="tester")
    order_id = partial_order(inv)
    receipt = inv.history("BIRRA")[-1].transaction_id
    order_tid = inv.history("BIRRA")[0].transaction_id
    inv.close_order(order_id, reason="r", on=day(4))
    with pytest.raises(OrderClosedError) as caught:
        inv.receive("DDT-9", [ReceiptLine("BIRRA", 1, order_id=order_id)], on=day(6))
    assert caught.value.code == "WF_013"
    for tid in (receipt, order_tid):
        with pytest.raises(OrderClosedError):
            inv.revert(tid, reason="mistake")
    assert inv.stock("BIRRA", asof=day(9)).on_hand == 20
    inv.reopen_order(order_id, reason="r")
    inv.revert(receipt, reason="mistake")
    assert inv.stock("BIRRA", asof=day(9)).on_order == 48


@pytest.mark.parametrize(
    ("kwargs", "error"),
    [
        ({"order_id": 0, "reason": "r"}, ValidationError),
        ({"order_id": "1", "reason": "r"}, ValidationError),
        ({"order_id": 99, "reason": "r"}, NotFoundError),
        ({"order_id": 1, "reason": " "}, ValidationError),
        ({"order_id": 1, "reason": "r", "on": "2026-03-09"}, ValidationError),
        ({"order_id": 1, "reason": "r", "on": day(2)}, ValidationError),
    ],
)
def test_close_order_refuses_bad_arguments(
    kwargs: dict[str, Any], error: type[InventoryError], db: Database
) -> None:
    """Bad ids, reasons, dates (or a date before the last receipt) are refused typed."""
    inv = Inventory(db, user="tester")
    partial_order(inv)
    with pytest.raises(error):
        inv.close_order(**kwargs)
    assert inv.stock("BIRRA", asof=day(9)).on_order == 28


def test_closing_twice_or_reopening_an_open_order_is_refused(any_db: Database) -> None:
    """A CLOSED order cannot close again, an open one cannot reopen: OrderNotOpenError."""
    inv = Inventory(any_db, user="tester")
    order_id = partial_order(inv)
    with pytest.raises(OrderNotOpenError) as caught:
        inv.reopen_order(order_id, reason="r")
    assert caught.value.code == "WF_014" and "PARTIAL" in caught.value.message
    inv.close_order(order_id, reason="r", on=day(4))
    with pytest.raises(OrderNotOpenError):
        inv.close_order(order_id, reason="r", on=day(5))


def test_order_closures_are_append_only(any_db: Database) -> None:
    """UPDATE and DELETE on order_closures abort with AppendOnlyViolationError."""
    inv = Inventory(any_db, user="tester")
    inv.close_order(partial_order(inv), reason="r", on=day(4))
    for statement in ("UPDATE order_closures SET qty = 1", "DELETE FROM order_closures"):
        with pytest.raises(AppendOnlyViolationError), any_db.unit_of_work() as uow:
            uow.execute(text(statement))


def test_a_closure_deleted_behind_the_library_is_caught(any_db: Database) -> None:
    """Deleting the closure row revives the remainder in on_order, and coverage catches it."""
    inv = Inventory(any_db, user="tester")
    inv.close_order(partial_order(inv), reason="r", on=day(4))
    tamper_ledger(any_db, "DELETE FROM order_closures")
    assert inv.stock("BIRRA", asof=day(9)).on_order == 28
    assert_caught(any_db, "deleted")


def test_a_status_set_to_closed_by_hand_fails_orders_consistent(any_db: Database) -> None:
    """CLOSED without a closure that counts is an orders_consistent violation."""
    inv = Inventory(any_db, user="tester")
    order_id = partial_order(inv)
    with any_db.unit_of_work() as uow:
        uow.execute(text(f"UPDATE order_logs SET status = 'CLOSED' WHERE order_id = {order_id}"))
        uow.commit()
    result = next(r for r in check_all(any_db).results if r.name == "orders_consistent")
    assert not result.ok and result.count == 1


def test_an_unknown_status_is_still_refused_after_the_migration(any_db: Database) -> None:
    """Widening the status CHECK kept it a CHECK: 'LOST' is refused, 'CLOSED' was accepted."""
    inv = Inventory(any_db, user="tester")
    order_id = partial_order(inv)
    with pytest.raises(InventoryError), any_db.unit_of_work() as uow:
        uow.execute(text(f"UPDATE order_logs SET status = 'LOST' WHERE order_id = {order_id}"))


def test_downgrading_reopens_closed_orders_and_upgrading_again_works(any_url: str) -> None:
    """Below 0006 a CLOSED order is PARTIAL again; the upgrade back accepts CLOSED."""
    db = Database.open(any_url, settings=test_settings())
    db.upgrade()
    inv = Inventory(db, user="tester")
    order_id = partial_order(inv)
    inv.close_order(order_id, reason="r", on=day(4))
    migrations.downgrade(db.engine, "0005_database_identity")
    with db.engine.connect() as conn:
        status = conn.execute(text("SELECT status FROM order_logs")).scalar_one()
    assert status == "PARTIAL"
    migrations.upgrade(db.engine)
    Inventory(db, user="tester").close_order(order_id, reason="r", on=day(4))
    db.close()


# -- property: stock() and stock_all() against the reference fold ---------------------------

ACTIONS = st.lists(
    st.tuples(
        st.sampled_from(["order", "receive_for", "receive_free", "close", "reopen", "revert"]),
        st.integers(0, 2),  # which SKU / order
        st.integers(1, 30),  # quantity
        st.integers(0, 12),  # day
    ),
    min_size=1,
    max_size=18,
)


def _oracle(db: Database, asof: date) -> dict[str, Any]:
    with db.read() as uow:
        rows = uow.execute(text("SELECT transaction_id, sku, date, event, qty FROM transactions"))
        events = [
            LedgerEvent(
                r[0],
                r[1],
                r[2] if isinstance(r[2], date) else date.fromisoformat(r[2]),
                EventType(r[3]),
                r[4],
            )
            for r in rows
        ]
        reversed_ids = [
            r[0] for r in uow.execute(text("SELECT transaction_id FROM transaction_reversals"))
        ]
        closures = [
            ClosureEvent(
                r[0], r[1], r[2] if isinstance(r[2], date) else date.fromisoformat(r[2]), r[3]
            )
            for r in uow.execute(
                text(
                    "SELECT closure_id, sku, date, qty FROM order_closures "
                    "WHERE reopens_id IS NULL AND closure_id NOT IN "
                    "(SELECT reopens_id FROM order_closures WHERE reopens_id IS NOT NULL)"
                )
            )
        ]
    return reference_fold(
        events, asof, reversed_ids=reversed_ids, skus=["A", "B", "C"], closures=closures
    )


@settings(
    max_examples=30, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(actions=ACTIONS)
def test_on_order_with_closures_matches_the_reference_fold(
    tmp_path_factory: pytest.TempPathFactory, actions: list[tuple[str, int, int, int]]
) -> None:
    """Random orders, receipts, closes, reopens and reverts: stock and stock_all equal the fold."""
    path = tmp_path_factory.mktemp("close") / "inventory.db"
    db = Database.open(f"sqlite:///{path}", settings=test_settings())
    db.upgrade()
    try:
        inv = Inventory(db, user="tester")
        codes = ["A", "B", "C"]
        for code in codes:
            inv.add_sku(code)
        orders: list[int] = []
        tids: list[int] = []
        for n, (action, which, qty, when) in enumerate(actions):
            try:
                if action == "order":
                    orders.append(inv.order(codes[which], qty, on=day(when)))
                elif action == "receive_for" and orders:
                    order_id = orders[which % len(orders)]
                    with db.read() as uow:
                        code = uow.execute(
                            text("SELECT sku FROM order_logs WHERE order_id = :o"), {"o": order_id}
                        ).scalar_one()
                    done = inv.receive(
                        f"D{n}", [ReceiptLine(code, qty, order_id=order_id)], on=day(when)
                    )
                    tids.extend(done.transaction_ids)
                elif action == "receive_free":
                    done = inv.receive(f"D{n}", [ReceiptLine(codes[which], qty)], on=day(when))
                    tids.extend(done.transaction_ids)
                elif action == "close" and orders:
                    inv.close_order(orders[which % len(orders)], reason="r", on=day(when))
                elif action == "reopen" and orders:
                    inv.reopen_order(orders[which % len(orders)], reason="r")
                elif action == "revert" and tids:
                    inv.revert(tids[which % len(tids)], reason="r")
            except InventoryError:
                pass
        for asof in (day(0), day(4), day(8), day(13)):
            expected = _oracle(db, asof)
            got = inv.stock_all(asof=asof)
            for code in codes:
                assert got[code].on_order == expected[code].on_order, (code, asof)
                assert inv.stock(code, asof=asof) == got[code]
        assert check_all(db).status.value == "HEALTHY"
    finally:
        db.close()
