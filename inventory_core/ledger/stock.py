"""Set-based as-of stock: one SQL statement for every SKU (or one), never a Python loop.

For each SKU the statement

1. jumps through the partial index ``ix_transactions_snapshots`` to the last unreversed
   SNAPSHOT before the as-of date (its date and its count),
2. adds the signed quantities of the events from that date up to the as-of date, read from
   the covering index ``ix_transactions_sku_date`` (a SNAPSHOT row adds 0, so the count's
   own day needs no special case: the only priority-0 events are counts),
3. joins the flows: on_order is not a plain sum because a RECEIPT clamps it at 0. With
   ``d = +qty`` for ORDER and ``-qty`` for RECEIPT and ``S_k`` the running sum in ledger
   order (``S_0 = 0``), the clamped walk ends at ``S_n - min(0, min_k S_k)`` (the
   Lindley/reflection identity), which a window function computes in one pass over the
   ORDER/RECEIPT rows (partial index ``ix_transactions_flows``) and the orders closed short
   (``order_closures``: a step ``-qty`` at its date, after the day's orders and receipts; see
   :mod:`inventory_core.ledger.closures`). unfulfilled is a plain cumulative sum.

Reversed transactions are excluded with ``NOT IN (SELECT transaction_id FROM
transaction_reversals)``, which SQLite answers with one probe of the reversals' unique
index per row (``USING INDEX ... FOR IN-OPERATOR`` in the plan). The same Core
statement runs on SQLite and PostgreSQL; ``MIN(0, x)`` is written as a CASE because the
two-argument MIN does not exist on PostgreSQL.

One SKU on SQLite (:func:`stock_one`) takes a shorter way to on_order: SQLite's window
functions cost about 1 us a row, which at 1,000 events for the SKU (about 250 of them
ORDER, RECEIPT or UNFULFILLED) made the window three quarters of the statement. The
statement returns the ORDER/RECEIPT steps instead, as one ``group_concat`` of the signed
quantities in ledger order, and Python takes the running sum and its minimum
(:func:`on_order_of`). The steps come in ledger order ``(date, priority, transaction_id)``
straight from ``ix_transactions_flows``, whose columns are in that order, so SQLite reads
them without a sort. SQLite keeps a FROM-subquery's ORDER BY when the outer query uses an
order-sensitive aggregate such as ``group_concat`` (only count, min and max let it drop
it), and a test checks the result against the reference fold. A SKU with any order
closed short (one probe of ``ix_order_closures_sku_date``, returned in the same row) is
read again with the window statement, whose walk includes the closures.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import date
from functools import cache
from itertools import accumulate
from typing import Any, NamedTuple, cast

from sqlalchemy import (
    Date,
    Integer,
    Select,
    String,
    Table,
    and_,
    bindparam,
    case,
    func,
    literal,
    literal_column,
    or_,
    select,
)

from inventory_core.db.prepared import Prepared
from inventory_core.db.reads import Reader
from inventory_core.db.uow import UnitOfWork
from inventory_core.ledger.closures import closure_steps, sku_has_closures
from inventory_core.ledger.readmodels import Stock
from inventory_core.models import EventType, Sku, Transaction, TransactionReversal

EPOCH = date(1, 1, 1)

_t = cast(Table, Transaction.__table__)
_r = cast(Table, TransactionReversal.__table__)
_s = cast(Table, Sku.__table__)


def event_literal(event: EventType) -> Any:
    """An event name as an SQL literal, not a bound parameter.

    SQLite uses a partial index (``WHERE event = 'SNAPSHOT'``) only when the query's term
    matches it literally; with ``event = ?`` the planner cannot prove the row qualifies and
    falls back to a slower index or a scan.
    """
    return literal_column(f"'{event.value}'", String)


def _reversed_ids() -> Select[Any]:
    return select(_r.c.transaction_id)


def signed_on_hand_delta(table: Any) -> Any:
    """The effect of a non-SNAPSHOT row on on_hand: +RECEIPT, -SALE, -WASTE, +-ADJUST."""
    return case(
        (
            table.c.event.in_([event_literal(EventType.SALE), event_literal(EventType.WASTE)]),
            -table.c.qty,
        ),
        (
            table.c.event.in_([event_literal(EventType.RECEIPT), event_literal(EventType.ADJUST)]),
            table.c.qty,
        ),
        else_=0,
    )


def _last_count(sku: Any, on_or_before: Any, *, inclusive: bool) -> tuple[Any, Any]:
    """The date and qty of the SKU's last unreversed SNAPSHOT before (or on) a date.

    Returns two scalar subqueries (date, qty) correlated to ``sku`` when it is a column.
    """
    snap = _t.alias("snap")
    last_snapshot = (
        select(snap.c.date)
        .where(
            snap.c.sku == sku,
            snap.c.event == event_literal(EventType.SNAPSHOT),
            snap.c.date <= on_or_before if inclusive else snap.c.date < on_or_before,
            snap.c.transaction_id.not_in(_reversed_ids()),
        )
        .order_by(snap.c.date.desc())
        .limit(1)
        .correlate_except(snap)
    )
    snap_date = last_snapshot.scalar_subquery()
    snap_qty = last_snapshot.with_only_columns(snap.c.qty).scalar_subquery()
    return snap_date, snap_qty


def _on_hand_columns(sku_col: Any, asof: Any) -> tuple[Any, Any]:
    """(last SNAPSHOT qty or 0) + (signed events from that SNAPSHOT's date up to asof)."""
    snap_date, snap_qty = _last_count(sku_col, asof, inclusive=False)
    return snap_qty, _moved_since(sku_col, snap_date, lambda ev: ev.c.date < asof)


def _moved_since(sku: Any, snap_date: Any, until: Callable[[Any], Any]) -> Any:
    """The signed on_hand effect of the SKU's unreversed events from the count's date on
    (from the first day without a count), up to the bound ``until(events)`` sets."""
    ev = _t.alias("ev")
    return (
        select(func.sum(signed_on_hand_delta(ev)))
        .where(
            ev.c.sku == sku,
            ev.c.date >= func.coalesce(snap_date, bindparam("epoch", EPOCH, type_=Date)),
            until(ev),
            ev.c.transaction_id.not_in(_reversed_ids()),
        )
        .correlate_except(ev)
        .scalar_subquery()
    )


def _flow_events() -> list[Any]:
    """The events of the flow index ``ix_transactions_flows``, as literals (see above)."""
    return [event_literal(e) for e in (EventType.ORDER, EventType.RECEIPT, EventType.UNFULFILLED)]


def _flows(asof: Any, sku: Any | None) -> Any:
    """on_order (Lindley identity) and unfulfilled per SKU, as a derived table."""
    d = case(
        (_t.c.event == event_literal(EventType.ORDER), _t.c.qty),
        (_t.c.event == event_literal(EventType.RECEIPT), -_t.c.qty),
        else_=0,
    ).label("d")
    u = case((_t.c.event == event_literal(EventType.UNFULFILLED), _t.c.qty), else_=0).label("u")
    kind = literal(0, Integer).label("kind")
    rows = select(_t.c.sku, d, u, _t.c.date, _t.c.priority, kind, _t.c.transaction_id).where(
        _t.c.event.in_(_flow_events()),
        _t.c.date < asof,
        _t.c.transaction_id.not_in(_reversed_ids()),
    )
    if sku is not None:
        rows = rows.where(_t.c.sku == sku)
    steps = rows.union_all(closure_steps(asof, sku)).subquery("flow_rows")
    running = func.sum(steps.c.d).over(
        partition_by=steps.c.sku,
        order_by=(steps.c.date, steps.c.priority, steps.c.kind, steps.c.transaction_id),
        rows=(None, 0),
    )
    walk = select(steps.c.sku, steps.c.d, steps.c.u, running.label("run")).subquery("walk")
    lowest = func.min(walk.c.run)
    return (
        select(
            walk.c.sku,
            (func.sum(walk.c.d) - case((lowest < 0, lowest), else_=0)).label("on_order"),
            func.sum(walk.c.u).label("unfulfilled"),
        )
        .group_by(walk.c.sku)
        .subquery("flows")
    )


@cache
def stock_statement(single: bool) -> Select[Any]:
    """The as-of statement for every SKU, or (``single``) for the SKU bound as ``:sku``.

    Bind ``asof`` (and ``sku``). Columns: sku, on_hand, on_order, unfulfilled; rows sorted by
    SKU. Built once per shape so SQLAlchemy's compiled cache is hit on every call.
    """
    asof = bindparam("asof", type_=Date)
    sku = bindparam("sku", type_=String) if single else None
    snap_qty, later = _on_hand_columns(_s.c.sku, asof)
    flows = _flows(asof, sku)
    stmt = (
        select(
            _s.c.sku,
            (func.coalesce(snap_qty, 0) + func.coalesce(later, 0)).label("on_hand"),
            func.coalesce(flows.c.on_order, 0).label("on_order"),
            func.coalesce(flows.c.unfulfilled, 0).label("unfulfilled"),
        )
        .select_from(_s.outerjoin(flows, flows.c.sku == _s.c.sku))
        .order_by(_s.c.sku)
    )
    if sku is not None:
        stmt = stmt.where(_s.c.sku == sku)
    return stmt


@cache
def on_hand_statement() -> Select[Any]:
    """on_hand of the SKU bound as ``:sku`` from the events strictly before ``:asof``."""
    asof = bindparam("asof", type_=Date)
    sku = bindparam("sku", type_=String)
    snap_qty, later = _on_hand_columns(sku, asof)
    return select((func.coalesce(snap_qty, 0) + func.coalesce(later, 0)).label("on_hand"))


@cache
def on_hand_many_statement() -> Select[Any]:
    """on_hand of each SKU in the expanding ``:skus`` list, before ``:asof``."""
    asof = bindparam("asof", type_=Date)
    snap_qty, later = _on_hand_columns(_s.c.sku, asof)
    return select(
        _s.c.sku, (func.coalesce(snap_qty, 0) + func.coalesce(later, 0)).label("on_hand")
    ).where(_s.c.sku.in_(bindparam("skus", expanding=True)))


def on_hand_many(uow: UnitOfWork, skus: list[str], asof: date) -> dict[str, int]:
    """on_hand of several SKUs before ``asof``, in one statement."""
    rows = uow.fetch(on_hand_many_statement(), {"asof": asof, "skus": skus})
    return {row.sku: int(row.on_hand) for row in rows}


@cache
def on_hand_at_statement() -> Select[Any]:
    """on_hand of ``:sku`` just after its events up to position ``(:day, :priority)``.

    An event written now at that position sorts after every existing row with the same
    date and priority (it gets the highest id), so this is the on_hand it starts from.
    """
    sku = bindparam("sku", type_=String)
    day = bindparam("day", type_=Date)
    priority = bindparam("priority", type_=Integer)
    snap_date, snap_qty = _last_count(sku, day, inclusive=True)
    later = _moved_since(
        sku,
        snap_date,
        lambda ev: or_(ev.c.date < day, and_(ev.c.date == day, ev.c.priority <= priority)),
    )
    on_hand = (func.coalesce(snap_qty, 0) + func.coalesce(later, 0)).label("on_hand")
    # Selected from skus so that one round trip also says whether the SKU exists.
    return select(on_hand).where(_s.c.sku == sku)


def on_hand_at(uow: UnitOfWork, sku: str, day: date, priority: int) -> int | None:
    """on_hand of ``sku`` after its unreversed events up to ``(day, priority)`` inclusive,
    or None when the SKU does not exist."""
    params = {"sku": sku, "day": day, "priority": priority}
    found = uow.fetch_one(_on_hand_at(), params)
    return None if found is None else found.on_hand


class OnHand(NamedTuple):
    """A row of :func:`on_hand_statement` and :func:`on_hand_at_statement`."""

    on_hand: int


@cache
def _on_hand_at() -> Prepared[OnHand]:
    return Prepared(on_hand_at_statement(), OnHand)


@cache
def _on_hand() -> Prepared[OnHand]:
    return Prepared(on_hand_statement(), OnHand)


@cache
def _stock_all() -> Prepared[StockRow]:
    return Prepared(stock_statement(False), StockRow)


def stock_all(uow: UnitOfWork, asof: date) -> dict[str, Stock]:
    """Stock of every SKU as of ``asof``, in one statement."""
    return {
        row.sku: Stock(
            sku=row.sku,
            on_hand=row.on_hand,
            on_order=row.on_order,
            unfulfilled=row.unfulfilled,
            asof=asof,
        )
        for row in uow.fetch(_stock_all(), {"asof": asof})
    }


class StockSteps(NamedTuple):
    """A row of :func:`stock_one_sqlite`."""

    sku: str | None
    """None when the SKU does not exist (the aggregate still gives its one row)."""
    on_hand: int
    steps: str | None
    unfulfilled: int
    closed: bool
    """Whether the SKU has an order closed short (its steps need the window form)."""


class StockRow(NamedTuple):
    """A row of :func:`stock_statement`."""

    sku: str
    on_hand: int
    on_order: int
    unfulfilled: int


@cache
def stock_one_sqlite() -> Prepared[StockSteps]:
    """One SKU's stock on SQLite: sku, on_hand, the on_order steps, unfulfilled.

    Bind ``sku`` and ``asof``. It is an aggregate over the SKU's ORDER, RECEIPT and
    UNFULFILLED rows (read from ``ix_transactions_flows``), so it always gives one row;
    ``sku`` is NULL there when the SKU does not exist. (Joining the aggregate to ``skus``
    instead would make SQLite materialise it first, about 8 us more.)
    """
    asof = bindparam("asof", type_=Date)
    sku = bindparam("sku", type_=String)
    step = case(
        (_t.c.event == event_literal(EventType.ORDER), _t.c.qty),
        (_t.c.event == event_literal(EventType.RECEIPT), -_t.c.qty),
    )  # NULL for UNFULFILLED, which group_concat skips
    demand = case(
        (_t.c.event == event_literal(EventType.UNFULFILLED), _t.c.qty), else_=literal_column("0")
    )
    flow_rows = (
        select(step.label("step"), demand.label("demand"))
        .where(
            _t.c.sku == sku,
            _t.c.event.in_(_flow_events()),
            _t.c.date < asof,
            _t.c.transaction_id.not_in(_reversed_ids()),
        )
        .order_by(_t.c.date, _t.c.priority, _t.c.transaction_id)
        .subquery("flow_rows")
    )
    snap_qty, later = _on_hand_columns(sku, asof)
    return Prepared(
        select(
            select(_s.c.sku).where(_s.c.sku == sku).scalar_subquery().label("sku"),
            (func.coalesce(snap_qty, 0) + func.coalesce(later, 0)).label("on_hand"),
            func.group_concat(flow_rows.c.step).label("steps"),
            func.coalesce(func.sum(flow_rows.c.demand), literal_column("0")).label("unfulfilled"),
            sku_has_closures(sku).label("closed"),
        ),
        StockSteps,
    )


@cache
def _stock_one_window() -> Prepared[StockRow]:
    return Prepared(stock_statement(True), StockRow)


def on_order_of(steps: str | None) -> int:
    """on_order after the steps of :func:`stock_one_sqlite` (``"5,-3,..."``).

    The reflection identity of the module docstring: the last running sum minus the
    lowest one when that went below zero.
    """
    if not steps:
        return 0
    # The steps are integers separated by commas, so with brackets they are a JSON array:
    # the C parser reads them in half the time of split() and int().
    sums: list[int] = list(accumulate(json.loads(f"[{steps}]")))
    return sums[-1] - min(0, min(sums))


def stock_one(reader: Reader, sku: str, asof: date) -> Stock | None:
    """Stock of one SKU as of ``asof`` in one statement, or None when the SKU does not
    exist.

    SQLite folds on_order from the steps in Python (see the module docstring); PostgreSQL
    runs the set-based statement of :func:`stock_statement` for one SKU.
    """
    params = {"asof": asof, "sku": sku}
    if reader.dialect == "sqlite":
        folded = reader.fetch_one(stock_one_sqlite(), params)
        if folded is None or folded.sku is None:
            return None
        if not folded.closed:  # orders closed short are steps only the window form has
            return Stock(
                sku=folded.sku,
                on_hand=folded.on_hand,
                on_order=on_order_of(folded.steps),
                unfulfilled=folded.unfulfilled,
                asof=asof,
            )
    row = reader.fetch_one(_stock_one_window(), params)
    if row is None:
        return None
    return Stock(
        sku=row.sku,
        on_hand=row.on_hand,
        on_order=row.on_order,
        unfulfilled=row.unfulfilled,
        asof=asof,
    )


def on_hand_before(uow: UnitOfWork, sku: str, when: date) -> int:
    """on_hand of ``sku`` from its unreversed events strictly before ``when``."""
    found = uow.fetch_one(_on_hand(), {"asof": when, "sku": sku})
    return 0 if found is None else found.on_hand


__all__ = [
    "EPOCH",
    "on_hand_before",
    "on_hand_many",
    "on_order_of",
    "signed_on_hand_delta",
    "stock_all",
    "stock_one",
    "stock_one_sqlite",
    "stock_statement",
]
