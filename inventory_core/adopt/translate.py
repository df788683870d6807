"""The translation of a legacy store into this ledger's events, row by row.

The legacy application folds its events per SKU sorted by (date, priority), ties in file
order, with ``sales.csv`` rows as implicit SALEs after the ledger's rows (see LEGACY.md). The
translation walks the same order with the same on-hand figure, so every event it records
leaves our stock where the old application's stock was; each row recorded differently from
how it stood becomes a :class:`Finding` (the rules are the table in docs/adopt.md).
"""

from __future__ import annotations

import copy
from collections import defaultdict
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, replace
from datetime import date
from typing import Any, NamedTuple

from inventory_core.adopt import calendar, lots, master
from inventory_core.adopt.compact import DayCells, EventStore
from inventory_core.adopt.findings import (
    Event,
    Events,
    Finding,
    PlannedOrder,
    PlannedReceipt,
    Translation,
    date_cell,
    int_cell,
    invalid,
    row_text,
)
from inventory_core.adopt.orders import OrderBook
from inventory_core.adopt.source import LegacyRow, LegacySource
from inventory_core.errors.adopt import AdoptInputError
from inventory_core.errors.i18n import gettext as _

PRIORITY = {
    "SNAPSHOT": 0,
    "ORDER": 1,
    "RECEIPT": 1,
    "SALE": 2,
    "WASTE": 2,
    "ADJUST": 2,
    "UNFULFILLED": 3,
}
"""The legacy fold's order of events within a day."""

NON_STOCK = frozenset({"SKU_EDIT", "EXPORT_LOG", "ASSORTMENT_IN", "ASSORTMENT_OUT"})
"""Legacy events with no stock effect: kept in the import's history, not in the ledger."""

_RECEIPT_MARK = "\x00"
"""Between an ORDER's note and its ``receipt_date`` in the held rows' note column."""


class _Event(NamedTuple):
    """A stock event of the legacy store, small: millions of them are held at once."""

    day: date
    priority: int
    seq: int
    kind: str
    qty: int
    note: str
    file: str
    line: int
    receipt: str = ""

    def text(self, sku: str) -> str:
        """The legacy row, as the report shows it."""
        return f"date={self.day},sku={sku},event={self.kind},qty={self.qty},note={self.note}"


def translate(source: LegacySource, *, skip_invalid: bool = False) -> Translation:
    """Read the store and translate it (nothing is written anywhere; the recorded events
    are counted, not kept: ``len(translation.events)``).

    Raises:
        AdoptInputError: a row cannot be translated (unless ``skip_invalid``, which lists
            it as an ``invalid`` finding instead).
    """
    plan = read(source, skip_invalid=skip_invalid)
    plan.run_through()
    return plan.out


@dataclass(slots=True)
class Plan:
    """A store read and checked, its stock rows held per SKU, not yet folded."""

    out: Translation
    store: EventStore
    unknown: set[str]
    read_findings: int
    book: OrderBook
    """The store's order logs as read; each fold works on a copy (the fold consumes it)."""
    source: LegacySource
    skip_invalid: bool
    folded: int = 0
    """Held rows folded so far (the progress of :meth:`fold`)."""
    _book: OrderBook | None = None
    """The book of the fold under way."""

    def fold(self, chunk: int = 20_000) -> Iterator[list[Event]]:
        """Fold every SKU in code order; yield the recorded events, at least ``chunk`` at a
        time (the last batch may be smaller), as the fold goes, and plan the orders and
        receipts of the SKUs folded (:meth:`take_orders`); then plan the lots.

        Every call starts over from what :func:`read` left (a unit of work that is retried
        folds again), so the findings, stock, events, orders and lots are those of one fold.
        """
        out = self.out
        del out.findings[self.read_findings :]
        out.legacy_stock.clear()
        out.our_stock.clear()
        out.last_date = None
        out.events = Events()
        book = self._book = copy.deepcopy(self.book)
        self.folded = 0
        for sku in self.store.skus():
            held = [
                _held(day, kind, qty, note, file, line, seq)
                for day, kind, qty, note, file, line, seq in self.store.rows_of(sku)
            ]
            if sku in self.unknown:
                first = held[0]
                out.findings.append(
                    Finding(
                        "unknown SKU",
                        first.file,
                        first.line,
                        sku,
                        first.text(sku),
                        _("kept the events of a SKU missing from skus"),
                        _("SKU created, inactive"),
                    )
                )
            held.sort(key=lambda e: (e.day, e.priority, e.seq))
            _fold_sku(sku, held, out, book)
            book.done(sku)
            self.folded += len(held)
            if out.events.held() >= chunk:
                yield out.events.drain()
        book.left_over(out)
        lots.plan(self.source, out, self.skip_invalid)
        if out.events.held():
            yield out.events.drain()

    def take_orders(self) -> tuple[list[PlannedOrder], list[PlannedReceipt]]:
        """The orders and receipts planned since the last call. Between batches of
        :meth:`fold` they are those of the SKUs whose events the batches held, final."""
        return ([], []) if self._book is None else self._book.drain()

    def run_through(self) -> None:
        """Fold the whole store and write nothing (a dry run): the report and stock are
        complete after it."""
        for _batch in self.fold():
            self.take_orders()
        self.take_orders()


def _held(day: date, kind: str, qty: int, note: str, file: str, line: int, seq: int) -> _Event:
    note, _mark, receipt = note.partition(_RECEIPT_MARK)
    return _Event(day, PRIORITY[kind], seq, kind, qty, note, file, line, receipt)


def read(source: LegacySource, *, skip_invalid: bool = False) -> Plan:
    """Read the whole store and check every row; hold its stock rows for :meth:`Plan.fold`.

    Raises:
        AdoptInputError: as :func:`translate`.
    """
    out = Translation()
    known = master.skus(source, out, skip_invalid)
    book = OrderBook()
    book.read(source, out, skip_invalid)
    store = EventStore()
    explicit_sales: dict[str, set[date]] = defaultdict(set)
    for row in source.rows("transactions"):
        try:
            event = _ledger_event(row, 0)
        except AdoptInputError as exc:
            invalid(out, row, exc, skip_invalid)
            continue
        if event is None:
            out.findings.append(
                Finding(
                    "non-stock event",
                    row.file,
                    row.line,
                    row.get("sku"),
                    row_text(row),
                    _("no stock effect"),
                    _("kept in the import's audit record"),
                )
            )
            continue
        sku = row.get("sku")
        note = f"{event.note}{_RECEIPT_MARK}{event.receipt}" if event.receipt else event.note
        store.add(sku, event.day, event.kind, event.qty, note, event.file, event.line)
        if event.kind == "SALE":
            explicit_sales[sku].add(event.day)
    days = DayCells()
    for row in source.rows("sales"):
        try:
            day, sku, qty = days.cell(row, "date"), row.get("sku"), int_cell(row, "qty_sold")
        except AdoptInputError as exc:
            invalid(out, row, exc, skip_invalid)
            continue
        if day in explicit_sales.get(sku, ()):
            out.findings.append(
                Finding(
                    "sales row counted by an explicit SALE",
                    row.file,
                    row.line,
                    sku,
                    row_text(row),
                    _("ignored: the ledger holds a SALE that day"),
                    _("nothing"),
                )
            )
            continue
        if qty == 0:
            continue
        store.add(sku, day, "SALE", qty, "", row.file, row.line)
    calendar.promotions(source, out, known, skip_invalid)
    calendar.documents(source, out, skip_invalid)
    unknown = {sku for sku in store.skus() if sku not in known}
    for sku in sorted(unknown):
        out.skus.append({"sku": sku, "description": "", "active": False})
    return Plan(out, store, unknown, len(out.findings), book, source, skip_invalid)


def _ledger_event(row: LegacyRow, seq: int) -> _Event | None:
    kind = row.get("event").upper()
    if kind in NON_STOCK:
        return None
    if kind not in PRIORITY:
        raise AdoptInputError(
            _("unknown event {event!r}").format(event=row.get("event")),
            file=row.file,
            line=row.line,
            column="event",
        )
    if not row.get("sku"):
        raise AdoptInputError(_("empty SKU code"), file=row.file, line=row.line, column="sku")
    return _Event(
        date_cell(row, "date"),
        PRIORITY[kind],
        seq,
        kind,
        int_cell(row, "qty"),
        row.get("note"),
        row.file,
        row.line,
        row.get("receipt_date") if kind == "ORDER" else "",
    )


def _fold_sku(sku: str, events: Iterable[_Event], out: Translation, book: OrderBook) -> None:
    """Walk the legacy fold of one SKU and record what leaves our stock where its was.

    The legacy figures (``legacy``, ``legacy_order``) follow LEGACY.md's rules as they
    stand; ``on_hand`` is what the recorded events give here. Each finding states how much
    its row moved the difference between the two, so per SKU they add up to the
    difference of the report's stock table.
    """
    on_hand = legacy = legacy_order = 0
    counted: date | None = None
    for ev in events:
        out.last_date = ev.day if out.last_date is None else max(out.last_date, ev.day)
        before = on_hand - legacy
        start = len(out.findings)
        record = _recorder(out, sku, ev, book)
        if ev.kind == "SNAPSHOT":
            target = max(0, ev.qty)
            if counted == ev.day:
                if target != on_hand:
                    record("ADJUST", target - on_hand)
                change = f"ADJUST {target - on_hand:+d}" if target != on_hand else _("nothing")
                _note(out, ev, sku, "second SNAPSHOT of a day", f"on_hand := {ev.qty}", change)
            else:
                record("SNAPSHOT", target)
                if ev.qty < 0:
                    _note(out, ev, sku, "negative SNAPSHOT", f"on_hand := {ev.qty}", "SNAPSHOT 0")
            counted = ev.day
            on_hand, legacy = target, ev.qty
            closed = book.snapshot(sku, ev.day, f"{ev.file}:{ev.line}")
            if legacy_order > 0 or closed:
                _note(
                    out,
                    ev,
                    sku,
                    "SNAPSHOT zeroed open orders",
                    f"on_order {legacy_order} -> 0",
                    _("SNAPSHOT; {orders} order(s) closed, {qty} units").format(
                        orders=len(closed), qty=sum(o.closed_qty for o in closed)
                    ),
                )
            legacy_order = 0
        elif ev.kind == "ORDER":
            if ev.qty > 0:
                record("ORDER", ev.qty)
            else:
                _note(out, ev, sku, "order of no quantity", "on_order += q", _("nothing"))
            legacy_order += ev.qty
        elif ev.kind == "RECEIPT":
            if ev.qty > 0:
                record("RECEIPT", ev.qty)
                on_hand += ev.qty
            else:
                _note(out, ev, sku, "receipt of no quantity", "on_hand += q", _("nothing"))
            legacy += ev.qty
            legacy_order = max(0, legacy_order - ev.qty)
        elif ev.kind in ("SALE", "WASTE"):
            legacy = max(0, legacy - ev.qty)
            if ev.qty < 0:
                record("ADJUST", -ev.qty)
                added = f"on_hand += {-ev.qty}"
                _note(out, ev, sku, f"negative {ev.kind}", added, f"ADJUST +{-ev.qty}")
                on_hand -= ev.qty
            else:
                on_hand -= _demand(out, sku, ev, on_hand, record)
        elif ev.kind == "ADJUST":
            target = max(0, ev.qty)
            diff = target - on_hand
            if diff:
                record("ADJUST", diff)
            done = f"ADJUST {diff:+d}" if diff else _("nothing (no change)")
            _note(out, ev, sku, "absolute ADJUST", f"on_hand := {target}", done)
            on_hand = legacy = target
        elif ev.qty > 0:
            record("UNFULFILLED", ev.qty)
        else:
            _note(out, ev, sku, "unfulfilled of no quantity", "unfulfilled += q", _("nothing"))
        _difference(out, ev, sku, start, on_hand - legacy - before, (legacy, on_hand))
    out.legacy_stock[sku] = legacy
    out.our_stock[sku] = on_hand
    out.legacy_on_order[sku] = legacy_order
    out.our_on_order[sku] = book.on_order(sku)


def _demand(out: Translation, sku: str, ev: _Event, on_hand: int, record: Any) -> int:
    """A SALE or WASTE of ``ev.qty`` >= 0: what there was of it is recorded, a SALE's rest
    as UNFULFILLED demand; return the units taken from on hand."""
    done = min(ev.qty, on_hand)
    if done > 0:
        record(ev.kind, done)
    if done < ev.qty:
        rest = ev.qty - done
        if ev.kind == "SALE":
            record("UNFULFILLED", rest)
            what = f"SALE {done} + UNFULFILLED {rest}" if done else f"UNFULFILLED {rest}"
        else:
            what = f"WASTE {done}" if done else _("nothing")
        clamp = _("on_hand {on_hand} - {qty} clamped to 0").format(on_hand=on_hand, qty=ev.qty)
        _note(out, ev, sku, f"clamped {ev.kind}", clamp, what)
    return done


def _difference(
    out: Translation, ev: _Event, sku: str, start: int, moved: int, after: tuple[int, int]
) -> None:
    """Book ``moved`` (the change this row made to our on hand less the legacy one) on the
    row's first finding, or on a finding of its own when it had none."""
    if not moved:
        return
    if len(out.findings) > start:
        first = out.findings[start]
        out.findings[start] = replace(first, stock_difference=first.stock_difference + moved)
        return
    _note(out, ev, sku, "stock differs", f"on_hand {after[0]}", f"on_hand {after[1]}", moved)


def _recorder(out: Translation, sku: str, ev: _Event, book: OrderBook) -> Any:
    def record(kind: str, qty: int) -> None:
        out.events.append(Event(sku, kind, qty, ev.day, ev.note[:200] or None))
        if kind == "ORDER":
            book.order(sku, ev.day, qty, ev.note, ev.receipt)
        elif kind == "RECEIPT":
            book.receipt(sku, ev.day, qty, ev.note, f"{ev.file}-{ev.line}")

    return record


def _note(
    out: Translation,
    ev: _Event,
    sku: str,
    kind: str,
    legacy: str,
    recorded: str,
    difference: int = 0,
) -> None:
    out.findings.append(
        Finding(kind, ev.file, ev.line, sku, ev.text(sku), legacy, recorded, difference)
    )
