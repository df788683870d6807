"""What an import records and lists: its events, its findings, and the cells they come from.

A :class:`Finding` is a legacy row not copied as it stood; the cell readers turn a legacy
row's text into dates and whole quantities, or an :class:`AdoptInputError` naming the file,
line and column.
"""

from __future__ import annotations

import json
from array import array
from collections import defaultdict
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import date
from typing import Any, NamedTuple

from inventory_core.adopt.source import LegacyRow
from inventory_core.errors.adopt import AdoptInputError
from inventory_core.errors.i18n import N_
from inventory_core.errors.i18n import gettext as _

KINDS = (
    N_("non-stock event"),
    N_("sales row counted by an explicit SALE"),
    N_("unknown SKU"),
    N_("second SNAPSHOT of a day"),
    N_("negative SNAPSHOT"),
    N_("SNAPSHOT zeroed open orders"),
    N_("order of no quantity"),
    N_("receipt of no quantity"),
    N_("negative SALE"),
    N_("negative WASTE"),
    N_("clamped SALE"),
    N_("clamped WASTE"),
    N_("absolute ADJUST"),
    N_("unfulfilled of no quantity"),
    N_("stock differs"),
    N_("invalid"),
    N_("EAN not an EAN-13"),
    N_("promotion left out"),
    N_("document kept"),
    N_("order without ORDER"),
    N_("lot left out"),
    N_("lot trimmed to on hand"),
    N_("lots differ from on hand"),
)
"""Every kind of finding: a stable English key (report totals, ``--json``), shown in the
message language through :func:`kind_text`."""


def kind_text(kind: str) -> str:
    """A finding kind in the current message language."""
    return _(kind)


class Event(NamedTuple):
    """One event to record (the fields of :class:`~inventory_core.ledger.inputs.EventIn`)."""

    sku: str
    event: str
    qty: int
    date: date
    note: str | None


class Events:
    """The events a translation records, in fold order, held only until drained.

    ``append`` takes one :class:`~inventory_core.adopt.findings.Event`; ``len`` is how many
    were recorded in all, drained or not.
    """

    __slots__ = ("_count", "_held")

    def __init__(self) -> None:
        self._held: list[Event] = []
        self._count = 0

    def append(self, event: Event) -> None:
        """Record one event."""
        self._held.append(event)
        self._count += 1

    def held(self) -> int:
        """Events recorded and not yet drained."""
        return len(self._held)

    def drain(self) -> list[Event]:
        """The events recorded since the last drain, in order; they are no longer held."""
        held, self._held = self._held, []
        return held

    def __len__(self) -> int:
        return self._count

    def __bool__(self) -> bool:
        return self._count > 0


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


class Findings:
    """The findings of a translation, in order, each packed as the UTF-8 bytes of its JSON
    array (a store of millions of rows can have hundreds of thousands of findings: about
    170 bytes each here, against some 450 as objects). Iterating gives :class:`Finding`
    objects again; ``append``, ``len``, indexing, assigning one and ``del findings[n:]``
    work as on a list.
    """

    __slots__ = ("_data", "_ends")

    def __init__(self) -> None:
        self._data = bytearray()
        self._ends = array("Q")

    def append(self, finding: Finding) -> None:
        """Add one finding at the end."""
        f = finding
        fields = (f.kind, f.file, f.line, f.sku, f.legacy, f.legacy_effect, f.recorded)
        packed = json.dumps((*fields, f.stock_difference), ensure_ascii=False)
        self._data += packed.encode("utf-8", "surrogatepass")
        self._ends.append(len(self._data))

    def __len__(self) -> int:
        return len(self._ends)

    def __bool__(self) -> bool:
        return len(self._ends) > 0

    def _at(self, index: int) -> Finding:
        start = self._ends[index - 1] if index else 0
        text = self._data[start : self._ends[index]].decode("utf-8", "surrogatepass")
        return Finding(*json.loads(text))

    def __getitem__(self, index: int) -> Finding:
        if index < 0:
            index += len(self._ends)
        if not 0 <= index < len(self._ends):
            raise IndexError("finding index out of range")
        return self._at(index)

    def __iter__(self) -> Iterator[Finding]:
        for index in range(len(self._ends)):
            yield self._at(index)

    def __setitem__(self, index: int, finding: Finding) -> None:
        """Replace one finding; the ones after it are packed again (cheap near the end,
        where the fold amends the findings of the row it is folding)."""
        if index < 0:
            index += len(self._ends)
        if not 0 <= index < len(self._ends):
            raise IndexError("finding index out of range")
        after = [self._at(i) for i in range(index + 1, len(self._ends))]
        del self[index:]
        for f in (finding, *after):
            self.append(f)

    def __delitem__(self, index: slice) -> None:
        """Only ``del findings[n:]``: forget the findings from ``n`` on."""
        keep = index.start or 0
        if index.stop is not None or index.step is not None or keep < 0:
            raise TypeError("only del findings[n:] is supported")
        if keep < len(self._ends):
            del self._data[self._ends[keep - 1] if keep else 0 :]
            del self._ends[keep:]


@dataclass(slots=True)
class PlannedOrder:
    """An order to write: its ORDER event (``index`` among the recorded ORDER/RECEIPT
    events), what it ordered and received, and its closure if a SNAPSHOT closed it."""

    index: int
    sku: str
    day: date
    qty: int
    expected: date | None
    legacy_id: str | None
    received: int = 0
    closed: date | None = None
    reason: str = ""
    order_id: int | None = None
    """Its ``order_logs`` id, once written."""

    @property
    def closed_qty(self) -> int:
        """What its closure takes out of on_order (0 while it is open)."""
        return 0 if self.closed is None else self.qty - self.received

    @property
    def open(self) -> int:
        """What is still to arrive (0 once closed)."""
        return 0 if self.closed is not None else self.qty - self.received


@dataclass(slots=True)
class PlannedReceipt:
    """A RECEIPT event to link: its document and the orders it filled (order, units)."""

    index: int
    sku: str
    day: date
    qty: int
    document_id: str
    fills: list[tuple[PlannedOrder, int]] = field(default_factory=list)


@dataclass(slots=True)
class PlannedLot:
    """A legacy lot to write: the RECEIPT-or-count event it hangs on (found after the
    write by SKU and date), what the legacy row held and what fits in on hand."""

    sku: str
    legacy_id: str
    received: date
    expiry: date | None
    qty: int
    kept: int
    document_id: str | None


@dataclass(slots=True)
class Translation:
    """What an import records, and the report of every row it changed or left out."""

    skus: list[dict[str, Any]] = field(default_factory=list)
    events: Events = field(default_factory=lambda: Events())
    findings: Findings = field(default_factory=lambda: Findings())
    promotions: list[dict[str, Any]] = field(default_factory=list)
    lots: list[PlannedLot] = field(default_factory=list)
    documents: dict[str, Any] = field(default_factory=dict)
    """``settings.json`` and ``holidays.json`` as they stood, by file name."""
    legacy_stock: dict[str, int] = field(default_factory=dict)
    our_stock: dict[str, int] = field(default_factory=dict)
    legacy_on_order: dict[str, int] = field(default_factory=dict)
    our_on_order: dict[str, int] = field(default_factory=dict)
    last_date: date | None = None

    def totals(self) -> dict[str, int]:
        """Findings per kind."""
        counts: dict[str, int] = defaultdict(int)
        for finding in self.findings:
            counts[finding.kind] += 1
        return dict(sorted(counts.items()))


def row_text(row: LegacyRow) -> str:
    return ",".join(f"{k}={v}" for k, v in row.values.items())


def date_cell(row: LegacyRow, column: str) -> date:
    raw = row.get(column)
    try:
        return date.fromisoformat(raw[:10])
    except ValueError:
        raise AdoptInputError(
            _("{value!r} is not a date (YYYY-MM-DD)").format(value=raw),
            file=row.file,
            line=row.line,
            column=column,
        ) from None


def int_cell(row: LegacyRow, column: str) -> int:
    raw = row.get(column)
    if len(raw) < 10 and raw.isascii() and raw.isdigit():
        return int(raw)  # the common case, below the bound: no float round trip
    try:
        value = float(raw)
    except ValueError:
        raise AdoptInputError(
            _("{value!r} is not a number").format(value=raw),
            file=row.file,
            line=row.line,
            column=column,
        ) from None
    if value != int(value) or abs(value) > 10**9:
        raise AdoptInputError(
            _("{value!r} is not a whole quantity").format(value=raw),
            file=row.file,
            line=row.line,
            column=column,
        )
    return int(value)


def optional_int_cell(row: LegacyRow, column: str) -> int | None:
    return int_cell(row, column) if row.get(column) else None


def invalid(out: Translation, row: LegacyRow, exc: AdoptInputError, skip: bool) -> None:
    if not skip:
        raise exc
    out.findings.append(
        Finding(
            "invalid",
            row.file,
            row.line,
            row.get("sku"),
            row_text(row),
            _("unknown"),
            _("skipped: {detail} (column {column})").format(
                detail=exc.detail, column=exc.context.get("column")
            ),
        )
    )


__all__ = [
    "KINDS",
    "Event",
    "Events",
    "Finding",
    "Findings",
    "PlannedLot",
    "PlannedOrder",
    "PlannedReceipt",
    "Translation",
    "date_cell",
    "int_cell",
    "invalid",
    "kind_text",
    "optional_int_cell",
    "row_text",
]
