"""The translation of a legacy store into this ledger's events, row by row.

The legacy application folds its events per SKU sorted by (date, priority), ties in file
order, with ``sales.csv`` rows as implicit SALEs after the ledger's rows (see LEGACY.md). The
translation walks the same order with the same on-hand figure, so every event it records
leaves our stock where the old application's stock was; each row recorded differently from
how it stood becomes a :class:`Finding` (the rules are the table in docs/adopt.md).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import date
from typing import Any, NamedTuple

from inventory_core.adopt import master
from inventory_core.adopt.compact import DayCells, EventStore
from inventory_core.adopt.findings import (
    Event,
    Events,
    Finding,
    Translation,
    date_cell,
    int_cell,
    invalid,
    row_text,
)
from inventory_core.adopt.source import LegacyRow, LegacySource
from inventory_core.errors.adopt import AdoptInputError

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
    for _ in plan.fold():
        pass
    return plan.out


@dataclass(slots=True)
class Plan:
    """A store read and checked, its stock rows held per SKU, not yet folded."""

    out: Translation
    store: EventStore
    unknown: set[str]
    read_findings: int
    folded: int = 0
    """Held rows folded so far (the progress of :meth:`fold`)."""

    def fold(self, chunk: int = 20_000) -> Iterator[list[Event]]:
        """Fold every SKU in code order; yield the recorded events, at least ``chunk`` at a
        time (the last batch may be smaller), as the fold goes.

        Every call starts over from what :func:`read` left (a unit of work that is retried
        folds again), so the findings, stock and events are those of one fold.
        """
        out = self.out
        del out.findings[self.read_findings :]
        out.legacy_stock.clear()
        out.our_stock.clear()
        out.last_date = None
        out.events = Events()
        self.folded = 0
        for sku in self.store.skus():
            held = [
                _Event(day, PRIORITY[kind], seq, kind, qty, note, file, line)
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
                        "kept the events of a SKU missing from skus",
                        "SKU created, inactive",
                    )
                )
            held.sort(key=lambda e: (e.day, e.priority, e.seq))
            _fold_sku(sku, held, out)
            self.folded += len(held)
            if out.events.held() >= chunk:
                yield out.events.drain()
        if out.events.held():
            yield out.events.drain()


def read(source: LegacySource, *, skip_invalid: bool = False) -> Plan:
    """Read the whole store and check every row; hold its stock rows for :meth:`Plan.fold`.

    Raises:
        AdoptInputError: as :func:`translate`.
    """
    out = Translation()
    known = master.skus(source, out, skip_invalid)
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
                    "no stock effect",
                    "kept in the import's audit record",
                )
            )
            continue
        sku = row.get("sku")
        store.add(sku, event.day, event.kind, event.qty, event.note, event.file, event.line)
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
                    "ignored: the ledger holds a SALE that day",
                    "nothing",
                )
            )
            continue
        if qty == 0:
            continue
        store.add(sku, day, "SALE", qty, "", row.file, row.line)
    _promotions(source, out, known, skip_invalid)
    unknown = {sku for sku in store.skus() if sku not in known}
    for sku in sorted(unknown):
        out.skus.append({"sku": sku, "description": "", "active": False})
    return Plan(out, store, unknown, len(out.findings))


def _ledger_event(row: LegacyRow, seq: int) -> _Event | None:
    kind = row.get("event").upper()
    if kind in NON_STOCK:
        return None
    if kind not in PRIORITY:
        raise AdoptInputError(
            f"unknown event {row.get('event')!r}", file=row.file, line=row.line, column="event"
        )
    if not row.get("sku"):
        raise AdoptInputError("empty SKU code", file=row.file, line=row.line, column="sku")
    return _Event(
        date_cell(row, "date"),
        PRIORITY[kind],
        seq,
        kind,
        int_cell(row, "qty"),
        row.get("note"),
        row.file,
        row.line,
    )


def _fold_sku(sku: str, events: Iterable[_Event], out: Translation) -> None:
    """Walk the legacy fold of one SKU and record what leaves our stock where its was."""
    on_hand = 0
    on_order = 0
    counted: date | None = None
    for ev in events:
        out.last_date = ev.day if out.last_date is None else max(out.last_date, ev.day)
        record = _recorder(out, sku, ev)
        if ev.kind == "SNAPSHOT" and counted == ev.day:
            target = max(0, ev.qty)
            if target != on_hand:
                record("ADJUST", target - on_hand)
            _note(
                out,
                ev,
                sku,
                "second SNAPSHOT of a day",
                f"on_hand := {target}",
                f"ADJUST {target - on_hand:+d}" if target != on_hand else "nothing",
            )
            on_hand = target
            on_order = 0
        elif ev.kind == "SNAPSHOT":
            counted = ev.day
            if ev.qty < 0:
                record("SNAPSHOT", 0)
                _note(out, ev, sku, "negative SNAPSHOT", "on_hand := max(0, q)?", "SNAPSHOT 0")
                on_hand = 0
            else:
                record("SNAPSHOT", ev.qty)
                on_hand = ev.qty
            if on_order > 0:
                _note(
                    out,
                    ev,
                    sku,
                    "SNAPSHOT zeroed open orders",
                    f"on_order {on_order} -> 0",
                    "SNAPSHOT; orders stay open here",
                )
            on_order = 0
        elif ev.kind == "ORDER":
            if ev.qty > 0:
                record("ORDER", ev.qty)
                on_order += ev.qty
            else:
                _note(out, ev, sku, "order of no quantity", "on_order += q", "nothing")
                on_order = max(0, on_order + ev.qty)
        elif ev.kind == "RECEIPT":
            if ev.qty > 0:
                record("RECEIPT", ev.qty)
                on_hand += ev.qty
                on_order = max(0, on_order - ev.qty)
            else:
                _note(out, ev, sku, "receipt of no quantity", "on_hand += q", "nothing")
        elif ev.kind in ("SALE", "WASTE"):
            if ev.qty < 0:
                record("ADJUST", -ev.qty)
                _note(
                    out,
                    ev,
                    sku,
                    f"negative {ev.kind}",
                    f"on_hand += {-ev.qty}",
                    f"ADJUST +{-ev.qty}",
                )
                on_hand -= ev.qty
                continue
            done = min(ev.qty, on_hand)
            if done > 0:
                record(ev.kind, done)
            if done < ev.qty:
                rest = ev.qty - done
                if ev.kind == "SALE":
                    record("UNFULFILLED", rest)
                    what = f"SALE {done} + UNFULFILLED {rest}" if done else f"UNFULFILLED {rest}"
                else:
                    what = f"WASTE {done}" if done else "nothing"
                _note(
                    out,
                    ev,
                    sku,
                    f"clamped {ev.kind}",
                    f"on_hand {on_hand} - {ev.qty} clamped to 0",
                    what,
                )
            on_hand -= done
        elif ev.kind == "ADJUST":
            target = max(0, ev.qty)
            diff = target - on_hand
            if diff:
                record("ADJUST", diff)
            _note(
                out,
                ev,
                sku,
                "absolute ADJUST",
                f"on_hand := {target}",
                f"ADJUST {diff:+d}" if diff else "nothing (no change)",
            )
            on_hand = target
        elif ev.qty > 0:
            record("UNFULFILLED", ev.qty)
        else:
            _note(out, ev, sku, "unfulfilled of no quantity", "unfulfilled += q", "nothing")
    out.legacy_stock[sku] = on_hand
    out.our_stock[sku] = on_hand


def _recorder(out: Translation, sku: str, ev: _Event) -> Any:
    def record(kind: str, qty: int) -> None:
        out.events.append(Event(sku, kind, qty, ev.day, ev.note[:200] or None))

    return record


def _note(out: Translation, ev: _Event, sku: str, kind: str, legacy: str, recorded: str) -> None:
    out.findings.append(Finding(kind, ev.file, ev.line, sku, ev.text(sku), legacy, recorded))


def _promotions(
    source: LegacySource, out: Translation, known: set[str], skip_invalid: bool
) -> None:
    """``promo_calendar`` rows of known SKUs with ``promo_flag`` set -> our promo calendar."""
    for row in source.rows("promo_calendar"):
        if row.get("promo_flag").lower() in ("0", "false", "no"):
            continue
        try:
            start, end = date_cell(row, "start_date"), date_cell(row, "end_date")
        except AdoptInputError as exc:
            invalid(out, row, exc, skip_invalid)
            continue
        sku = row.get("sku")
        if sku not in known or end < start:
            why = "SKU not in skus" if sku not in known else "ends before it starts"
            out.findings.append(
                Finding(
                    "promotion left out",
                    row.file,
                    row.line,
                    sku,
                    row_text(row),
                    "promotion",
                    f"nothing ({why})",
                )
            )
            continue
        store = row.get("store_id")
        out.promotions.append(
            {
                "sku": sku,
                "start_date": start,
                "end_date": end,
                "description": f"legacy store {store}" if store else "legacy",
            }
        )
