"""The on-order pipeline by expected date and the inventory position, single and all-SKU."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from inventory_core import Database, Inventory, ReceiptLine
from inventory_core.errors import InventoryError, NotFoundError, ValidationError
from inventory_core.ledger.readmodels import PipelineDate
from inventory_core.ledger.rules import MAX_DATE
from tests.db_support import test_settings


def day(n: int) -> date:
    """The n-th day of March 2026 (0 is 1 March)."""
    return date(2026, 3, 1) + timedelta(days=n)


def shop(inv: Inventory) -> dict[str, int]:
    """BIRRA with three orders (two dated, one not), a partial receipt and a closed order."""
    inv.add_sku("BIRRA", lead_time_days=4)
    inv.add_sku("LATTE")
    inv.snapshot("BIRRA", 10, on=day(0))
    a = inv.order("BIRRA", 48, on=day(1), expected=day(5))
    b = inv.order("BIRRA", 24, on=day(2), expected=day(5))
    c = inv.order("BIRRA", 12, on=day(2))
    d = inv.order("BIRRA", 6, on=day(3), expected=day(9))
    inv.receive("DDT-1", [ReceiptLine("BIRRA", 20, order_id=a)], on=day(5))
    inv.close_order(d, reason="supplier stopped", on=day(6))
    inv.unfulfilled("BIRRA", 3, on=day(4))
    return {"a": a, "b": b, "c": c, "d": d}


def test_the_pipeline_lists_open_quantity_by_expected_date(any_db: Database) -> None:
    """Open quantity per expected date, undated apart, receipts and closures as of the date."""
    inv = Inventory(any_db, user="tester")
    shop(inv)
    before = inv.on_order_by_date("BIRRA", asof=day(5))
    assert before.dated == (PipelineDate(day(5), 72, 2), PipelineDate(day(9), 6, 1))
    assert before.undated == 12
    after = inv.on_order_by_date("BIRRA", asof=day(7))
    assert after.dated == (PipelineDate(day(5), 52, 2),)
    assert (after.undated, after.total) == (12, 64)
    assert inv.stock("BIRRA", asof=day(7)).on_order == after.total
    assert inv.on_order_by_date("BIRRA", asof=day(1)).total == 0
    assert inv.on_order_by_date("LATTE").dated == ()


def test_a_reverted_order_leaves_the_pipeline(any_db: Database) -> None:
    """A cancelled order (its ORDER reverted) is open at no date."""
    inv = Inventory(any_db, user="tester")
    ids = shop(inv)
    tid = next(h.transaction_id for h in inv.history("BIRRA") if h.qty == 24)
    inv.revert(tid, reason="wrong supplier")
    assert inv.on_order_by_date("BIRRA", asof=day(4)).dated == (
        PipelineDate(day(5), 48, 1),
        PipelineDate(day(9), 6, 1),
    )
    assert ids["b"] > 0


def test_the_position_counts_what_arrives_by_the_horizon(any_db: Database) -> None:
    """on_hand + open orders expected by the horizon (undated: order date + lead) - unfulfilled."""
    inv = Inventory(any_db, user="tester")
    shop(inv)
    p = inv.position("BIRRA", asof=day(3), horizon=day(5))
    assert (p.on_hand, p.arriving, p.unfulfilled) == (10, 72, 0)
    p = inv.position("BIRRA", asof=day(3), horizon=day(6))  # the undated one: day 2 + 4
    assert (p.arriving, p.position) == (72 + 12, 94)
    p = inv.position("BIRRA", asof=day(3), horizon=day(4))
    assert p.arriving == 0
    default = inv.position("BIRRA", asof=day(7))  # horizon: day 7 + 4 days
    assert (default.horizon, default.arriving, default.unfulfilled) == (day(11), 64, 3)
    assert default.position == 30 + 64 - 3


def test_a_horizon_past_the_last_ledger_date_is_the_last_day(any_db: Database) -> None:
    """As of the last ledger date a 4-day lead time ends on that day (not NULL): orders count."""
    inv = Inventory(any_db, user="tester")
    shop(inv)
    last = MAX_DATE
    for found in (
        inv.position("BIRRA", asof=MAX_DATE),
        inv.position_all(asof=MAX_DATE)["BIRRA"],
    ):
        assert (found.horizon, found.arriving) == (last, 28 + 24 + 12)
    assert inv.reorder_proposals(MAX_DATE) == []


def test_the_all_sku_forms_equal_the_single_ones(any_db: Database) -> None:
    """on_order_by_date_all and position_all give every SKU what the single calls give."""
    inv = Inventory(any_db, user="tester")
    shop(inv)
    for asof in (day(2), day(5), day(7), day(12)):
        pipes = inv.on_order_by_date_all(asof=asof)
        positions = inv.position_all(asof=asof)
        assert set(pipes) == set(positions) == {"BIRRA", "LATTE"}
        for code in pipes:
            assert pipes[code] == inv.on_order_by_date(code, asof=asof)
            assert positions[code] == inv.position(code, asof=asof)


def test_bad_arguments_are_refused(db: Database) -> None:
    """Unknown SKUs, non-dates and a horizon before asof are typed errors."""
    inv = Inventory(db, user="tester")
    shop(inv)
    with pytest.raises(NotFoundError):
        inv.on_order_by_date("NOPE")
    with pytest.raises(NotFoundError):
        inv.position("NOPE")
    with pytest.raises(ValidationError) as caught:
        inv.position("BIRRA", asof=day(5), horizon=day(4))
    assert caught.value.context["field"] == "horizon"
    with pytest.raises(ValidationError):
        inv.position_all(asof="2026-03-01")  # type: ignore[arg-type]


ACTIONS = st.lists(
    st.tuples(
        st.sampled_from(["order", "order_undated", "receive", "close", "revert_order"]),
        st.integers(0, 5),
        st.integers(1, 20),
        st.integers(0, 10),
    ),
    max_size=15,
)


@settings(
    max_examples=30, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(actions=ACTIONS)
@example(  # three equal orders on one day: the revert must find its own order's event
    actions=[("order", 0, 1, 0), ("order", 2, 1, 0), ("order", 0, 1, 0), ("revert_order", 1, 1, 0)]
)
def test_the_pipeline_matches_a_brute_force_over_the_orders(
    tmp_path_factory: pytest.TempPathFactory, actions: list[tuple[str, int, int, int]]
) -> None:
    """Random orders, receipts, closes, reverts: the pipeline and position equal a Python sum."""
    path = tmp_path_factory.mktemp("pipe") / "inventory.db"
    db = Database.open(f"sqlite:///{path}", settings=test_settings())
    db.upgrade()
    try:
        inv = Inventory(db, user="tester")
        inv.add_sku("A", lead_time_days=2)
        inv.add_sku("B")
        # order id -> [sku, note, order day, expected, qty, receipts [(day, qty)], closed, reverted]
        orders: dict[int, list[object]] = {}
        for n, (action, which, qty, when) in enumerate(actions):
            code = "AB"[which % 2]
            try:
                if action in ("order", "order_undated"):
                    expected = day(when + which) if action == "order" else None
                    oid = inv.order(code, qty, on=day(when), expected=expected, note=f"o{n}")
                    orders[oid] = [code, f"o{n}", day(when), expected, qty, [], None, False]
                elif action == "receive" and orders:
                    oid = sorted(orders)[which % len(orders)]
                    o = orders[oid]
                    inv.receive(f"D{n}", [ReceiptLine(str(o[0]), qty, order_id=oid)], on=day(when))
                    o[5].append((day(when), qty))  # type: ignore[attr-defined]
                elif action == "close" and orders:
                    oid = sorted(orders)[which % len(orders)]
                    inv.close_order(oid, reason="r", on=day(when))
                    orders[oid][6] = day(when)
                elif action == "revert_order" and orders:
                    oid = sorted(orders)[which % len(orders)]
                    if orders[oid][7]:
                        continue  # reverted already
                    tid = next(
                        h.transaction_id
                        for h in inv.history(str(orders[oid][0]))
                        if h.event.value == "ORDER" and h.note == orders[oid][1]
                    )
                    inv.revert(tid, reason="r")
                    orders[oid][7] = True
            except InventoryError:
                pass
        for asof in (day(1), day(4), day(8), day(16)):
            want: dict[str, dict[date | None, int]] = {"A": {}, "B": {}}
            for code_, _, placed, expected, qty, receipts, closed, reverted in orders.values():
                if reverted or placed >= asof or (closed is not None and closed < asof):
                    continue
                got_in = sum(q for d, q in receipts if d < asof)  # type: ignore[attr-defined]
                left = int(qty) - got_in  # type: ignore[call-overload]
                if left > 0:
                    bucket = want[str(code_)]
                    bucket[expected] = bucket.get(expected, 0) + left  # type: ignore[index]
            pipes = inv.on_order_by_date_all(asof=asof)
            for code in "AB":
                got = {line.expected: line.qty for line in pipes[code].dated}
                if pipes[code].undated:
                    got[None] = pipes[code].undated  # type: ignore[index]
                assert got == want[code], (code, asof)
    finally:
        db.close()
