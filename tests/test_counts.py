"""End-of-day counts: the day's sale derived from the shelf count, shrinkage, surplus, bulk."""

from __future__ import annotations

import json
from datetime import date, timedelta

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import text

from inventory_core import Database, Inventory, ReceiptLine
from inventory_core.errors import InsufficientStockError, NotFoundError, ValidationError
from inventory_core.invariants import check_all
from tests.db_support import test_settings


def day(n: int) -> date:
    """The n-th day of March 2026 (0 is 1 March)."""
    return date(2026, 3, 1) + timedelta(days=n)


def last_audit(db: Database) -> dict[str, object]:
    """The details of the newest audit row."""
    with db.read() as uow:
        body = uow.execute(
            text("SELECT details FROM audit_log ORDER BY audit_id DESC LIMIT 1")
        ).scalar_one()
    return dict(json.loads(body))


def test_a_lower_count_is_the_day_s_sale_with_its_sales_row(any_db: Database) -> None:
    """Expected 30, counted 22: a SALE of 8 that day, a sales row, on_hand 22 at the close."""
    inv = Inventory(any_db, user="tester")
    inv.add_sku("PANE")
    inv.snapshot("PANE", 30, on=day(0))
    done = inv.count_end_of_day("PANE", 22, on=day(1))
    assert (done.expected, done.sold, done.wasted, done.adjusted) == (30, 8, 0, 0)
    assert inv.stock("PANE", asof=day(2)).on_hand == 22
    assert [(h.event.value, h.qty, h.date) for h in inv.history("PANE")][-1] == ("SALE", 8, day(1))
    with any_db.read() as uow:
        sold = uow.execute(text("SELECT qty_sold FROM sales WHERE sku = 'PANE'")).scalar_one()
    assert sold == 8
    counts = last_audit(any_db)["counts"]
    assert counts == [
        {
            "sku": "PANE",
            "expected": 30,
            "counted": 22,
            "sold": 8,
            "wasted": 0,
            "adjusted": 0,
            "transaction_ids": list(done.transaction_ids),
        }
    ]


def test_a_higher_count_is_an_adjust_never_a_negative_sale(any_db: Database) -> None:
    """Counted above expected: a positive ADJUST of the surplus and no SALE."""
    inv = Inventory(any_db, user="tester")
    inv.add_sku("PANE")
    inv.snapshot("PANE", 10, on=day(0))
    done = inv.count_end_of_day("PANE", 13, on=day(0))
    assert (done.sold, done.adjusted) == (0, 3)
    assert [h.event.value for h in inv.history("PANE")] == ["SNAPSHOT", "ADJUST"]
    assert inv.stock("PANE", asof=day(1)).on_hand == 13


@pytest.mark.parametrize(
    ("shrinkage", "event", "qty"), [("waste", "WASTE", 2), ("adjust", "ADJUST", -2)]
)
def test_known_sales_leave_the_rest_as_the_chosen_shrinkage(
    any_db: Database, shrinkage: str, event: str, qty: int
) -> None:
    """With sold=6 of a 8-unit drop, 2 units are WASTE or a -2 ADJUST, as configured."""
    inv = Inventory(any_db, user="tester")
    inv.add_sku("PANE")
    inv.snapshot("PANE", 30, on=day(0))
    inv.count_end_of_day("PANE", 22, on=day(1), sold=6, shrinkage=shrinkage)
    tail = [(h.event.value, h.qty) for h in inv.history("PANE")][-2:]
    assert tail == [("SALE", 6), (event, qty)]
    assert inv.stock("PANE", asof=day(2)).on_hand == 22


def test_a_whole_shop_s_count_is_one_unit_with_one_audit_row(any_db: Database) -> None:
    """count_end_of_day_many writes every SKU's events and exactly one audit row."""
    inv = Inventory(any_db, user="tester")
    for code in ("A", "B", "C"):
        inv.add_sku(code)
        inv.snapshot(code, 10, on=day(0))
    with any_db.read() as uow:
        before = uow.execute(text("SELECT count(*) FROM audit_log")).scalar_one()
    results = inv.count_end_of_day_many({"A": 7, "B": 10, "C": 12}, on=day(0))
    assert [(r.sku, r.sold, r.adjusted) for r in results] == [("A", 3, 0), ("B", 0, 0), ("C", 0, 2)]
    with any_db.read() as uow:
        after = uow.execute(text("SELECT count(*) FROM audit_log")).scalar_one()
    assert after == before + 1
    assert check_all(any_db).status.value == "HEALTHY"


def test_a_refused_line_writes_nothing_for_any_sku(any_db: Database) -> None:
    """An unknown SKU or a count later events cannot afford: nothing of the count is written."""
    inv = Inventory(any_db, user="tester")
    inv.add_sku("A")
    inv.snapshot("A", 10, on=day(0))
    inv.sell("A", 9, on=day(5))
    with pytest.raises(NotFoundError):
        inv.count_end_of_day_many({"A": 5, "NOPE": 1}, on=day(1))
    with pytest.raises(InsufficientStockError):
        inv.count_end_of_day("A", 5, on=day(1))  # the day-5 sale of 9 would go negative
    assert [h.event.value for h in inv.history("A")] == ["SNAPSHOT", "SALE"]


def test_a_count_whose_difference_one_event_cannot_hold_is_refused(any_db: Database) -> None:
    """A known sale of a billion on an empty shelf counted at 1: a typed refusal, nothing
    written (the surplus ADJUST would be 1,000,000,001 units)."""
    inv = Inventory(any_db, user="tester")
    inv.add_sku("A")
    inv.snapshot("A", 0, on=day(0))
    with pytest.raises(ValidationError) as caught:
        inv.count_end_of_day("A", 1, on=day(0), sold=1_000_000_000)
    assert caught.value.context["field"] == "sold"
    assert "1000000001" in str(caught.value)
    assert [h.event.value for h in inv.history("A")] == ["SNAPSHOT"]


@pytest.mark.parametrize(
    ("call", "field"),
    [
        (lambda inv: inv.count_end_of_day("A", -1, on=day(0)), "counts[A]"),
        (lambda inv: inv.count_end_of_day("A", 1.0, on=day(0)), "counts[A]"),
        (lambda inv: inv.count_end_of_day("A", 1, on="2026-03-01"), "on"),
        (lambda inv: inv.count_end_of_day("A", 1, on=day(0), shrinkage="lost"), "shrinkage"),
        (lambda inv: inv.count_end_of_day("A", 1, on=day(0), sold=-2), "sold[A]"),
        (lambda inv: inv.count_end_of_day_many({}, on=day(0)), "counts"),
        (lambda inv: inv.count_end_of_day_many({"A": 1}, on=day(0), sold={"B": 1}), "sold[B]"),
        (
            lambda inv: inv.count_end_of_day_many({"e\u0301": 1, "\u00e9": 2}, on=day(0)),
            "counts['é']",
        ),
    ],
)
def test_bad_counts_are_refused_naming_the_field(call: object, field: str, db: Database) -> None:
    """Each bad argument is a ValidationError naming it; nothing is written."""
    inv = Inventory(db, user="tester")
    inv.add_sku("A")
    with pytest.raises(ValidationError) as caught:
        call(inv)  # type: ignore[operator]
    assert caught.value.context["field"] == field
    assert inv.history("A") == []


@settings(
    max_examples=30, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    start=st.integers(0, 50),
    sales=st.lists(st.integers(1, 10), max_size=3),
    counted=st.integers(0, 60),
    sold=st.none() | st.integers(0, 60),
    shrinkage=st.sampled_from(["waste", "adjust"]),
)
def test_counts_match_a_reference_computation(
    tmp_path_factory: pytest.TempPathFactory,
    start: int,
    sales: list[int],
    counted: int,
    sold: int | None,
    shrinkage: str,
) -> None:
    """The recorded sale, waste and adjust equal a plain computation, and end at counted."""
    path = tmp_path_factory.mktemp("count") / "inventory.db"
    db = Database.open(f"sqlite:///{path}", settings=test_settings())
    db.upgrade()
    try:
        inv = Inventory(db, user="tester")
        inv.add_sku("S")
        inv.receive("D0", [ReceiptLine("S", start + 1)], on=day(0))
        expected = start + 1
        for qty in sales:
            if qty <= expected:
                inv.sell("S", qty, on=day(1))
                expected -= qty
        gone = expected - counted
        if sold is None:
            want = (max(gone, 0), 0, max(-gone, 0))
        elif gone - sold > 0 and shrinkage == "waste":
            want = (sold, gone - sold, 0)
        else:
            want = (sold, 0, sold - gone)
        done = inv.count_end_of_day("S", counted, on=day(1), sold=sold, shrinkage=shrinkage)
        assert (done.expected, done.sold, done.wasted, done.adjusted) == (expected, *want)
        assert inv.stock("S", asof=day(2)).on_hand == counted
    finally:
        db.close()
