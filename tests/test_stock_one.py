"""stock(sku) in one statement: exact against the fold, through the ledger indices."""

from __future__ import annotations

import random
from itertools import accumulate

from hypothesis import given
from hypothesis import strategies as st
from sqlalchemy import text

from inventory_core import Database, Inventory
from inventory_core.ledger.fold import apply_on_order
from inventory_core.ledger.stock_one import on_order_of, stock_one_sqlite
from inventory_core.models import EventType
from tests.ledger_support import day, oracle, revert_every


@given(st.lists(st.integers(min_value=-50, max_value=50).filter(bool), max_size=60))
def test_on_order_of_the_steps_is_the_clamped_walk(steps: list[int]) -> None:
    """The running-minimum identity gives what ORDER adds and RECEIPT clamps, step by step."""
    walked = 0
    for step in steps:
        kind = EventType.ORDER if step > 0 else EventType.RECEIPT
        walked = apply_on_order(walked, kind, abs(step))
    assert on_order_of(",".join(map(str, steps)) or None) == walked
    assert walked == (list(accumulate(steps, initial=0))[-1] - min(accumulate(steps, initial=0)))


def _flows_ledger(inv: Inventory, skus: list[str], seed: int) -> None:
    """Many same-day ORDERs and RECEIPTs in both orders of id, counts, demand and reversals."""
    rng = random.Random(seed)
    events: list[dict[str, object]] = []
    counted: set[tuple[str, int]] = set()
    for sku in skus:
        inv.add_sku(sku)
    for sku in skus[1:]:
        events.append({"sku": sku, "event": "SNAPSHOT", "qty": 500, "date": day(0)})
        counted.add((sku, 0))
    for _ in range(400):
        sku, when = rng.choice(skus), rng.randint(0, 12)
        kind = rng.choice(["ORDER", "RECEIPT", "RECEIPT", "UNFULFILLED", "ADJUST", "SNAPSHOT"])
        if kind == "SNAPSHOT":
            if (sku, when) in counted:
                continue
            counted.add((sku, when))
        qty = rng.randint(400, 600) if kind == "SNAPSHOT" else rng.randint(1, 9)
        events.append({"sku": sku, "event": kind, "qty": qty, "date": day(when)})
    inv.record_many(events)


def test_stock_of_one_sku_agrees_with_the_fold(any_db: Database) -> None:
    """Same-day flows in any id order, reversals and as-of dates give the fold's answer."""
    inv = Inventory(any_db, user="tester")
    skus = ["A", "B", "C"]
    _flows_ledger(inv, skus, seed=11)
    revert_every(inv, "'ORDER', 'RECEIPT'", 9)
    for asof in (day(0), day(1), day(4), day(7), day(13)):
        expected = oracle(any_db, asof, skus)
        for sku in skus:
            assert inv.stock(sku, asof=asof) == expected[sku], (sku, asof)


def test_a_receipt_before_an_order_on_the_same_day_clamps_first(db: Database) -> None:
    """The steps are folded by id within a day, not by event name as the index stores them."""
    inv = Inventory(db, user="tester")
    inv.add_sku("BIRRA")
    inv.record_many(
        [
            {"sku": "BIRRA", "event": "RECEIPT", "qty": 7, "date": day(1)},
            {"sku": "BIRRA", "event": "ORDER", "qty": 5, "date": day(1)},
            {"sku": "BIRRA", "event": "ORDER", "qty": 3, "date": day(2)},
            {"sku": "BIRRA", "event": "RECEIPT", "qty": 2, "date": day(2)},
        ]
    )
    assert inv.stock("BIRRA", asof=day(2)).on_order == 5
    assert inv.stock("BIRRA", asof=day(3)).on_order == 6


def test_the_single_sku_plan_reads_the_ledger_through_its_indices(db: Database) -> None:
    """EXPLAIN QUERY PLAN at 1,000 events: counts, later events and flows each by index."""
    inv = Inventory(db, user="tester")
    inv.add_sku("BIRRA")
    rng = random.Random(5)
    kinds = ["SALE"] * 12 + ["ORDER", "ORDER", "RECEIPT", "RECEIPT", "UNFULFILLED", "ADJUST"]
    events: list[dict[str, object]] = [
        {"sku": "BIRRA", "event": "SNAPSHOT", "qty": 100_000, "date": day(0)}
    ]
    for n in range(999):
        events.append(
            {
                "sku": "BIRRA",
                "event": rng.choice(kinds),
                "qty": rng.randint(1, 9),
                "date": day(1 + n // 3),
            }
        )
    inv.record_many(events)
    with db.unit_of_work() as uow:
        uow.execute(text("ANALYZE"))
        uow.commit()
    compiled = stock_one_sqlite().compiled(db.engine.dialect)
    params = tuple(compiled.parameters({"sku": "BIRRA", "asof": day(400)}))
    with db.read() as uow:
        explained = uow.connection.exec_driver_sql("EXPLAIN QUERY PLAN " + compiled.sql, params)
        plan = [str(r[3]) for r in explained]
    reads = [line for line in plan if line.startswith(("SEARCH", "SCAN")) and "skus" not in line]
    assert any("transactions USING COVERING INDEX ix_transactions_flows" in x for x in reads), plan
    assert any("snap USING INDEX ix_transactions_snapshots (sku=? AND date<?)" in x for x in reads)
    assert any("ev USING COVERING INDEX ix_transactions_sku_date" in x for x in reads), plan
    assert all(
        "INDEX ix_transaction" in line or "INDEX ix_order_closures_sku_date" in line
        for line in reads
        if "flow_rows" not in line
    ), plan
