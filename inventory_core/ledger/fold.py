"""The reference fold: the ledger semantics in a few lines of plain Python.

It is deliberately naive (it walks every event in ledger order) so that it can be read
against the table in DESIGN.md line by line. The tests use it as the oracle that the
set-based SQL of :mod:`inventory_core.ledger.stock` must agree with; the negative-stock
check reuses :func:`apply_on_hand` for the few events it folds.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date

from inventory_core.ledger.readmodels import Stock
from inventory_core.models import EVENT_PRIORITY, EventType


@dataclass(frozen=True, slots=True)
class LedgerEvent:
    """One ledger row as the fold sees it."""

    transaction_id: int
    sku: str
    date: dt.date
    event: EventType
    qty: int

    @property
    def key(self) -> tuple[dt.date, int, int]:
        """The ledger order: ``(date, priority, transaction_id)``."""
        return (self.date, EVENT_PRIORITY[self.event], self.transaction_id)


@dataclass(frozen=True, slots=True)
class ClosureEvent:
    """An order closed short as the fold sees it: ``qty`` leaves on_order on ``date``.

    Only closures that count (no reopening names them) are given to the fold.
    """

    closure_id: int
    sku: str
    date: dt.date
    qty: int


def _ledger_order(ev: LedgerEvent | ClosureEvent) -> tuple[dt.date, int, int, int]:
    """Ledger order with the closures after the day's orders and receipts (priority 1)."""
    if isinstance(ev, ClosureEvent):
        return (ev.date, 1, 1, ev.closure_id)
    return (ev.date, EVENT_PRIORITY[ev.event], 0, ev.transaction_id)


def apply_on_hand(on_hand: int, event: EventType, qty: int) -> int:
    """on_hand after one event (the ``effect`` column of the semantics table)."""
    if event == EventType.SNAPSHOT:
        return qty
    if event in (EventType.RECEIPT, EventType.ADJUST):
        return on_hand + qty
    if event in (EventType.SALE, EventType.WASTE):
        return on_hand - qty
    return on_hand


def apply_on_order(on_order: int, event: EventType, qty: int) -> int:
    """on_order after one event: ORDER adds, RECEIPT subtracts but never below zero."""
    if event == EventType.ORDER:
        return on_order + qty
    if event == EventType.RECEIPT:
        return max(0, on_order - qty)
    return on_order


def reference_fold(
    events: Iterable[LedgerEvent],
    asof: date,
    *,
    reversed_ids: Iterable[int] = (),
    skus: Iterable[str] = (),
    closures: Iterable[ClosureEvent] = (),
) -> dict[str, Stock]:
    """Fold the unreversed events strictly before ``asof`` into a :class:`Stock` per SKU.

    Args:
        events: ledger rows, in any order.
        asof: only events with ``date < asof`` count.
        reversed_ids: transaction ids recorded in ``transaction_reversals``.
        skus: SKUs to report even when they have no events (all zero).
        closures: the orders closed short that count; each takes its ``qty`` off
            on_order (never below zero) at its place in the ledger order.

    Returns:
        ``{sku: Stock}`` for every SKU seen in ``events`` or ``skus``.
    """
    skipped = set(reversed_ids)
    state: dict[str, list[int]] = {sku: [0, 0, 0] for sku in skus}
    rows: list[LedgerEvent | ClosureEvent] = [*events, *closures]
    for ev in sorted(rows, key=_ledger_order):
        current = state.setdefault(ev.sku, [0, 0, 0])
        if ev.date >= asof:
            continue
        if isinstance(ev, ClosureEvent):
            current[1] = max(0, current[1] - ev.qty)
            continue
        if ev.transaction_id in skipped:
            continue
        current[0] = apply_on_hand(current[0], ev.event, ev.qty)
        current[1] = apply_on_order(current[1], ev.event, ev.qty)
        if ev.event == EventType.UNFULFILLED:
            current[2] += ev.qty
    return {
        sku: Stock(sku=sku, on_hand=v[0], on_order=v[1], unfulfilled=v[2], asof=asof)
        for sku, v in state.items()
    }
