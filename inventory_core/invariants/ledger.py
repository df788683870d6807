"""Invariants of the ledger itself: stock, snapshots, reversals, quantities, demand history.

Every query here folds the *unreversed* events only (``transactions`` LEFT JOIN
``transaction_reversals`` where no reversal exists), in the ledger order
``(date, priority, transaction_id)`` of DESIGN.md.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, ClassVar

from sqlalchemy import (
    CTE,
    ColumnElement,
    String,
    and_,
    case,
    func,
    literal,
    null,
    or_,
    select,
    union_all,
)

from inventory_core.invariants.base import AnySelect, QueryInvariant, Severity
from inventory_core.models import EVENT_PRIORITY, Sale, Transaction, TransactionReversal

tx = Transaction.__table__
rev = TransactionReversal.__table__
sales = Sale.__table__

STOCK_EVENTS = ("SNAPSHOT", "RECEIPT", "SALE", "WASTE", "ADJUST")
POSITIVE_EVENTS = ("ORDER", "RECEIPT", "SALE", "WASTE", "UNFULFILLED")


def live_events() -> AnySelect:
    """The unreversed ledger rows: what every stock figure is folded from."""
    return (
        select(tx.c.transaction_id, tx.c.sku, tx.c.date, tx.c.priority, tx.c.event, tx.c.qty)
        .select_from(tx.outerjoin(rev, rev.c.transaction_id == tx.c.transaction_id))
        .where(rev.c.reversal_id.is_(None))
    )


def stock_events() -> CTE:
    """The unreversed events that change on_hand, with what each does to it.

    ``moved`` is the change a non-count event makes (+qty for RECEIPT and ADJUST, -qty for
    SALE and WASTE); a SNAPSHOT moves nothing, it *sets* on_hand.
    """
    moved = case(
        (tx.c.event == "SNAPSHOT", 0),
        (tx.c.event.in_(("RECEIPT", "ADJUST")), tx.c.qty),
        else_=-tx.c.qty,
    )
    return (
        live_events()
        .add_columns(moved.label("moved"))
        .where(tx.c.event.in_(STOCK_EVENTS))
        .cte("stock_events")
    )


def running_on_hand() -> CTE:
    """on_hand after every stock event of every SKU, in ledger order, with one sort.

    One window pass over ``(sku, date, priority, transaction_id)`` numbers the counts seen
    so far (``segment``) and sums what moved so far (``moved``). The on_hand after an event
    is then the quantity of the last count before it plus what moved since that count:
    ``count.qty - count.moved + moved``, i.e. ``base + moved`` with ``base`` looked up among
    the (few) SNAPSHOT rows; 0 before a SKU's first count.
    """
    events = stock_events()
    ordering = (events.c.date, events.c.priority, events.c.transaction_id)

    def so_far(value: ColumnElement[Any]) -> Any:
        return func.sum(value).over(partition_by=events.c.sku, order_by=ordering, rows=(None, 0))

    moves = select(
        events.c.transaction_id,
        events.c.sku,
        events.c.date,
        events.c.event,
        events.c.qty,
        so_far(case((events.c.event == "SNAPSHOT", 1), else_=0)).label("segment"),
        so_far(events.c.moved).label("moved"),
    ).cte("moves")
    counts = (
        select(moves.c.sku, moves.c.segment, (moves.c.qty - moves.c.moved).label("base"))
        .where(moves.c.event == "SNAPSHOT")
        .cte("counts")
    )
    same_segment = and_(counts.c.sku == moves.c.sku, counts.c.segment == moves.c.segment)
    return (
        select(
            moves.c.transaction_id,
            moves.c.sku,
            moves.c.date,
            moves.c.event,
            moves.c.qty,
            (func.coalesce(counts.c.base, 0) + moves.c.moved).label("on_hand"),
        )
        .select_from(moves.outerjoin(counts, same_segment))
        .cte("running")
    )


def final_on_hand() -> CTE:
    """Each SKU's on_hand after its whole history, without sorting the ledger.

    The last unreversed count of each SKU comes from the SNAPSHOT rows alone, read through
    their partial index (a small sort); then one grouped pass over the ledger, in index
    order, adds what moved after that count.
    """
    events = stock_events()
    counts = live_events().where(tx.c.event == "SNAPSHOT").subquery("counts")
    newest_first = func.row_number().over(
        partition_by=counts.c.sku,
        order_by=(counts.c.date.desc(), counts.c.transaction_id.desc()),
    )
    numbered = select(
        counts.c.sku, counts.c.date, counts.c.transaction_id, counts.c.qty,
        newest_first.label("newest"),
    ).subquery("numbered_counts")  # fmt: skip
    last = (
        select(numbered.c.sku, numbered.c.date, numbered.c.transaction_id, numbered.c.qty)
        .where(numbered.c.newest == 1)
        .cte("last_count")
    )
    after_last = or_(
        last.c.sku.is_(None),
        events.c.date > last.c.date,
        and_(
            events.c.date == last.c.date,
            or_(events.c.priority > 0, events.c.transaction_id > last.c.transaction_id),
        ),
    )
    return (
        select(
            events.c.sku,
            (
                func.coalesce(func.max(last.c.qty), 0)
                + func.sum(case((after_last, events.c.moved), else_=0))
            ).label("on_hand"),
        )
        .select_from(events.outerjoin(last, last.c.sku == events.c.sku))
        .group_by(events.c.sku)
        .cte("final_on_hand")
    )


@dataclass(frozen=True)
class StockNeverNegative(QueryInvariant):
    """No SKU's on_hand drops below zero at any point of its history."""

    name: ClassVar[str] = "stock_never_negative"
    description: ClassVar[str] = (
        "The running on_hand of every SKU, in ledger order, never drops below zero."
    )
    recovery_steps: ClassVar[tuple[str, ...]] = (
        "Look at the sample: each row is an event after which on_hand is negative.",
        "Record the missing receipt or a physical count (SNAPSHOT) on or before that date, "
        "or revert the wrong SALE/WASTE/ADJUST with 'revert'.",
    )

    def query(self) -> AnySelect:
        running = running_on_hand()
        return select(
            running.c.transaction_id,
            running.c.sku,
            running.c.date,
            running.c.event,
            running.c.qty,
            running.c.on_hand,
        ).where(running.c.on_hand < 0)


@dataclass(frozen=True)
class SnapshotUnique(QueryInvariant):
    """A SKU has at most one unreversed physical count per day."""

    name: ClassVar[str] = "snapshot_unique"
    description: ClassVar[str] = "At most one unreversed SNAPSHOT per SKU and day."
    recovery_steps: ClassVar[tuple[str, ...]] = (
        "Keep the right count of that day and revert the others with 'revert'.",
    )

    def query(self) -> AnySelect:
        counts = live_events().where(tx.c.event == "SNAPSHOT").subquery("snapshots")
        return (
            select(counts.c.sku, counts.c.date, func.count().label("snapshots"))
            .group_by(counts.c.sku, counts.c.date)
            .having(func.count() > 1)
        )


@dataclass(frozen=True)
class ReversalsValid(QueryInvariant):
    """Every reversal names an existing transaction, and no transaction is reversed twice."""

    name: ClassVar[str] = "reversals_valid"
    description: ClassVar[str] = (
        "Every reversal points at an existing transaction, and at most once."
    )
    recovery_steps: ClassVar[tuple[str, ...]] = (
        "Restore the newest backup taken before the bad reversal: the reversal table is "
        "append-only, so such rows come from outside the library.",
    )

    def query(self) -> AnySelect:
        dangling = (
            select(
                rev.c.reversal_id,
                rev.c.transaction_id,
                literal("transaction does not exist", String).label("problem"),
            )
            .select_from(rev.outerjoin(tx, tx.c.transaction_id == rev.c.transaction_id))
            .where(tx.c.transaction_id.is_(None))
        )
        repeated = (
            select(
                func.min(rev.c.reversal_id).label("reversal_id"),
                rev.c.transaction_id,
                literal("reversed more than once", String).label("problem"),
            )
            .group_by(rev.c.transaction_id)
            .having(func.count() > 1)
        )
        return select(union_all(dangling, repeated).subquery("reversal_problems"))


def _priority_of_event() -> ColumnElement[Any]:
    return case({e.value: p for e, p in EVENT_PRIORITY.items()}, value=tx.c.event)


@dataclass(frozen=True)
class QuantitiesValid(QueryInvariant):
    """Each event has a known type, its priority, and a quantity of the right sign."""

    name: ClassVar[str] = "quantities_valid"
    description: ClassVar[str] = (
        "SNAPSHOT qty >= 0, ADJUST qty <> 0, other events qty > 0; known event, its priority."
    )
    recovery_steps: ClassVar[tuple[str, ...]] = (
        "Revert each listed transaction with 'revert' and record it again with a valid quantity.",
    )

    def query(self) -> AnySelect:
        sign_ok = or_(
            and_(tx.c.event == "SNAPSHOT", tx.c.qty >= 0),
            and_(tx.c.event == "ADJUST", tx.c.qty != 0),
            and_(tx.c.event.in_(POSITIVE_EVENTS), tx.c.qty > 0),
        )
        priority_ok = tx.c.priority == func.coalesce(_priority_of_event(), -1)
        return select(
            tx.c.transaction_id, tx.c.sku, tx.c.date, tx.c.event, tx.c.qty, tx.c.priority
        ).where(or_(~sign_ok, ~priority_ok))


@dataclass(frozen=True)
class DemandHistoryConsistent(QueryInvariant):
    """``sales`` holds, per SKU and day, exactly the sum of that day's unreversed SALEs."""

    name: ClassVar[str] = "demand_history"
    severity: ClassVar[Severity] = Severity.WARNING
    description: ClassVar[str] = (
        "sales.qty_sold equals the sum of unreversed SALE events per SKU and day."
    )
    recovery_steps: ClassVar[tuple[str, ...]] = (
        "The ledger is right, the demand history is stale: set each listed sales row to "
        "qty_events (forecasts read it, stock does not).",
    )

    def query(self) -> AnySelect:
        sold = live_events().where(tx.c.event == "SALE").subquery("sale_events")
        per_day = (
            select(sold.c.sku, sold.c.date, func.sum(sold.c.qty).label("qty_events"))
            .group_by(sold.c.sku, sold.c.date)
            .cte("sale_days")
        )
        joined = and_(per_day.c.sku == sales.c.sku, per_day.c.date == sales.c.date)
        recorded = (
            select(
                sales.c.sku,
                sales.c.date,
                sales.c.qty_sold,
                func.coalesce(per_day.c.qty_events, 0).label("qty_events"),
            )
            .select_from(sales.outerjoin(per_day, joined))
            .where(sales.c.qty_sold != func.coalesce(per_day.c.qty_events, 0))
        )
        unrecorded = (
            select(
                per_day.c.sku,
                per_day.c.date,
                null().label("qty_sold"),
                per_day.c.qty_events,
            )
            .select_from(per_day.outerjoin(sales, joined))
            .where(sales.c.sku.is_(None), per_day.c.qty_events != 0)
        )
        return select(union_all(recorded, unrecorded).subquery("demand_mismatches"))


__all__ = [
    "DemandHistoryConsistent",
    "QuantitiesValid",
    "ReversalsValid",
    "SnapshotUnique",
    "StockNeverNegative",
    "final_on_hand",
    "live_events",
    "running_on_hand",
]
