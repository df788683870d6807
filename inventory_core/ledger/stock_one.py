"""Stock of one SKU, in one statement.

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
from datetime import date
from functools import cache
from itertools import accumulate
from typing import NamedTuple, cast

from sqlalchemy import Date, String, Table, bindparam, case, func, literal_column, select

from inventory_core.db.prepared import Prepared
from inventory_core.db.reads import Reader
from inventory_core.ledger.closures import sku_has_closures
from inventory_core.ledger.readmodels import Stock
from inventory_core.ledger.stock import (
    StockRow,
    event_literal,
    flow_events,
    on_hand_columns,
    reversed_ids,
    stock_statement,
)
from inventory_core.models import EventType, Sku, Transaction

_t = cast(Table, Transaction.__table__)
_s = cast(Table, Sku.__table__)


class StockSteps(NamedTuple):
    """A row of :func:`stock_one_sqlite`."""

    sku: str | None
    """None when the SKU does not exist (the aggregate still gives its one row)."""
    on_hand: int
    steps: str | None
    unfulfilled: int
    closed: bool
    """Whether the SKU has an order closed short (its steps need the window form)."""


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
            _t.c.event.in_(flow_events()),
            _t.c.date < asof,
            _t.c.transaction_id.not_in(reversed_ids()),
        )
        .order_by(_t.c.date, _t.c.priority, _t.c.transaction_id)
        .subquery("flow_rows")
    )
    snap_qty, later = on_hand_columns(sku, asof)
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


__all__ = ["StockSteps", "on_order_of", "stock_one", "stock_one_sqlite"]
