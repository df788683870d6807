"""End-of-day counts: a shop that counts the shelf at closing instead of scanning each sale.

The ledger expects ``expected`` units at the end of the day (on_hand from every event up to
and including that day). The shelf holds ``counted``. The difference is the day's story:

- ``counted <= expected``: the units went out. Without ``sold`` all of it is the day's SALE
  (with its ``sales`` row, demand history). With ``sold`` (the till's total, say) that much
  is the SALE and the rest is shrinkage, recorded as the shop chooses: a WASTE (default,
  it consumes lots FEFO like any decrease) or a negative ADJUST.
- ``counted > expected``: more is there than the ledger knows, so the surplus is a positive
  ADJUST, never a negative sale; a ``sold`` given too is still its SALE, and the ADJUST
  makes up the rest.

The events are dated the counted day with priority 2, and are written after the day's
existing events (a higher id), so on_hand at the end of the day is ``counted``. Every event
goes through :func:`inventory_core.ledger.events.record`, with its negative-stock check
(a backdated count that later events contradict is refused) and lots; the whole count, or
a whole shop's evening count, is one unit of work with one audit row.
"""

from __future__ import annotations

import enum
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Annotated, Any

import pydantic
from pydantic import Field

from inventory_core.db.uow import UnitOfWork
from inventory_core.errors import NotFoundError, ValidationError
from inventory_core.errors.i18n import gettext as _
from inventory_core.ledger import events
from inventory_core.ledger.arguments import validate_code
from inventory_core.ledger.inputs import EventIn, Text, validation_error
from inventory_core.ledger.rules import MAX_QTY
from inventory_core.ledger.stock import on_hand_many
from inventory_core.models import EventType


class Shrinkage(enum.StrEnum):
    """How a count records units that went out but were not sold."""

    WASTE = "waste"
    ADJUST = "adjust"


@dataclass(frozen=True, slots=True)
class CountResult:
    """What one end-of-day count found and recorded (``adjusted`` is signed)."""

    sku: str
    date: date
    expected: int
    counted: int
    sold: int
    wasted: int
    adjusted: int
    transaction_ids: tuple[int, ...]


@dataclass(frozen=True, slots=True)
class CountIn:
    """One validated count line."""

    sku: str
    counted: int
    sold: int | None = None


def plan(
    expected: int, counted: int, sold: int | None, shrinkage: Shrinkage
) -> tuple[int, int, int]:
    """(sold, wasted, adjusted) that take on_hand from ``expected`` to ``counted``."""
    gone = expected - counted
    if sold is None:
        return (max(gone, 0), 0, max(-gone, 0))
    rest = gone - sold
    if rest > 0 and shrinkage == Shrinkage.WASTE:
        return (sold, rest, 0)
    return (sold, 0, -rest)


def count_day(
    uow: UnitOfWork, lines: list[CountIn], on: date, shrinkage: Shrinkage, note: str | None
) -> list[CountResult]:
    """Record the counts of ``on`` (one per SKU): the expected stock of every SKU in one
    statement, then the day's SALE, WASTE or ADJUST of each.

    Raises:
        NotFoundError: an unknown SKU.
        InsufficientStockError: a SALE or shrinkage that later events cannot afford.
    """
    codes = [line.sku for line in lines]
    expected = on_hand_many(uow, codes, on + timedelta(days=1))
    for code in codes:
        if code not in expected:
            raise NotFoundError(entity="SKU", key=code)
    results: list[CountResult] = []
    for line in lines:
        before = expected[line.sku]
        sold, wasted, adjusted = plan(before, line.counted, line.sold, shrinkage)
        tids: list[int] = []
        # An increase first, so that a SALE larger than expected never dips below zero.
        steps = [(EventType.ADJUST, adjusted)] if adjusted > 0 else []
        steps += [(EventType.SALE, sold), (EventType.WASTE, wasted)]
        if adjusted < 0:
            steps.append((EventType.ADJUST, adjusted))
        for kind, qty in steps:
            if abs(qty) > MAX_QTY:
                raise ValidationError(
                    _(
                        "the count of {sku} would record a {kind} of {qty} units, more than "
                        "one event may hold ({limit})"
                    ).format(sku=line.sku, kind=kind.value, qty=qty, limit=MAX_QTY),
                    field="counted" if line.sold is None else "sold",
                )
            if qty:
                ev = EventIn(sku=line.sku, event=kind, qty=qty, date=on, note=note)
                tids.append(events.record(uow, ev))
        results.append(
            CountResult(line.sku, on, before, line.counted, sold, wasted, adjusted, tuple(tids))
        )
    return results


def audit_details(results: list[CountResult], shrinkage: Shrinkage) -> dict[str, object]:
    """The audit row of a count: per SKU the expected, counted, sold, wasted and adjusted."""
    return {
        "date": results[0].date if results else None,
        "shrinkage": shrinkage.value,
        "counts": [
            {
                "sku": r.sku,
                "expected": r.expected,
                "counted": r.counted,
                "sold": r.sold,
                "wasted": r.wasted,
                "adjusted": r.adjusted,
                "transaction_ids": list(r.transaction_ids),
            }
            for r in results
        ],
    }


MAX_LINES = 100_000
"""Most SKUs one evening count may carry."""
_QTY = pydantic.TypeAdapter(Annotated[int, pydantic.Strict(), Field(ge=0, le=MAX_QTY)])


def _qty(value: Any, field: str) -> int:
    try:
        return int(_QTY.validate_python(value))
    except pydantic.ValidationError as exc:
        raise validation_error(exc, field) from exc


def validate_shrinkage(value: Any) -> Shrinkage:
    """``"waste"`` or ``"adjust"`` (or the :class:`Shrinkage` member), else ValidationError."""
    if isinstance(value, str) and value in {s.value for s in Shrinkage}:
        return Shrinkage(value)
    raise ValidationError(
        _("must be 'waste' or 'adjust', not {value}").format(value=f"{value!r:.40}"),
        field="shrinkage",
    )


def validate_lines(counts: Any, sold: Any) -> list[CountIn]:
    """The lines of a count: ``counts`` maps SKU to counted units, ``sold`` (optional) maps
    SKU to the units known sold; codes NFC, one line per SKU.

    Raises:
        ValidationError: naming ``counts``, ``counts[SKU]`` or ``sold[SKU]``.
    """
    if not isinstance(counts, Mapping) or not counts:
        raise ValidationError(
            _("must be a non-empty mapping of SKU to counted units"), field="counts"
        )
    if len(counts) > MAX_LINES:
        raise ValidationError(
            _("must hold at most {limit:,} SKUs").format(limit=MAX_LINES), field="counts"
        )
    if sold is not None and not isinstance(sold, Mapping):
        raise ValidationError(_("must be a mapping of SKU to units sold"), field="sold")
    known: dict[str, Any] = {}
    for raw, value in (sold or {}).items():
        known[validate_code(raw, f"sold[{raw!r:.40}]")] = value
    lines: list[CountIn] = []
    seen: set[str] = set()
    for raw, value in counts.items():
        code = validate_code(raw, f"counts[{raw!r:.40}]")
        if code in seen:
            raise ValidationError(
                _("names the same SKU twice (in another spelling)"), field=f"counts[{raw!r:.40}]"
            )
        seen.add(code)
        counted = _qty(value, f"counts[{code}]")
        units = None if code not in known else _qty(known.pop(code), f"sold[{code}]")
        lines.append(CountIn(code, counted, units))
    if known:
        extra = sorted(known)[0]
        raise ValidationError(_("names a SKU that is not counted"), field=f"sold[{extra}]")
    return lines


_NOTE = pydantic.TypeAdapter(Text | None)


def validate_note(value: Any) -> str | None:
    """The note the count's events carry (free text like any event's), or None."""
    try:
        note: str | None = _NOTE.validate_python(value)
    except pydantic.ValidationError as exc:
        raise validation_error(exc, "note") from exc
    return note
