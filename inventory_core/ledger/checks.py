"""The negative-stock check: no write may make on_hand negative on its date or later.

The check costs one SQL query and a short Python fold: on_hand just before the earliest
affected date comes from the set-based as-of query, then only the SKU's events from that
date on (usually a handful: writes are rarely far in the past) are folded in ledger order
with the change applied. A backdated write is therefore checked against every later
event, including later counts (a SNAPSHOT resets on_hand, so it can also end a shortfall).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date

from inventory_core.errors import InsufficientStockError, StockLimitError
from inventory_core.ledger.fold import LedgerEvent, apply_on_hand
from inventory_core.ledger.rules import MAX_INT


@dataclass(frozen=True, slots=True)
class FoldOutcome:
    """The result of folding a SKU's events from a starting on_hand."""

    final_on_hand: int
    first_negative: date | None
    max_deficit: int


def fold_on_hand(start: int, events: Iterable[LedgerEvent]) -> FoldOutcome:
    """Fold ``events`` (already in ledger order) from ``start``, tracking any deficit."""
    on_hand = start
    first_negative: date | None = None
    deficit = 0
    for ev in events:
        on_hand = apply_on_hand(on_hand, ev.event, ev.qty)
        if on_hand < 0:
            if first_negative is None:
                first_negative = ev.date
            deficit = max(deficit, -on_hand)
    return FoldOutcome(on_hand, first_negative, deficit)


def require_non_negative(sku: str, start: int, events: Iterable[LedgerEvent]) -> FoldOutcome:
    """Fold ``events`` from ``start`` and refuse the change if on_hand ever dips below zero.

    Raises:
        InsufficientStockError: with the first date on_hand would be negative and the
            largest deficit over the folded events.
    """
    outcome = fold_on_hand(start, events)
    if outcome.first_negative is not None:
        raise InsufficientStockError(
            sku=sku, date=outcome.first_negative, shortfall=outcome.max_deficit
        )
    return outcome


def require_storable(sku: str, on_hand: int, day: date) -> int:
    """Refuse a final on_hand that ``stock_positions.on_hand`` (INTEGER) could not store.

    SQLite would store it and PostgreSQL would refuse the row; checking first keeps the
    two backends alike and the error readable.

    Raises:
        StockLimitError: ``on_hand`` is above 2**31 - 1.
    """
    if on_hand > MAX_INT:
        raise StockLimitError(sku=sku, on_hand=on_hand, date=day, limit=MAX_INT, field="qty")
    return on_hand
