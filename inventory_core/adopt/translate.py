"""The translation of a legacy store into this ledger's events, row by row.

The legacy application folds its events per SKU sorted by (date, priority), ties in file
order, with ``sales.csv`` rows as implicit SALEs after the ledger's rows (see LEGACY.md). The
translation walks the same order with the same on-hand figure, so every event it records
leaves our stock where the old application's stock was; each row recorded differently from
how it stood becomes a :class:`Finding` (the rules are the table in docs/adopt.md).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date
from typing import Any, NamedTuple

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

SKU_FIELDS = {
    "description": "description",
    "ean": "ean",
    "moq": "moq",
    "pack_size": "pack_size",
    "lead_time_days": "lead_time_days",
    "category": "category",
    "shelf_life_days": "shelf_life_days",
    "reorder_point": "reorder_point",
    "safety_stock": "safety_stock",
    "max_stock": "max_stock",
}
"""Legacy ``skus`` columns that are first-class fields here; every other column goes into
the SKU's ``attributes`` as it stood."""


@dataclass(frozen=True, slots=True)
class Finding:
    """A legacy row not copied as it stood: where, what, and what was recorded instead."""

    kind: str
    file: str
    line: int
    sku: str
    legacy: str
    legacy_effect: str
    recorded: str
    stock_difference: int = 0


@dataclass(slots=True)
class Translation:
    """What an import records, and the report of every row it changed or left out."""

    skus: list[dict[str, Any]] = field(default_factory=list)
    events: list[Event] = field(default_factory=list)
    findings: list[Finding] = field(default_factory=list)
    promotions: list[dict[str, Any]] = field(default_factory=list)
    legacy_stock: dict[str, int] = field(default_factory=dict)
    our_stock: dict[str, int] = field(default_factory=dict)
    last_date: date | None = None

    def totals(self) -> dict[str, int]:
        """Findings per kind."""
        counts: dict[str, int] = defaultdict(int)
        for finding in self.findings:
            counts[finding.kind] += 1
        return dict(sorted(counts.items()))


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


class Event(NamedTuple):
    """One event to record (the fields of :class:`~inventory_core.ledger.inputs.EventIn`)."""

    sku: str
    event: str
    qty: int
    date: date
    note: str | None


def _text(row: LegacyRow) -> str:
    return ",".join(f"{k}={v}" for k, v in row.values.items())


def _date(row: LegacyRow, column: str) -> date:
    raw = row.get(column)
    try:
        return date.fromisoformat(raw[:10])
    except ValueError:
        raise AdoptInputError(
            f"{raw!r} is not a date (YYYY-MM-DD)", file=row.file, line=row.line, column=column
        ) from None


def _int(row: LegacyRow, column: str) -> int:
    raw = row.get(column)
    try:
        value = float(raw)
    except ValueError:
        raise AdoptInputError(
            f"{raw!r} is not a number", file=row.file, line=row.line, column=column
        ) from None
    if value != int(value) or abs(value) > 10**9:
        raise AdoptInputError(
            f"{raw!r} is not a whole quantity", file=row.file, line=row.line, column=column
        )
    return int(value)


def _optional_int(row: LegacyRow, column: str) -> int | None:
    return _int(row, column) if row.get(column) else None


def translate(source: LegacySource, *, skip_invalid: bool = False) -> Translation:
    """Read the store and translate it (nothing is written anywhere).

    Raises:
        AdoptInputError: a row cannot be translated (unless ``skip_invalid``, which lists
            it as an ``invalid`` finding instead).
    """
    out = Translation()
    known = _skus(source, out, skip_invalid)
    per_sku: dict[str, list[_Event]] = defaultdict(list)
    explicit_sales: set[tuple[str, date]] = set()
    seq = 0
    for row in source.rows("transactions"):
        seq += 1
        try:
            event = _ledger_event(row, seq)
        except AdoptInputError as exc:
            _invalid(out, row, exc, skip_invalid)
            continue
        if event is None:
            out.findings.append(
                Finding(
                    "non-stock event",
                    row.file,
                    row.line,
                    row.get("sku"),
                    _text(row),
                    "no stock effect",
                    "kept in the import's audit record",
                )
            )
            continue
        sku = row.get("sku")
        per_sku[sku].append(event)
        if event.kind == "SALE":
            explicit_sales.add((sku, event.day))
    for row in source.rows("sales"):
        seq += 1
        try:
            day, sku, qty = _date(row, "date"), row.get("sku"), _int(row, "qty_sold")
        except AdoptInputError as exc:
            _invalid(out, row, exc, skip_invalid)
            continue
        if (sku, day) in explicit_sales:
            out.findings.append(
                Finding(
                    "sales row counted by an explicit SALE",
                    row.file,
                    row.line,
                    sku,
                    _text(row),
                    "ignored: the ledger holds a SALE that day",
                    "nothing",
                )
            )
            continue
        if qty == 0:
            continue
        per_sku[sku].append(_Event(day, PRIORITY["SALE"], seq, "SALE", qty, "", row.file, row.line))
    _promotions(source, out, known, skip_invalid)
    for sku in sorted(per_sku):  # a sorted copy of the keys: popping below is safe
        if sku not in known:
            first = per_sku[sku][0]
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
            out.skus.append({"sku": sku, "description": "", "active": False})
            known.add(sku)
        _fold_sku(sku, sorted(per_sku.pop(sku), key=lambda e: (e.day, e.priority, e.seq)), out)
    return out


def _invalid(out: Translation, row: LegacyRow, exc: AdoptInputError, skip: bool) -> None:
    if not skip:
        raise exc
    out.findings.append(
        Finding(
            "invalid",
            row.file,
            row.line,
            row.get("sku"),
            _text(row),
            "unknown",
            f"skipped: {exc.detail} (column {exc.context.get('column')})",
        )
    )


def _skus(source: LegacySource, out: Translation, skip_invalid: bool) -> set[str]:
    known: set[str] = set()
    for row in source.rows("skus"):
        code = row.get("sku")
        if not code:
            _invalid(
                out,
                row,
                AdoptInputError("empty SKU code", file=row.file, line=row.line, column="sku"),
                skip_invalid,
            )
            continue
        if code in known:
            _invalid(
                out,
                row,
                AdoptInputError(
                    f"duplicate SKU {code!r}", file=row.file, line=row.line, column="sku"
                ),
                skip_invalid,
            )
            continue
        known.add(code)
        out.skus.append(_sku(row, out))
    return known


def _sku(row: LegacyRow, out: Translation) -> dict[str, Any]:
    data: dict[str, Any] = {"sku": row.get("sku"), "description": row.get("description")}
    attributes: dict[str, str] = {}
    for column, value in row.values.items():
        if column == "sku":
            continue
        target = SKU_FIELDS.get(column)
        if target is None or target == "description":
            if target is None and value is not None and str(value).strip() != "":
                attributes[column] = str(value).strip()
            continue
        text = row.get(column)
        if not text:
            continue
        if target in ("ean", "category"):
            data[target] = text
            continue
        try:
            number = _int(row, column)
        except AdoptInputError:
            attributes[column] = text
            continue
        data[target] = number
    ean = data.get("ean")
    if ean is not None and not _valid_ean13(ean):
        out.findings.append(
            Finding(
                "EAN not an EAN-13",
                row.file,
                row.line,
                data["sku"],
                str(ean),
                "kept as it stood",
                "kept in attributes['legacy_ean'], no EAN",
            )
        )
        attributes["legacy_ean"] = str(ean)
        del data["ean"]
    if data.get("pack_size") is not None and data["pack_size"] < 1:
        attributes["legacy_pack_size"] = str(data.pop("pack_size"))
    for name in (
        "moq",
        "lead_time_days",
        "shelf_life_days",
        "reorder_point",
        "safety_stock",
        "max_stock",
    ):
        if data.get(name) is not None and data[name] < 0:
            attributes[f"legacy_{name}"] = str(data.pop(name))
    if attributes:
        data["attributes"] = attributes
    return data


def _valid_ean13(ean: str) -> bool:
    if len(ean) != 13 or not ean.isdigit():
        return False
    total = sum(int(d) * (3 if i % 2 else 1) for i, d in enumerate(ean[:12]))
    return (10 - total % 10) % 10 == int(ean[12])


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
        _date(row, "date"),
        PRIORITY[kind],
        seq,
        kind,
        _int(row, "qty"),
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
            start, end = _date(row, "start_date"), _date(row, "end_date")
        except AdoptInputError as exc:
            _invalid(out, row, exc, skip_invalid)
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
                    _text(row),
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
