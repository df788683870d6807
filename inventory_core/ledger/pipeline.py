"""The on-order pipeline by expected delivery date, and the inventory position.

An order is open as of a date D when its ORDER (unreversed) is dated before D, no counting
closure dated before D closed it, and what its unreversed receipts dated before D brought
is less than it ordered; its open quantity is the difference. All of it is one statement
over ``order_logs``, ``order_receipts`` (joined to the receipts' transactions for their
dates) and ``order_closures``, for one SKU or every SKU alike: a group by, never a loop.

The pipeline adds up orders; on_order (:mod:`inventory_core.ledger.stock`) walks the
ledger, where a receipt without an order also lowers it. The two agree when every receipt
names its order; the pipeline is the per-date view, on_order the total.

The inventory position over a horizon counts an order with an expected date when that date
is on or before the horizon, and an order without one at its order date plus the SKU's
lead time: ``on_hand + arriving by the horizon - unfulfilled``.
"""

from __future__ import annotations

from datetime import date
from functools import cache
from typing import Any, cast

from sqlalchemy import Date, Table, bindparam, exists, func, or_, select
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.sql.expression import ColumnElement

from inventory_core.db.prepared import Prepared
from inventory_core.db.uow import UnitOfWork
from inventory_core.ledger.closures import counting
from inventory_core.ledger.readmodels import Pipeline, PipelineDate, Position
from inventory_core.ledger.rules import MAX_DATE
from inventory_core.ledger.stock import on_hand_demand_statement, stock_statement
from inventory_core.models import (
    OrderClosure,
    OrderLog,
    OrderReceipt,
    Sku,
    Transaction,
    TransactionReversal,
)

_o = cast(Table, OrderLog.__table__)
_or = cast(Table, OrderReceipt.__table__)
_c = cast(Table, OrderClosure.__table__)
_t = cast(Table, Transaction.__table__)
_r = cast(Table, TransactionReversal.__table__)
_s = cast(Table, Sku.__table__)


class AddDays(ColumnElement[date]):
    """``day + n`` days as SQL, never past the last ledger date (``MAX_DATE``): a horizon of
    ``asof`` near the end of the calendar plus a lead time is that last day, not NULL
    (SQLite's ``date()`` gives NULL past year 9999) nor a date Python cannot hold
    (PostgreSQL's go further). NULL in gives NULL out."""

    inherit_cache = True
    type = Date()

    def __init__(self, day: Any, days: Any) -> None:
        self.day = day
        self.days = days


_LAST = MAX_DATE.isoformat()
_LAST_JULIAN = 5373482.5  # julianday of MAX_DATE, 9999-12-30


@compiles(AddDays)
def _add_days_sqlite(element: AddDays, compiler: Any, **kw: Any) -> str:
    day = compiler.process(element.day, **kw)
    days = compiler.process(element.days, **kw)
    return f"date(min(julianday({day}) + CAST({days} AS INTEGER), {_LAST_JULIAN}))"


@compiles(AddDays, "postgresql")
def _add_days_postgresql(element: AddDays, compiler: Any, **kw: Any) -> str:
    total = f"({compiler.process(element.day, **kw)} + {compiler.process(element.days, **kw)})"
    return f"(CASE WHEN {total} > DATE '{_LAST}' THEN DATE '{_LAST}' ELSE {total} END)"


def open_orders(asof: Any, sku: Any | None = None) -> Any:
    """Subquery of the orders open as of ``asof``: order_id, sku, order_date, expected_date,
    open (> 0)."""
    rt = _t.alias("receipt_tx")
    received = (
        select(func.coalesce(func.sum(_or.c.qty), 0))
        .select_from(_or.join(rt, rt.c.transaction_id == _or.c.transaction_id))
        .where(
            _or.c.order_id == _o.c.order_id,
            rt.c.date < asof,
            rt.c.transaction_id.not_in(select(_r.c.transaction_id)),
        )
        .correlate(_o)
        .scalar_subquery()
    )
    closed = exists().where(_c.c.order_id == _o.c.order_id, _c.c.date < asof, counting(_c))
    standing = or_(
        _o.c.transaction_id.is_(None), _o.c.transaction_id.not_in(select(_r.c.transaction_id))
    )
    open_qty = (_o.c.qty_ordered - received).label("open")
    rows = select(_o.c.order_id, _o.c.sku, _o.c.order_date, _o.c.expected_date, open_qty).where(
        _o.c.order_date < asof, standing, ~closed, _o.c.status != "CANCELLED"
    )
    if sku is not None:
        rows = rows.where(_o.c.sku == sku)
    inner = rows.subquery("open_rows")
    return select(inner).where(inner.c.open > 0).subquery("open_orders")


def pipeline_statement(single: bool) -> Any:
    """Open quantity and order count per SKU and expected date (NULL: no date) as of
    ``:asof`` (and for ``:sku``)."""
    asof = bindparam("asof", type_=Date)
    orders = open_orders(asof, bindparam("sku") if single else None)
    return (
        select(
            orders.c.sku,
            orders.c.expected_date,
            func.sum(orders.c.open).label("qty"),
            func.count().label("orders"),
        )
        .group_by(orders.c.sku, orders.c.expected_date)
        .order_by(orders.c.sku, orders.c.expected_date)
    )


@cache
def _pipeline(single: bool) -> Prepared[Any]:
    # Compiled once per dialect: building and keying the statement cost five times what
    # running it does for one SKU.
    return Prepared(pipeline_statement(single))


@cache
def _position(single: bool) -> Prepared[Any]:
    return Prepared(position_statement(single))


def _day(value: Any) -> date | None:
    if value is None or isinstance(value, date):
        return value
    return date.fromisoformat(str(value))


def pipelines(
    uow: UnitOfWork, asof: date, sku: str | None, codes: list[str]
) -> dict[str, Pipeline]:
    """The pipeline of ``sku`` (or of every SKU in ``codes``) as of ``asof``: one statement."""
    params: dict[str, Any] = {"asof": asof}
    if sku is not None:
        params["sku"] = sku
    dated: dict[str, list[PipelineDate]] = {code: [] for code in codes}
    undated: dict[str, int] = dict.fromkeys(codes, 0)
    for row in uow.fetch(_pipeline(sku is not None), params):
        day = _day(row.expected_date)
        if day is None:
            undated[row.sku] = int(row.qty)
        else:
            dated.setdefault(row.sku, []).append(PipelineDate(day, int(row.qty), int(row.orders)))
    return {
        code: Pipeline(
            sku=code, asof=asof, dated=tuple(dated.get(code, ())), undated=undated.get(code, 0)
        )
        for code in codes
    }


def _lead(sku: Any) -> Any:
    return select(_s.c.lead_time_days).where(_s.c.sku == sku).scalar_subquery()


def position_statement(single: bool, *, on_order: bool = True) -> Any:
    """Every SKU's (or ``:sku``'s) stock as of ``:asof`` with what arrives by its horizon:
    ``:horizon``, or when that is NULL ``:asof`` plus the SKU's lead time. Without
    ``on_order`` (every SKU only) the on_order column is 0 and its window walk is skipped
    (:func:`~inventory_core.ledger.stock.on_hand_demand_statement`): reorder proposals
    read only on_hand, what arrives and unfulfilled."""
    asof = bindparam("asof", type_=Date)
    horizon = bindparam("horizon", type_=Date)
    orders = open_orders(asof, bindparam("sku") if single else None)
    arrives = func.coalesce(
        orders.c.expected_date, AddDays(orders.c.order_date, _lead(orders.c.sku))
    )
    incoming = (
        select(orders.c.sku, func.sum(orders.c.open).label("incoming"))
        .where(arrives <= func.coalesce(horizon, AddDays(asof, _lead(orders.c.sku))))
        .group_by(orders.c.sku)
        .subquery("incoming")
    )
    base = stock_statement(single) if on_order or single else on_hand_demand_statement()
    stock = base.subquery("stock")
    return (
        select(
            stock.c.sku,
            stock.c.on_hand,
            stock.c.on_order,
            stock.c.unfulfilled,
            func.coalesce(incoming.c.incoming, 0).label("incoming"),
            func.coalesce(horizon, AddDays(asof, _lead(stock.c.sku))).label("horizon"),
        )
        .select_from(stock.outerjoin(incoming, incoming.c.sku == stock.c.sku))
        .order_by(stock.c.sku)
    )


def positions(
    uow: UnitOfWork, asof: date, horizon: date | None, sku: str | None
) -> dict[str, Position]:
    """Inventory positions as of ``asof`` over ``horizon`` (None: each SKU's lead time)."""
    params: dict[str, Any] = {"asof": asof, "horizon": horizon}
    if sku is not None:
        params["sku"] = sku
    found: dict[str, Position] = {}
    for row in uow.fetch(_position(sku is not None), params):
        until = _day(row.horizon)
        assert until is not None
        found[row.sku] = Position(
            sku=row.sku,
            asof=asof,
            horizon=until,
            on_hand=int(row.on_hand),
            on_order=int(row.on_order),
            arriving=int(row.incoming),
            unfulfilled=int(row.unfulfilled),
        )
    return found


def all_codes(uow: UnitOfWork) -> list[str]:
    """Every SKU code, in order."""
    return list(uow.scalars(select(_s.c.sku).order_by(_s.c.sku)))


__all__ = ["AddDays", "all_codes", "open_orders", "pipelines", "positions"]
