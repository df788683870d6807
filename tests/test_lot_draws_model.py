"""Hypothesis: random receipts with expiries, decreases and reverts against a Python model.

The model below is the lot rules of DESIGN.md in plain Python, written without looking at
the library's code paths: lots are taken first-expiry-first-out (no expiry last, then in
the order they were received), each write remembers what it took from which lot, a revert
puts exactly that back and a reversal that lowers stock takes FEFO again, lots are trimmed
to on_hand after every write, and a RECEIPT whose lot a standing transaction drew from
cannot be reverted. Every operation falls on a new day, so the ledger order is the order
of the calls. After every step the lots in the database must equal the model's, a refused
operation must fail the way the model says and write nothing, and ``lots_consistent`` and
``stock_positions_match_ledger`` must pass at the end. The same histories go through
``record_many`` too.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import date
from typing import Any

import hypothesis
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import text

from inventory_core import Database, Inventory, ReceiptLine
from inventory_core.errors import (
    ConflictError,
    InsufficientStockError,
    InventoryError,
    LotConsumedError,
)
from inventory_core.invariants import check_all
from inventory_core.ledger.fold import apply_on_hand
from inventory_core.models import EventType
from tests.db_support import test_settings
from tests.ledger_support import day, row_counts

EXPIRIES = (None, date(2026, 6, 1), date(2026, 7, 1), date(2026, 8, 1))
RECEIVED = st.integers(1, 40)
QTY = st.integers(1, 15)
_skus = itertools.count()


@dataclass
class ModelLot:
    """One lot of the model, known by the index of the receipt that created it."""

    receipt: int
    expiry: date | None
    remaining: int


@dataclass
class Model:
    """One SKU's events, lots and draws, as the design describes them."""

    events: list[tuple[EventType, int]] = field(default_factory=list)
    reversed: set[int] = field(default_factory=set)
    lots: dict[int, ModelLot] = field(default_factory=dict)
    drew: dict[int, dict[int, int]] = field(default_factory=dict)

    def on_hand(self, without: int | None = None) -> tuple[int, bool]:
        """Final on_hand over the standing events, and whether it never went negative."""
        on_hand, never_negative = 0, True
        for index, (kind, qty) in enumerate(self.events):
            if index in self.reversed or index == without:
                continue
            on_hand = apply_on_hand(on_hand, kind, qty)
            never_negative = never_negative and on_hand >= 0
        return on_hand, never_negative

    def _fefo(self) -> list[ModelLot]:
        open_lots = [lot for lot in self.lots.values() if lot.remaining > 0]
        return sorted(open_lots, key=lambda x: (x.expiry is None, x.expiry or date.min, x.receipt))

    def _take(self, amount: int, into: dict[int, int]) -> None:
        for lot in self._fefo():
            if amount <= 0:
                return
            qty = min(amount, lot.remaining)
            lot.remaining -= qty
            amount -= qty
            into[lot.receipt] = into.get(lot.receipt, 0) + qty

    def _trim(self, into: dict[int, int]) -> None:
        final, _ = self.on_hand()
        self._take(sum(lot.remaining for lot in self.lots.values()) - max(final, 0), into)

    def write(
        self, kind: EventType, qty: int, expiry: date | None = None, lot: int | None = None
    ) -> type[InventoryError] | None:
        """Apply one new event (dated after every other); the error it must raise, if any."""
        before, _ = self.on_hand()
        after = apply_on_hand(before, kind, qty)
        if after < 0 or (lot is not None and self.lots[lot].remaining < qty):
            return InsufficientStockError
        index = len(self.events)
        self.events.append((kind, qty))
        taken: dict[int, int] = {}
        if expiry is not None:
            self.lots[index] = ModelLot(index, expiry, qty)
        if lot is not None:
            self.lots[lot].remaining -= qty
            taken[lot] = qty
        else:
            self._take(max(before - after, 0), taken)
        self._trim(taken)
        self.drew[index] = taken
        return None

    def revert(self, index: int) -> type[InventoryError] | None:
        """Revert event ``index``; the error it must raise, if any."""
        if index in self.reversed:
            return ConflictError
        kind, qty = self.events[index]
        own = index if index in self.lots else None
        if own is not None and any(
            other != index and other not in self.reversed and taken.get(own, 0) > 0
            for other, taken in self.drew.items()
        ):
            return LotConsumedError
        lowers = kind in (EventType.RECEIPT, EventType.SNAPSHOT) or (
            kind == EventType.ADJUST and qty > 0
        )
        before, _ = self.on_hand()
        if lowers and not self.on_hand(without=index)[1]:
            return InsufficientStockError
        self.reversed.add(index)
        back = {lot: q for lot, q in self.drew[index].items() if lot != own}
        for lot, q in back.items():
            self.lots[lot].remaining += q
        if lowers or back:
            after, _ = self.on_hand()
            consume = max(before - after, 0) if lowers else 0
            if own is not None and self.lots[own].remaining > 0:
                consume = max(0, consume - self.lots[own].remaining)
                self.lots[own].remaining = 0
            self._take(consume, {})
            self._trim({})
        return None

    def remaining(self, tids: dict[int, int]) -> dict[int, int]:
        """What each lot holds, keyed by its receipt's transaction id."""
        return {tids[lot.receipt]: lot.remaining for lot in self.lots.values()}


# An operation: ("receive", qty, expiry), ("sell", qty), ("waste", qty, lot pick or None),
# ("adjust", qty), ("snapshot", qty), ("revert", pick, among receipts only).
OPERATIONS = st.one_of(
    st.tuples(st.just("receive"), RECEIVED, st.sampled_from(EXPIRIES)),
    st.tuples(st.just("receive"), RECEIVED, st.sampled_from(EXPIRIES[1:])),
    st.tuples(st.just("sell"), QTY),
    st.tuples(st.just("waste"), QTY, st.one_of(st.none(), st.integers(0, 50))),
    st.tuples(st.just("adjust"), st.integers(-20, 20).filter(bool)),
    st.tuples(st.just("sell"), QTY),
    st.tuples(st.just("snapshot"), st.integers(0, 60)),
    st.tuples(st.just("revert"), st.integers(0, 1000), st.booleans()),
    st.tuples(st.just("revert"), st.integers(0, 1000), st.booleans()),
    st.tuples(st.just("revert"), st.integers(0, 1000), st.booleans()),
)
HISTORIES = st.lists(OPERATIONS, min_size=1, max_size=30)


def database_lots(db: Database, sku: str) -> dict[int, int]:
    """What each lot of ``sku`` holds, keyed by its receipt's transaction id."""
    with db.read() as uow:
        rows = uow.execute(
            text("SELECT transaction_id, qty_remaining FROM lots WHERE sku = :s"), {"s": sku}
        ).all()
    return {int(tid): int(qty) for tid, qty in rows}


@dataclass
class Run:
    """One history played through single writes on a fresh SKU of a shared database."""

    inv: Inventory
    sku: str
    model: Model = field(default_factory=Model)
    tids: dict[int, int] = field(default_factory=dict)
    lot_ids: dict[int, int] = field(default_factory=dict)

    def attempt(self, expected: type[InventoryError] | None, call: Callable[[], Any]) -> Any:
        """Run ``call``; it must raise ``expected`` and write nothing, or succeed."""
        hypothesis.event(expected.__name__ if expected else "accepted")
        counts = row_counts(self.inv.db)
        try:
            value = call()
        except InventoryError as exc:
            assert expected is not None and isinstance(exc, expected), exc
            assert row_counts(self.inv.db) == counts
            return None
        assert expected is None, f"expected {expected.__name__}"
        return value

    def step(self, number: int, op: tuple[Any, ...]) -> None:
        on, index = day(number), len(self.model.events)
        inv, sku, kind = self.inv, self.sku, op[0]
        if kind == "revert":
            events = self.model.events
            candidates = [
                i for i in sorted(self.tids) if not op[2] or events[i][0] == EventType.RECEIPT
            ]
            if not candidates:
                return
            picked = candidates[op[1] % len(candidates)]
            expected = self.model.revert(picked)
            outcome = expected.__name__ if expected else "accepted"
            hypothesis.event(f"revert {self.model.events[picked][0].value}: {outcome}")
            self.attempt(expected, lambda: inv.revert(self.tids[picked], reason="model"))
            return
        if kind == "receive":
            expected = self.model.write(EventType.RECEIPT, op[1], expiry=op[2])
            line = ReceiptLine(sku, op[1], expiry=op[2])
            result = self.attempt(expected, lambda: inv.receive(f"{sku}-{number}", [line], on=on))
            tid = result.transaction_ids[0]
            if result.lot_ids[0] is not None:
                self.lot_ids[index] = result.lot_ids[0]
        elif kind == "waste" and op[2] is not None and self.lot_ids:
            lot = sorted(self.lot_ids)[op[2] % len(self.lot_ids)]
            expected = self.model.write(EventType.WASTE, op[1], lot=lot)
            lot_id = self.lot_ids[lot]
            tid = self.attempt(expected, lambda: inv.waste(sku, op[1], on=on, lot_id=lot_id))
        else:
            event, call = {
                "sell": (EventType.SALE, inv.sell),
                "waste": (EventType.WASTE, inv.waste),
                "adjust": (EventType.ADJUST, inv.adjust),
                "snapshot": (EventType.SNAPSHOT, inv.snapshot),
            }[kind]
            expected = self.model.write(event, op[1])
            tid = self.attempt(expected, lambda: call(sku, op[1], on=on))
        if expected is None:
            self.tids[index] = tid

    def check(self) -> None:
        assert database_lots(self.inv.db, self.sku) == self.model.remaining(self.tids)


def _cache_and_lots_consistent(db: Database) -> None:
    """lots_consistent and stock_positions_match_ledger pass on the whole database."""
    report = check_all(db, only=["lots_consistent", "stock_positions_match_ledger"])
    assert all(result.ok for result in report.results), report.to_json()


def _play(db: Database, history: list[tuple[Any, ...]]) -> None:
    run = Run(Inventory(db, user="model"), f"M{next(_skus)}")
    run.inv.add_sku(run.sku)
    for number, op in enumerate(history):
        run.step(number, op)
        run.check()
    _cache_and_lots_consistent(db)


def _play_bulk(db: Database, history: list[tuple[Any, ...]]) -> None:
    """The writes that the model accepts, in one record_many call, then the reverts."""
    sku = f"B{next(_skus)}"
    inv = Inventory(db, user="model")
    inv.add_sku(sku)
    model = Model()
    rows: list[dict[str, Any]] = []
    for number, op in enumerate(history):
        event = {
            "receive": EventType.RECEIPT,
            "sell": EventType.SALE,
            "waste": EventType.WASTE,
            "adjust": EventType.ADJUST,
            "snapshot": EventType.SNAPSHOT,
        }.get(op[0])
        if event is None:
            continue
        expiry = op[2] if op[0] == "receive" else None
        if model.write(event, op[1], expiry=expiry) is None:
            rows.append({"sku": sku, "event": event, "qty": op[1], "date": day(number)})
            if expiry is not None:
                rows[-1].update(expiry=expiry, document_id=f"{sku}-{number}")
    if not rows:
        return
    inv.record_many(rows)
    tids = dict(enumerate(e.transaction_id for e in inv.history(sku)))
    assert database_lots(db, sku) == model.remaining(tids)
    run = Run(inv, sku, model, tids)
    for op in history:
        if op[0] == "revert":
            run.step(len(history), op)
            run.check()
    _cache_and_lots_consistent(db)


@pytest.fixture
def shared_db(sqlite_url: str) -> Iterator[Database]:
    """One migrated SQLite database for a whole Hypothesis run (one SKU per example)."""
    database = Database.open(sqlite_url, settings=test_settings())
    database.upgrade()
    yield database
    database.close()


def _explore(db: Database, play: Callable[[Database, Any], None], examples: int) -> None:
    @settings(
        max_examples=examples,
        deadline=None,
        database=None,
        suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
    )
    @given(history=HISTORIES)
    def explore(history: list[tuple[Any, ...]]) -> None:
        play(db, history)

    explore()


@pytest.mark.parametrize("examples", [60, pytest.param(500, marks=pytest.mark.slow)])
def test_lots_follow_the_model_through_single_writes(shared_db: Database, examples: int) -> None:
    """Random receipts, decreases and reverts leave every lot where the Python model says."""
    _explore(shared_db, _play, examples)


@pytest.mark.parametrize("examples", [40, pytest.param(300, marks=pytest.mark.slow)])
def test_lots_follow_the_model_through_the_bulk_path(shared_db: Database, examples: int) -> None:
    """The same histories through record_many, then their reverts, agree with the model."""
    _explore(shared_db, _play_bulk, examples)


@pytest.mark.postgres
def test_lots_follow_the_model_on_postgresql(pg_url: str) -> None:
    """Single writes and the bulk path agree with the model on PostgreSQL too."""
    database = Database.open(pg_url, settings=test_settings())
    database.upgrade()
    try:
        _explore(database, _play, 15)
        _explore(database, _play_bulk, 10)
    finally:
        database.close()
