"""Set-based as-of stock: the plan uses the ledger indices and agrees with the fold."""

from __future__ import annotations

import random

from sqlalchemy import text

from inventory_core import Database, Inventory
from inventory_core.ledger.fold import LedgerEvent, reference_fold
from inventory_core.ledger.stock import stock_statement
from inventory_core.models import EventType
from tests.ledger_support import day, oracle, revert_every


def test_reference_fold_follows_the_semantics_table() -> None:
    """The oracle folds counts, clamps on_order and skips reversed and later events."""
    events = [
        LedgerEvent(1, "A", day(0), EventType.ORDER, 5),
        LedgerEvent(2, "A", day(1), EventType.RECEIPT, 8),
        LedgerEvent(3, "A", day(1), EventType.SALE, 3),
        LedgerEvent(4, "A", day(1), EventType.SNAPSHOT, 10),
        LedgerEvent(5, "A", day(2), EventType.UNFULFILLED, 4),
        LedgerEvent(6, "A", day(2), EventType.ADJUST, -2),
        LedgerEvent(7, "A", day(9), EventType.WASTE, 1),
    ]
    got = reference_fold(events, day(3), reversed_ids={6})["A"]
    assert (got.on_hand, got.on_order, got.unfulfilled) == (15, 0, 4)


def test_the_plan_jumps_through_the_ledger_indices(db: Database) -> None:
    """EXPLAIN QUERY PLAN of stock_all reads the ledger only through its indices."""
    stmt = stock_statement(False).params(asof=day(30))
    sql = str(
        stmt.compile(db.engine, compile_kwargs={"literal_binds": True, "render_postcompile": True})
    )
    with db.read() as uow:
        plan = [str(r[3]) for r in uow.execute(text("EXPLAIN QUERY PLAN " + sql))]
    ledger_reads = [
        line for line in plan if " transactions" in line or " snap " in line or " ev " in line
    ]
    assert any("ix_transactions_flows" in line for line in ledger_reads)
    assert any(
        line.startswith("SEARCH ev USING COVERING INDEX ix_transactions_sku_date")
        for line in ledger_reads
    )
    assert all("INDEX ix_transactions_" in line for line in ledger_reads), plan
    assert sum("(sku=? AND date<?)" in line for line in ledger_reads) == 2, plan
    # The handle that ran the migration plans with the statistics it seeded.
    counts = [line for line in ledger_reads if line.startswith("SEARCH snap")]
    assert counts and all("ix_transactions_snapshots" in line for line in counts), plan


def test_stock_all_agrees_with_the_fold_on_random_ledgers(any_db: Database) -> None:
    """A random ledger with reversals gives the fold's answer for every SKU at every date."""
    inv = Inventory(any_db, user="tester")
    rng = random.Random(3)
    skus = [f"S{i}" for i in range(6)]
    events = []
    for sku in skus:
        inv.add_sku(sku)
        events.append({"sku": sku, "event": "SNAPSHOT", "qty": 100, "date": day(0)})
    kinds = ["ORDER", "RECEIPT", "SALE", "WASTE", "ADJUST", "UNFULFILLED", "SNAPSHOT"]
    used: set[tuple[str, int]] = set()
    for _ in range(300):
        sku, kind, when = rng.choice(skus), rng.choice(kinds), rng.randint(1, 40)
        if kind == "SNAPSHOT":
            if (sku, when) in used:
                continue
            used.add((sku, when))
        qty = rng.randint(200, 250) if kind == "SNAPSHOT" else rng.randint(1, 4)
        events.append({"sku": sku, "event": kind, "qty": qty, "date": day(when)})
    inv.record_many(events)
    revert_every(inv, "'SALE'", 7)
    for asof in (day(0), day(1), day(5), day(17), day(30), day(41)):
        assert inv.stock_all(asof=asof) == oracle(any_db, asof, skus)
        assert inv.stock("S2", asof=asof) == oracle(any_db, asof, skus)["S2"]
