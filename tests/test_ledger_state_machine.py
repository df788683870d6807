"""A Hypothesis state machine drives every Inventory operation against the reference fold.

Random sequences of valid and invalid operations (backdated ones included) run on a real
database. After every step ``stock_all`` must equal :func:`reference_fold` for every SKU at
several as-of dates and the lots must never hold more than on_hand (and must match their
draws, ``lots_consistent``, at the end of each run); a receipt whose lot a standing
transaction drew from must refuse its revert; a refused operation must have changed no
row, a replayed receipt nothing at all. One database serves the
whole run: each example works on its own SKU-code prefix and compares only those SKUs.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable, Iterator
from datetime import date
from typing import Any

import pytest
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import (
    RuleBasedStateMachine,
    invariant,
    precondition,
    rule,
    run_state_machine_as_test,
)
from sqlalchemy import text

from inventory_core import Database, Inventory, ReceiptLine
from inventory_core.errors import (
    ConflictError,
    InsufficientStockError,
    InventoryError,
    LotConsumedError,
    NotFoundError,
    OverReceiptError,
    ValidationError,
)
from inventory_core.invariants import check_all
from inventory_core.ledger.fold import LedgerEvent, apply_on_hand, reference_fold
from inventory_core.models import EventType
from tests.db_support import test_settings
from tests.ledger_support import day, ledger, lots_total, row_counts, table_fingerprint

_prefixes = itertools.count()
DAYS = st.integers(min_value=0, max_value=20)
QTY = st.integers(min_value=1, max_value=25)
ASOF = (day(4), day(11), day(21), date(9999, 1, 1))


def dips_negative(events: list[LedgerEvent]) -> bool:
    """True when the fold of ``events`` in ledger order ever has negative on_hand."""
    on_hand = 0
    for ev in sorted(events, key=lambda e: e.key):
        on_hand = apply_on_hand(on_hand, ev.event, ev.qty)
        if on_hand < 0:
            return True
    return False


class LedgerMachine(RuleBasedStateMachine):
    """Random operations on one prefix of SKUs, checked after every step."""

    db: Database

    def __init__(self) -> None:
        super().__init__()
        self.prefix = f"M{next(_prefixes)}-"
        self.inv = Inventory(self.db, user="machine")
        self.skus = [f"{self.prefix}{name}" for name in ("A", "B")]
        for sku in self.skus:
            self.inv.add_sku(sku)
        self.documents: dict[str, tuple[list[ReceiptLine], date, Any]] = {}
        self.orders: list[int] = []
        self.lots: list[int] = []
        self.transactions: list[int] = []

    # -- helpers --------------------------------------------------------------------------

    def _unreversed(self, sku: str) -> list[LedgerEvent]:
        events, reversed_ids = ledger(self.db, self.prefix)
        return [e for e in events if e.sku == sku and e.transaction_id not in reversed_ids]

    def _would_dip(self, sku: str, event: EventType, qty: int, on: date) -> bool:
        events = self._unreversed(sku)
        pending = LedgerEvent(2**62, sku, on, event, qty)
        return dips_negative([*events, pending])

    def _consumers(self, receipt: int) -> list[int]:
        """Standing transactions other than ``receipt`` that drew from its lot."""
        with self.db.read() as uow:
            rows = uow.execute(
                text(
                    "SELECT DISTINCT d.transaction_id FROM lot_draws d "
                    "JOIN lots l ON l.lot_id = d.lot_id "
                    "WHERE l.transaction_id = :tid AND d.transaction_id <> :tid "
                    "AND d.reversal_id IS NULL AND d.transaction_id NOT IN "
                    "(SELECT transaction_id FROM transaction_reversals) "
                    "ORDER BY d.transaction_id"
                ),
                {"tid": receipt},
            ).scalars()
            return [int(t) for t in rows]

    def _attempt(self, call: Callable[[], Any]) -> tuple[Any, InventoryError | None]:
        counts = row_counts(self.db)
        rows = table_fingerprint(self.db, self.prefix)
        try:
            return call(), None
        except InventoryError as exc:
            assert row_counts(self.db) == counts, f"{exc!r} changed row counts"
            assert table_fingerprint(self.db, self.prefix) == rows, f"{exc!r} changed rows"
            return None, exc

    def _event(
        self, kind: EventType, sku: str, qty: int, on: date, call: Callable[[], int]
    ) -> None:
        expect_dip = kind in (
            EventType.SALE,
            EventType.WASTE,
            EventType.SNAPSHOT,
            EventType.ADJUST,
        ) and self._would_dip(sku, kind, qty, on)
        clash = kind == EventType.SNAPSHOT and any(
            e.event == EventType.SNAPSHOT and e.date == on for e in self._unreversed(sku)
        )
        tid, error = self._attempt(call)
        if clash:
            assert isinstance(error, ConflictError)
        elif expect_dip:
            assert isinstance(error, InsufficientStockError), error
        else:
            assert error is None, error
            self.transactions.append(tid)

    # -- rules ----------------------------------------------------------------------------

    @rule(i=st.integers(0, 1), qty=st.integers(0, 40), d=DAYS)
    def snapshot(self, i: int, qty: int, d: int) -> None:
        sku = self.skus[i]
        self._event(
            EventType.SNAPSHOT, sku, qty, day(d), lambda: self.inv.snapshot(sku, qty, on=day(d))
        )

    @rule(i=st.integers(0, 1), qty=QTY, d=DAYS)
    def sell(self, i: int, qty: int, d: int) -> None:
        sku = self.skus[i]
        self._event(EventType.SALE, sku, qty, day(d), lambda: self.inv.sell(sku, qty, on=day(d)))

    @rule(i=st.integers(0, 1), qty=QTY, d=DAYS)
    def waste(self, i: int, qty: int, d: int) -> None:
        sku = self.skus[i]
        self._event(EventType.WASTE, sku, qty, day(d), lambda: self.inv.waste(sku, qty, on=day(d)))

    @rule(i=st.integers(0, 1), qty=st.integers(-15, 15).filter(bool), d=DAYS)
    def adjust(self, i: int, qty: int, d: int) -> None:
        sku = self.skus[i]
        self._event(
            EventType.ADJUST, sku, qty, day(d), lambda: self.inv.adjust(sku, qty, on=day(d))
        )

    @rule(i=st.integers(0, 1), qty=QTY, d=DAYS)
    def unfulfilled(self, i: int, qty: int, d: int) -> None:
        sku = self.skus[i]
        self._event(
            EventType.UNFULFILLED,
            sku,
            qty,
            day(d),
            lambda: self.inv.unfulfilled(sku, qty, on=day(d)),
        )

    @rule(i=st.integers(0, 1), qty=QTY, d=DAYS)
    def order(self, i: int, qty: int, d: int) -> None:
        order_id, error = self._attempt(lambda: self.inv.order(self.skus[i], qty, on=day(d)))
        assert error is None, error
        self.orders.append(order_id)

    @rule(
        lines=st.lists(
            st.tuples(st.integers(0, 1), QTY, st.booleans(), st.one_of(st.none(), DAYS)),
            min_size=1,
            max_size=3,
        ),
        d=DAYS,
        data=st.data(),
    )
    def receive(
        self, lines: list[tuple[int, int, bool, int | None]], d: int, data: st.DataObject
    ) -> None:
        built = []
        for i, qty, use_order, expiry in lines:
            order_id = None
            if use_order and self.orders:
                order_id = data.draw(st.sampled_from(self.orders))
            built.append(
                ReceiptLine(
                    self.skus[i],
                    qty,
                    order_id=order_id,
                    expiry=None if expiry is None else day(30 + expiry),
                )
            )
        document = f"{self.prefix}DOC{len(self.documents)}"
        result, error = self._attempt(lambda: self.inv.receive(document, built, on=day(d)))
        if error is None:
            self.documents[document] = (built, day(d), result)
            self.transactions.extend(result.transaction_ids)
            self.lots.extend(lot for lot in result.lot_ids if lot is not None)
        else:
            assert isinstance(error, OverReceiptError | ConflictError | ValidationError), error

    @precondition(lambda self: bool(self.documents))
    @rule(data=st.data(), change=st.booleans())
    def replay_receipt(self, data: st.DataObject, change: bool) -> None:
        document = data.draw(st.sampled_from(sorted(self.documents)))
        lines, on, first = self.documents[document]
        if change:
            lines = [
                ReceiptLine(lines[0].sku, lines[0].qty + 1, lines[0].order_id, lines[0].expiry),
                *lines[1:],
            ]
        counts = row_counts(self.db)
        rows = table_fingerprint(self.db, self.prefix)
        result, error = self._attempt(lambda: self.inv.receive(document, lines, on=on))
        assert row_counts(self.db) == counts
        assert table_fingerprint(self.db, self.prefix) == rows
        if change:
            assert isinstance(error, ConflictError)
        else:
            assert error is None and result == first and result.replayed

    @precondition(lambda self: bool(self.lots))
    @rule(data=st.data(), qty=QTY, d=DAYS)
    def waste_from_lot(self, data: st.DataObject, qty: int, d: int) -> None:
        lot_id = data.draw(st.sampled_from(self.lots))
        sku = (
            next(lot.sku for s in self.skus for lot in self.inv.lots(s) if lot.lot_id == lot_id)
            if any(lot.lot_id == lot_id for s in self.skus for lot in self.inv.lots(s))
            else self.skus[0]
        )
        held = sum(lot.qty_remaining for lot in self.inv.lots(sku) if lot.lot_id == lot_id)
        dip = self._would_dip(sku, EventType.WASTE, qty, day(d))
        tid, error = self._attempt(lambda: self.inv.waste(sku, qty, on=day(d), lot_id=lot_id))
        if dip or held < qty:
            assert isinstance(error, InsufficientStockError | NotFoundError), error
        else:
            assert error is None, error
            self.transactions.append(tid)

    @precondition(lambda self: bool(self.transactions))
    @rule(data=st.data())
    def revert(self, data: st.DataObject) -> None:
        tid = data.draw(st.sampled_from(self.transactions))
        events, reversed_ids = ledger(self.db, self.prefix)
        target = next(e for e in events if e.transaction_id == tid)
        already = tid in reversed_ids
        rest = [
            e
            for e in events
            if e.sku == target.sku and e.transaction_id not in reversed_ids | {tid}
        ]
        consumers = self._consumers(tid)
        _, error = self._attempt(lambda: self.inv.revert(tid, reason="machine"))
        if already:
            assert isinstance(error, ConflictError)
        elif consumers:
            assert isinstance(error, LotConsumedError), error
            assert error.context["transaction_ids"] == consumers
        elif dips_negative(rest):
            assert isinstance(error, InsufficientStockError), error
        elif error is not None:
            assert isinstance(error, ConflictError) and target.event == EventType.ORDER, error

    @rule(
        bad=st.sampled_from(
            [
                ("sell", {"sku": "", "qty": 1}),
                ("sell", {"sku": " X", "qty": 1}),
                ("sell", {"sku": "X\x00", "qty": 1}),
                ("sell", {"sku": "A" * 65, "qty": 1}),
                ("sell", {"qty": 0}),
                ("sell", {"qty": -2}),
                ("waste", {"qty": 0}),
                ("adjust", {"qty": 0}),
                ("snapshot", {"qty": -1}),
                ("order", {"qty": 0}),
                ("unfulfilled", {"qty": -1}),
            ]
        )
    )
    def invalid_input(self, bad: tuple[str, dict[str, Any]]) -> None:
        name, values = bad
        args = {"sku": self.skus[0], "qty": 1, **values}
        _, error = self._attempt(
            lambda: getattr(self.inv, name)(args["sku"], args["qty"], on=day(1))
        )
        assert isinstance(error, ValidationError), error

    @rule(d=DAYS)
    def unknown_things(self, d: int) -> None:
        _, error = self._attempt(lambda: self.inv.sell(f"{self.prefix}NOPE", 1, on=day(d)))
        assert isinstance(error, NotFoundError)
        _, error = self._attempt(lambda: self.inv.revert(2**31 - 1, reason="none"))
        assert isinstance(error, NotFoundError)

    # -- invariants -----------------------------------------------------------------------

    @invariant()
    def stock_matches_the_fold_and_lots_stay_within_on_hand(self) -> None:
        events, reversed_ids = ledger(self.db, self.prefix)
        for asof in ASOF:
            got = {
                k: v for k, v in self.inv.stock_all(asof=asof).items() if k.startswith(self.prefix)
            }
            expected = reference_fold(events, asof, reversed_ids=reversed_ids, skus=self.skus)
            assert got == expected, asof
        for sku in self.skus:
            assert lots_total(self.db, sku) <= expected[sku].on_hand

    def teardown(self) -> None:
        """At the end of each run, every lot still matches its recorded draws."""
        lots = check_all(self.db, only=["lots_consistent"]).result("lots_consistent")
        assert lots.ok, lots.sample


def _run(db: Database, examples: int) -> None:
    machine = type("BoundLedgerMachine", (LedgerMachine,), {"db": db})
    run_state_machine_as_test(
        machine,
        settings=settings(
            max_examples=examples,
            stateful_step_count=15,
            deadline=None,
            suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much],
        ),
    )


@pytest.fixture
def shared_db(sqlite_url: str) -> Iterator[Database]:
    """One migrated SQLite database for the whole machine run."""
    database = Database.open(sqlite_url, settings=test_settings())
    database.upgrade()
    yield database
    database.close()


def test_state_machine_agrees_with_the_reference_fold_on_sqlite(shared_db: Database) -> None:
    """200 random operation sequences on SQLite keep every ledger invariant."""
    _run(shared_db, 200)


@pytest.mark.postgres
def test_state_machine_agrees_with_the_reference_fold_on_postgresql(pg_url: str) -> None:
    """The same machine on PostgreSQL keeps every ledger invariant."""
    database = Database.open(pg_url, settings=test_settings())
    database.upgrade()
    try:
        _run(database, 50)
    finally:
        database.close()
