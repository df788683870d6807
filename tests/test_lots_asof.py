"""Lots as of a date (replayed from the recorded draws) and the expiring-soon report."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from inventory_core import Database, Inventory, ReceiptLine
from inventory_core.errors import InventoryError, NotFoundError, ValidationError
from tests.db_support import test_settings


def day(n: int) -> date:
    """The n-th day of March 2026 (0 is 1 March)."""
    return date(2026, 3, 1) + timedelta(days=n)


def held(inv: Inventory, sku: str, asof: date | None = None) -> list[tuple[date | None, int]]:
    """(expiry, remaining) of the SKU's lots as of ``asof``."""
    return [(lot.expiry_date, lot.qty_remaining) for lot in inv.lots(sku, asof=asof)]


def shop(inv: Inventory) -> dict[str, int]:
    """LATTE: two lots on day 1, a sale on day 3, waste from the later lot on day 5."""
    inv.add_sku("LATTE")
    inv.add_sku("PANE")
    done = inv.receive(
        "DDT-1",
        [ReceiptLine("LATTE", 10, expiry=day(8)), ReceiptLine("LATTE", 6, expiry=day(12))],
        on=day(1),
    )
    sale = inv.sell("LATTE", 4, on=day(3))
    later = done.lot_ids[1]
    assert later is not None
    waste = inv.waste("LATTE", 2, on=day(5), lot_id=later)
    return {"sale": sale, "waste": waste, "receipt": done.transaction_ids[0]}


def test_lots_as_of_each_day_show_the_fefo_draws_of_that_day(any_db: Database) -> None:
    """Before the sale both lots are full; after it the first-expiring one lost 4; then waste."""
    inv = Inventory(any_db, user="tester")
    shop(inv)
    assert held(inv, "LATTE", day(1)) == []
    assert held(inv, "LATTE", day(2)) == [(day(8), 10), (day(12), 6)]
    assert held(inv, "LATTE", day(4)) == [(day(8), 6), (day(12), 6)]
    assert held(inv, "LATTE", day(6)) == [(day(8), 6), (day(12), 4)]
    assert inv.lots("LATTE", asof=day(30)) == inv.lots("LATTE")


def test_reverted_rows_no_longer_count_at_any_date(any_db: Database) -> None:
    """A reverted sale gives its units back at every date; a reverted receipt leaves no lot."""
    inv = Inventory(any_db, user="tester")
    ids = shop(inv)
    inv.revert(ids["sale"], reason="till error")
    assert held(inv, "LATTE", day(4)) == [(day(8), 10), (day(12), 6)]
    inv.revert(ids["waste"], reason="found it")
    inv.revert(ids["receipt"], reason="wrong delivery")
    assert held(inv, "LATTE", day(9)) == [(day(12), 6)]
    assert inv.lots("LATTE", asof=day(30)) == inv.lots("LATTE")


def test_expiring_lists_every_sku_s_lots_expiring_within_the_window(any_db: Database) -> None:
    """expiring(within_days, asof) lists lots as of asof expiring by asof + within_days."""
    inv = Inventory(any_db, user="tester")
    shop(inv)
    inv.receive("DDT-2", [ReceiptLine("PANE", 5, expiry=day(7))], on=day(2))
    soon = inv.expiring(3, asof=day(5))
    assert [(lot.sku, lot.expiry_date, lot.qty_remaining) for lot in soon] == [
        ("PANE", day(7), 5),
        ("LATTE", day(8), 6),
    ]
    late = inv.expiring(0, asof=day(10))  # expired on the shelf by then
    assert [(lot.sku, lot.expiry_date) for lot in late] == [("PANE", day(7)), ("LATTE", day(8))]
    assert inv.expiring(30, asof=day(1)) == []


def test_bad_arguments_are_refused(db: Database) -> None:
    """An unknown SKU, a non-date, a negative or non-int window are typed errors."""
    inv = Inventory(db, user="tester")
    shop(inv)
    with pytest.raises(NotFoundError):
        inv.lots("NOPE", asof=day(3))
    for bad in (-1, 1.5, True, "3", 36_501):
        with pytest.raises(ValidationError) as caught:
            inv.expiring(bad)  # type: ignore[arg-type]
        assert caught.value.context["field"] == "within_days"
    with pytest.raises(ValidationError):
        inv.lots("LATTE", asof="2026-03-01")  # type: ignore[arg-type]


OPS = st.lists(
    st.tuples(
        st.sampled_from(["receive", "receive_plain", "sell", "waste", "count", "adjust"]),
        st.integers(1, 12),
        st.integers(1, 20),
    ),
    min_size=1,
    max_size=14,
)


def _replay(ops: list[tuple[int, str, int, int]], until: int) -> list[tuple[date | None, int]]:
    """A FEFO replay of the accepted operations dated before ``until``: the oracle."""
    on_hand = 0
    lots: list[list[object]] = []  # [expiry, lot number, remaining]

    def take(qty: int) -> None:
        for lot in sorted(lots, key=lambda x: (x[0], x[1])):  # type: ignore[arg-type,return-value]
            bite = min(qty, int(lot[2]))  # type: ignore[call-overload]
            lot[2] = int(lot[2]) - bite  # type: ignore[call-overload]
            qty -= bite

    for when, op, qty, number in ops:
        if when >= until:
            break
        if op == "receive":
            on_hand += qty
            lots.append([day(20 + qty % 5), number, qty])
        elif op == "receive_plain":
            on_hand += qty
        elif op in ("sell", "waste"):
            on_hand -= qty
            take(qty)
        elif op == "count":
            if qty < on_hand:
                take(on_hand - qty)
            on_hand = qty
        elif op == "adjust":
            on_hand -= qty
            take(qty)
        excess = sum(int(lot[2]) for lot in lots) - on_hand  # type: ignore[call-overload]
        if excess > 0:
            take(excess)
    return sorted(
        ((lot[0], int(lot[2])) for lot in lots if int(lot[2]) > 0),  # type: ignore[misc,call-overload]
        key=lambda x: (x[0], 0),  # type: ignore[arg-type,return-value]
    )


@settings(
    max_examples=30, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(ops=OPS)
def test_lots_as_of_match_a_fefo_replay(
    tmp_path_factory: pytest.TempPathFactory, ops: list[tuple[str, int, int]]
) -> None:
    """One write a day: lots as of every day equal a plain FEFO replay of the days before."""
    path = tmp_path_factory.mktemp("lots") / "inventory.db"
    db = Database.open(f"sqlite:///{path}", settings=test_settings())
    db.upgrade()
    try:
        inv = Inventory(db, user="tester")
        inv.add_sku("S")
        accepted: list[tuple[int, str, int, int]] = []
        for n, (op, _unused, qty) in enumerate(ops):
            when = day(n)
            try:
                if op == "receive":
                    inv.receive(f"D{n}", [ReceiptLine("S", qty, expiry=day(20 + qty % 5))], on=when)
                elif op == "receive_plain":
                    inv.receive(f"D{n}", [ReceiptLine("S", qty)], on=when)
                elif op == "sell":
                    inv.sell("S", qty, on=when)
                elif op == "waste":
                    inv.waste("S", qty, on=when)
                elif op == "count":
                    inv.snapshot("S", qty, on=when)
                elif op == "adjust":
                    inv.adjust("S", -qty, on=when)
            except InventoryError:
                continue
            accepted.append((n, op, qty, n))
        for until in range(len(ops) + 2):
            want = _replay(accepted, until)
            got = sorted(held(inv, "S", day(until)), key=lambda x: (x[0], 0))  # type: ignore[arg-type,return-value]
            assert got == want, until
    finally:
        db.close()
