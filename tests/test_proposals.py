"""Reorder proposals against a brute-force computation, and order_many placing them."""

from __future__ import annotations

import json
from datetime import date, timedelta

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import text

from inventory_core import Database, Inventory, ReceiptLine
from inventory_core.errors import NotFoundError, ValidationError
from inventory_core.invariants import check_all
from tests.db_support import test_settings


def day(n: int) -> date:
    """The n-th day of March 2026 (0 is 1 March)."""
    return date(2026, 3, 1) + timedelta(days=n)


def test_a_sku_at_its_reorder_point_gets_a_packed_proposal(any_db: Database) -> None:
    """Position 10 <= reorder point 12: up to max 60 is 50, packed by 24 to 72, with numbers."""
    inv = Inventory(any_db, user="tester")
    inv.add_sku("BIRRA", pack_size=24, moq=24, lead_time_days=3, reorder_point=12, max_stock=60)
    inv.add_sku("ACQUA", reorder_point=5, safety_stock=10, moq=30)
    inv.add_sku("SENZA")  # no reorder point: never proposed
    inv.add_sku("SPENTO", reorder_point=100, active=False)
    inv.snapshot("BIRRA", 10, on=day(0))
    inv.snapshot("ACQUA", 5, on=day(0))
    found = {p.sku: p for p in inv.reorder_proposals(asof=day(1))}
    assert set(found) == {"BIRRA", "ACQUA"}
    birra = found["BIRRA"]
    assert (birra.position, birra.target, birra.qty, birra.horizon) == (10, 60, 72, day(4))
    assert (found["ACQUA"].target, found["ACQUA"].qty) == (15, 30)  # 10 needed, MOQ 30


def test_orders_arriving_within_the_lead_time_count_in_the_position(any_db: Database) -> None:
    """An open order expected within the lead time lifts the position above the point."""
    inv = Inventory(any_db, user="tester")
    inv.add_sku("BIRRA", lead_time_days=3, reorder_point=12, max_stock=60)
    inv.snapshot("BIRRA", 10, on=day(0))
    inv.order("BIRRA", 20, on=day(0), expected=day(10))
    assert [p.sku for p in inv.reorder_proposals(asof=day(1))] == ["BIRRA"]  # too late
    inv.order("BIRRA", 20, on=day(0), expected=day(2))
    assert inv.reorder_proposals(asof=day(1)) == []


def test_order_many_places_the_proposals_in_one_unit_with_one_audit_row(
    any_db: Database,
) -> None:
    """order_many writes every proposal as an order expected after its lead time."""
    inv = Inventory(any_db, user="tester")
    inv.add_sku("A", lead_time_days=2, reorder_point=5, max_stock=20)
    inv.add_sku("B", reorder_point=5, max_stock=20)
    with any_db.read() as uow:
        before = uow.execute(text("SELECT count(*) FROM audit_log")).scalar_one()
    ids = inv.order_many(inv.reorder_proposals(asof=day(1)), on=day(1))
    assert len(ids) == 2
    with any_db.read() as uow:
        after = uow.execute(text("SELECT count(*) FROM audit_log")).scalar_one()
        rows = uow.execute(
            text("SELECT sku, qty_ordered, expected_date FROM order_logs ORDER BY sku")
        ).all()
        details = uow.execute(
            text("SELECT details FROM audit_log ORDER BY audit_id DESC LIMIT 1")
        ).scalar_one()
    assert after == before + 1
    assert [(r[0], r[1], str(r[2]) if r[2] else None) for r in rows] == [
        ("A", 20, "2026-03-04"),
        ("B", 20, None),
    ]
    assert len(json.loads(details)["orders"]) == 2
    assert inv.reorder_proposals(asof=day(2)) == []
    assert check_all(any_db).status.value == "HEALTHY"


def test_order_many_refuses_bad_items_and_writes_nothing(db: Database) -> None:
    """An unknown SKU or a bad pair: nothing is ordered."""
    inv = Inventory(db, user="tester")
    inv.add_sku("A")
    with pytest.raises(NotFoundError):
        inv.order_many([("A", 5), ("NOPE", 5)], on=day(1))
    for bad in ([], [("A", 0)], [("A",)], "A", [("A", 5, 6)]):
        with pytest.raises(ValidationError):
            inv.order_many(bad, on=day(1))  # type: ignore[arg-type]
    assert inv.on_order_by_date("A").total == 0


SHOPS = st.lists(
    st.tuples(
        st.integers(0, 60),  # counted stock
        st.none() | st.integers(0, 40),  # reorder point
        st.none() | st.integers(0, 30),  # safety stock
        st.none() | st.integers(0, 30),  # extra above the reorder point for max stock
        st.integers(1, 12),  # pack size
        st.integers(0, 50),  # moq
        st.integers(0, 6),  # lead time
        st.lists(st.tuples(st.integers(1, 30), st.none() | st.integers(1, 9)), max_size=2),
        st.booleans(),  # active
    ),
    min_size=1,
    max_size=6,
)


@settings(
    max_examples=30, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(shop=SHOPS, unfulfilled=st.integers(0, 5))
def test_proposals_match_a_brute_force_on_random_shops(
    tmp_path_factory: pytest.TempPathFactory,
    shop: list[tuple],
    unfulfilled: int,  # type: ignore[type-arg]
) -> None:
    """Every SKU's proposal (or none) equals the rule computed in Python."""
    path = tmp_path_factory.mktemp("prop") / "inventory.db"
    db = Database.open(f"sqlite:///{path}", settings=test_settings())
    db.upgrade()
    asof = day(3)
    try:
        inv = Inventory(db, user="tester")
        want: dict[str, int] = {}
        for n, (stock, point, safety, extra, pack, moq, lead, orders, active) in enumerate(shop):
            code = f"S{n}"
            inv.add_sku(
                code,
                pack_size=pack,
                moq=moq,
                lead_time_days=lead,
                reorder_point=point,
                safety_stock=safety,
                max_stock=None if point is None or extra is None else point + extra,
                active=active,
            )
            inv.snapshot(code, stock, on=day(0))
            arriving = 0
            for qty, due in orders:
                inv.order(code, qty, on=day(1), expected=None if due is None else day(due))
                arrives = day(1) + timedelta(days=lead) if due is None else day(due)
                arriving += qty if arrives <= asof + timedelta(days=lead) else 0
            if n == 0 and unfulfilled:
                inv.unfulfilled(code, unfulfilled, on=day(1))
            position = stock + arriving - (unfulfilled if n == 0 else 0)
            if not active or point is None or position > point:
                continue
            target = point + extra if extra is not None else point + (safety or 0)
            need = target - position
            if need <= 0:
                continue
            packed = -(-need // pack) * pack
            want[code] = max(packed, moq)
        got = {p.sku: p.qty for p in inv.reorder_proposals(asof=asof)}
        assert got == want
    finally:
        db.close()


def test_a_receipt_lowers_what_is_proposed(any_db: Database) -> None:
    """Received goods raise on_hand and so the position: the proposal shrinks to nothing."""
    inv = Inventory(any_db, user="tester")
    inv.add_sku("A", reorder_point=10, max_stock=30)
    assert [p.qty for p in inv.reorder_proposals(asof=day(1))] == [30]
    inv.receive("D1", [ReceiptLine("A", 25)], on=day(0))
    assert inv.reorder_proposals(asof=day(1)) == []
