"""The stock history of one SKU: on_hand and on_order at the end of every day, and a chart.

The series is the ledger's running fold: one query (:func:`ledger.events.events_from`,
the SKU's unreversed events in ledger order, the same statement the negative-stock check
reads) and one pass in Python with the ledger's own :func:`apply_on_hand` and
:func:`apply_on_order`, so a count resets on_hand, reversed events are left out and on_order
is clamped at zero by receipts exactly as :meth:`Inventory.stock` computes them. The value
of day D is the stock as of D + 1 (everything dated D counts).

The chart needs matplotlib, the optional extra ``plots``; it is imported only when a chart
is drawn, so the rest of the library never pays for it.
"""

from __future__ import annotations

import importlib
from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path
from types import ModuleType
from typing import Any, cast

from sqlalchemy import Table

from inventory_core.db.database import Database
from inventory_core.errors import OptionalDependencyError
from inventory_core.ledger import master
from inventory_core.ledger.arguments import validate_code, validate_date
from inventory_core.ledger.events import events_from
from inventory_core.ledger.fold import ClosureEvent, LedgerEvent, apply_on_hand, apply_on_order
from inventory_core.ledger.orders_close import effective_closures
from inventory_core.ledger.stock import EPOCH
from inventory_core.models import EVENT_PRIORITY, EventType, OrderClosure

_c = cast(Table, OrderClosure.__table__)


@dataclass(frozen=True, slots=True)
class StockDay:
    """One day of a SKU's stock history: the position at the end of the day and its flows."""

    day: date
    on_hand: int
    on_order: int
    received: int
    sold: int
    wasted: int
    adjusted: int
    counted: int | None


@dataclass(frozen=True, slots=True)
class StockHistory:
    """A SKU's daily series between two dates (inclusive)."""

    sku: str
    start: date
    end: date
    days: tuple[StockDay, ...]


def stock_history(
    db: Database, sku: str, start: date | None = None, end: date | None = None
) -> StockHistory:
    """The SKU's on_hand and on_order at the end of each day from ``start`` to ``end``.

    Args:
        db: the database.
        sku: the SKU.
        start: first day shown (default: the day of the SKU's first event).
        end: last day shown (default: the day of its last event).

    Raises:
        ValidationError: a bad code, or a date that is not a ``datetime.date``.
        NotFoundError: no such SKU.
    """
    sku = validate_code(sku)
    start = None if start is None else validate_date(start, "start")
    end = None if end is None else validate_date(end, "end")
    with db.read() as uow:
        master.get_sku(uow, sku)
        events = events_from(uow, sku, EPOCH)
        closures: list[LedgerEvent | ClosureEvent] = [
            ClosureEvent(row.closure_id, row.sku, row.date, row.qty)
            for row in uow.fetch(effective_closures().where(_c.c.sku == sku))
        ]
    first = start or (events[0].date if events else date.today())
    last = end or (events[-1].date if events else first)
    per_day: dict[date, list[Any]] = {}
    on_hand = on_order = 0
    before_start = (0, 0)
    for ev in sorted([*events, *closures], key=_in_ledger_order):
        if ev.date > last:
            break
        if isinstance(ev, ClosureEvent):
            on_order = max(0, on_order - ev.qty)
        else:
            on_hand = apply_on_hand(on_hand, ev.event, ev.qty)
            on_order = apply_on_order(on_order, ev.event, ev.qty)
        if ev.date < first:
            before_start = (on_hand, on_order)
            continue
        flows = per_day.setdefault(ev.date, [0, 0, 0, 0, 0, 0, None])
        flows[0], flows[1] = on_hand, on_order
        if not isinstance(ev, ClosureEvent):
            _add_flow(flows, ev.event, ev.qty)
    series: list[StockDay] = []
    current = before_start
    day = first
    while day <= last:
        found = per_day.get(day)
        if found is not None:
            current = (found[0], found[1])
        totals = (0, 0, 0, 0, None) if found is None else tuple(found[2:])
        series.append(StockDay(day, current[0], current[1], *totals))
        day += timedelta(days=1)
    return StockHistory(sku=sku, start=first, end=last, days=tuple(series))


def _in_ledger_order(ev: LedgerEvent | ClosureEvent) -> tuple[date, int, int, int]:
    """A close short sorts after the day's orders and receipts, as in the stock statement."""
    if isinstance(ev, ClosureEvent):
        return (ev.date, EVENT_PRIORITY[EventType.RECEIPT], 1, ev.closure_id)
    return (ev.date, EVENT_PRIORITY[ev.event], 0, ev.transaction_id)


def _add_flow(flows: list[Any], event: EventType, qty: int) -> None:
    """Add one event to its day's totals: [on_hand, on_order, in, sold, waste, adj, count]."""
    if event == EventType.RECEIPT:
        flows[2] += qty
    elif event == EventType.SALE:
        flows[3] += qty
    elif event == EventType.WASTE:
        flows[4] += qty
    elif event == EventType.ADJUST:
        flows[5] += qty
    elif event == EventType.SNAPSHOT:
        flows[6] = qty


def _pyplot() -> ModuleType:
    """matplotlib's pyplot on the file-only Agg backend, or a clear error if not installed."""
    try:
        matplotlib = importlib.import_module("matplotlib")
    except ImportError as exc:
        raise OptionalDependencyError(
            feature="The stock chart", package="matplotlib", extra="plots"
        ) from exc
    matplotlib.use("Agg")
    return importlib.import_module("matplotlib.pyplot")


def plot_stock_history(history: StockHistory, path: str | Path) -> Path:
    """Draw on_hand and on_order as steps, with receipts, sales and counts marked; save PNG.

    Raises:
        OptionalDependencyError: matplotlib (the ``plots`` extra) is not installed.
    """
    plt = _pyplot()
    figure = draw_stock_history(history)
    try:
        target = Path(path)
        figure.savefig(target, dpi=110)
    finally:
        plt.close(figure)
    return target


def draw_stock_history(history: StockHistory) -> Any:
    """The chart of :func:`plot_stock_history` as a matplotlib Figure (the caller closes it).

    The x-axis is labelled with days (``YYYY-MM-DD``) whatever the range: a week or a
    single day would otherwise get hour ticks, which a daily series does not have.

    Raises:
        OptionalDependencyError: matplotlib (the ``plots`` extra) is not installed.
    """
    plt = _pyplot()
    mdates = importlib.import_module("matplotlib.dates")
    days = [d.day for d in history.days]
    figure, axes = plt.subplots(figsize=(11, 5))
    axes.step(days, [d.on_hand for d in history.days], where="post", label="on_hand")
    axes.step(days, [d.on_order for d in history.days], where="post", label="on_order")
    marks = (
        ("received", "^", "tab:green", "receipt"),
        ("sold", "v", "tab:red", "sale"),
        ("counted", "D", "black", "count"),
    )
    for attribute, marker, colour, label in marks:
        hit = [d for d in history.days if getattr(d, attribute)]
        if attribute == "counted":
            hit = [d for d in history.days if d.counted is not None]
        axes.scatter(
            [d.day for d in hit],
            [d.on_hand for d in hit],
            marker=marker,
            color=colour,
            s=18 if attribute == "sold" else 40,
            label=label,
            zorder=3,
        )
    span = (history.end - history.start).days
    first, last = mdates.date2num(history.start), mdates.date2num(history.end)
    axes.set_xlim(first - 0.5, last + 0.5)
    if span <= 14:
        axes.xaxis.set_major_locator(mdates.DayLocator(interval=1 if span <= 7 else 2))
    else:
        axes.xaxis.set_major_locator(mdates.AutoDateLocator(minticks=3, maxticks=12))
    axes.xaxis.set_major_formatter(mdates.DateFormatter("%Y-%m-%d"))
    axes.set_title(f"Stock of {history.sku}, {history.start} to {history.end}")
    axes.set_ylabel("units at the end of the day")
    axes.legend(loc="upper left")
    figure.autofmt_xdate()
    return figure


__all__ = [
    "StockDay",
    "StockHistory",
    "draw_stock_history",
    "plot_stock_history",
    "stock_history",
]
