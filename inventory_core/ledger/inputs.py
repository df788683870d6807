"""Pydantic models that validate every input before anything is written.

Validation happens up front, outside the unit of work, so a bad value can never leave a
half-written change behind; a failure becomes :class:`~inventory_core.errors.ValidationError`
naming the offending field (``qty``, ``lines[1].sku``, ``events[7].date``).
"""

from __future__ import annotations

import datetime as dt
import unicodedata
from dataclasses import dataclass
from datetime import date, datetime
from typing import Annotated, Any, TypeVar

import pydantic
from pydantic import AfterValidator, BaseModel, BeforeValidator, ConfigDict, Field

from inventory_core.errors import ValidationError
from inventory_core.models import EventType

MAX_QTY = 1_000_000_000
"""Largest quantity of one event: keeps every value inside PostgreSQL's 32-bit INTEGER."""

MIN_DATE = date(1900, 1, 1)
MAX_DATE = date(9999, 12, 30)


def _code(value: str) -> str:
    if not value:
        raise ValueError("must not be empty")
    if len(value) > 64:
        raise ValueError(f"must be at most 64 characters (got {len(value)})")
    if value != value.strip():
        raise ValueError("must not start or end with spaces")
    # Printable ASCII (the usual code) has none of these; only other text is looked at.
    printable_ascii = value.isascii() and value.isprintable()
    if not printable_ascii and any(
        unicodedata.category(ch) in ("Cc", "Cf", "Zl", "Zp") for ch in value
    ):
        raise ValueError("must not contain control characters")
    return value


def _real_date(value: Any) -> Any:
    # datetime is a subclass of date: accepting it would silently drop the time of day.
    if isinstance(value, datetime):
        raise ValueError("must be a date, not a datetime")
    return value


def _date_range(value: date) -> date:
    if not MIN_DATE <= value <= MAX_DATE:
        raise ValueError(f"must be between {MIN_DATE} and {MAX_DATE}")
    return value


def ean13_check_digit(first12: str) -> int:
    """The EAN-13 check digit of the first twelve digits (weights 1, 3, 1, 3...)."""
    total = sum(int(d) * (3 if i % 2 else 1) for i, d in enumerate(first12))
    return (10 - total % 10) % 10


def _ean13(value: str) -> str:
    if len(value) != 13 or not value.isascii() or not value.isdigit():
        raise ValueError("an EAN-13 has exactly 13 digits")
    if ean13_check_digit(value[:12]) != int(value[12]):
        raise ValueError(f"wrong check digit (expected {ean13_check_digit(value[:12])})")
    return value


Code = Annotated[str, pydantic.Strict(), AfterValidator(_code)]
"""A SKU code or document id: 1-64 characters, no control characters, no outer spaces."""
LedgerDate = Annotated[date, BeforeValidator(_real_date), AfterValidator(_date_range)]
Ean13 = Annotated[str, pydantic.Strict(), AfterValidator(_ean13)]
PositiveQty = Annotated[int, pydantic.Strict(), Field(gt=0, le=MAX_QTY)]
Text = Annotated[str, pydantic.Strict(), Field(max_length=500)]

_STRICT = ConfigDict(frozen=True, extra="forbid")


class SkuIn(BaseModel):
    """A new SKU's master data."""

    model_config = _STRICT

    sku: Code
    description: Annotated[str, pydantic.Strict(), Field(max_length=200)] = ""
    ean: Ean13 | None = None
    pack_size: Annotated[int, pydantic.Strict(), Field(ge=1, le=MAX_QTY)] = 1
    moq: Annotated[int, pydantic.Strict(), Field(ge=0, le=MAX_QTY)] = 0
    lead_time_days: Annotated[int, pydantic.Strict(), Field(ge=0, le=3650)] = 0
    active: pydantic.StrictBool = True


class SkuChanges(BaseModel):
    """The fields ``update_sku`` may change; only the ones given are written."""

    model_config = _STRICT

    description: Annotated[str, pydantic.Strict(), Field(max_length=200)] | None = None
    ean: Ean13 | None = None
    pack_size: Annotated[int, pydantic.Strict(), Field(ge=1, le=MAX_QTY)] | None = None
    moq: Annotated[int, pydantic.Strict(), Field(ge=0, le=MAX_QTY)] | None = None
    lead_time_days: Annotated[int, pydantic.Strict(), Field(ge=0, le=3650)] | None = None
    active: pydantic.StrictBool | None = None


class EventIn(BaseModel):
    """One ledger event, with the quantity sign its type demands (see DESIGN.md)."""

    model_config = _STRICT

    sku: Code
    event: EventType
    qty: Annotated[int, pydantic.Strict(), Field(ge=-MAX_QTY, le=MAX_QTY)]
    date: LedgerDate
    document_id: Code | None = None
    note: Text | None = None
    expiry: LedgerDate | None = None

    @pydantic.field_validator("qty")
    @classmethod
    def _sign(cls, qty: int, info: pydantic.ValidationInfo) -> int:
        event = info.data.get("event")
        if event is None:
            return qty
        if event == EventType.SNAPSHOT and qty < 0:
            raise ValueError("a SNAPSHOT counts stock: qty must be >= 0")
        if event == EventType.ADJUST and qty == 0:
            raise ValueError("an ADJUST must change stock: qty must not be 0")
        if event not in (EventType.SNAPSHOT, EventType.ADJUST) and qty <= 0:
            raise ValueError(f"a {event.value} needs qty > 0")
        return qty

    @pydantic.field_validator("expiry")
    @classmethod
    def _expiry_only_on_receipts(cls, expiry: Any, info: pydantic.ValidationInfo) -> Any:
        if expiry is not None and info.data.get("event") != EventType.RECEIPT:
            raise ValueError("only a RECEIPT creates a lot with an expiry")
        return expiry


@dataclass(frozen=True, slots=True)
class ReceiptLine:
    """One line of a delivery document: a SKU, a quantity, optionally an order and an expiry.

    A plain frozen dataclass so it can be written positionally
    (``ReceiptLine("BIRRA", 144, order_id=7)``); :func:`validate` checks it when received.
    """

    sku: str
    qty: int
    order_id: int | None = None
    expiry: date | None = None


class ReceiptLineIn(BaseModel):
    """A validated :class:`ReceiptLine`."""

    model_config = _STRICT

    sku: Code
    qty: PositiveQty
    order_id: Annotated[int, pydantic.Strict(), Field(gt=0)] | None = None
    expiry: LedgerDate | None = None


class ReceiptIn(BaseModel):
    """A whole delivery document."""

    model_config = _STRICT

    document_id: Code
    lines: Annotated[list[ReceiptLineIn], Field(min_length=1, max_length=10_000)]
    on: LedgerDate


M = TypeVar("M", bound=BaseModel)


def validate(model: type[M], prefix: str = "", **data: Any) -> M:
    """Build ``model`` from ``data`` or raise :class:`ValidationError` naming the field.

    Args:
        model: the pydantic model to build.
        prefix: put in front of the field name (``events`` gives ``events[3].qty``).
        **data: the raw values.

    Raises:
        ValidationError: with ``field`` set to the path of the first bad value.
    """
    try:
        return model.model_validate(data)
    except pydantic.ValidationError as exc:
        raise validation_error(exc, prefix) from exc


def validation_error(exc: pydantic.ValidationError, prefix: str = "") -> ValidationError:
    """Our :class:`ValidationError` for pydantic's, naming ``prefix`` + the field path."""
    first = exc.errors()[0]
    parts: list[str] = []
    for part in first["loc"]:
        if isinstance(part, int):
            parts.append(f"[{part}]")
        else:
            parts.append(("." if parts else "") + str(part))
    message = str(first["msg"]).removeprefix("Value error, ")
    field = "".join(parts)
    if prefix and field:
        field = prefix + ("" if field.startswith("[") else ".") + field
    else:
        field = prefix or field or "value"
    return ValidationError(message, field=field, value=_short(first.get("input")))


def _short(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= 80 else text[:77] + "..."


@dataclass(frozen=True, slots=True)
class PlannedEvent:
    """An event the library itself built valid (the data generator's output).

    The bulk path reads the same fields as from :class:`EventIn`, without a pydantic model
    per event: building 100,000 models costs more than inserting the rows. Input from
    callers always goes through :class:`EventIn`.
    """

    sku: str
    event: EventType
    qty: int
    date: dt.date
    document_id: str | None = None
    note: str | None = None
    expiry: dt.date | None = None


AnyEvent = EventIn | PlannedEvent
"""What the bulk path writes: validated input, or events the library planned itself."""


_EVENTS = pydantic.TypeAdapter(list[EventIn])
_CODE = pydantic.TypeAdapter(Code)
_DATE = pydantic.TypeAdapter(LedgerDate)


def validate_events(items: list[Any]) -> list[EventIn]:
    """Validate a batch in one pydantic call; errors name ``events[i].field``."""
    if all(isinstance(item, EventIn) for item in items):
        return list(items)
    raw = [item.model_dump() if isinstance(item, EventIn) else dict(item) for item in items]
    try:
        return _EVENTS.validate_python(raw)
    except pydantic.ValidationError as exc:
        raise validation_error(exc, "events") from exc


def validate_date(value: Any, field: str) -> date:
    """A ledger date, or :class:`ValidationError` naming ``field``."""
    try:
        return _DATE.validate_python(value)
    except pydantic.ValidationError as exc:
        raise validation_error(exc, field) from exc


def validate_code(value: Any, field: str = "sku") -> str:
    """A SKU code, or :class:`ValidationError` naming ``field``."""
    try:
        return _CODE.validate_python(value)
    except pydantic.ValidationError as exc:
        raise validation_error(exc, field) from exc


def line_values(line: Any) -> Any:
    """The fields of a :class:`ReceiptLine` as a mapping (other values pass through)."""
    if isinstance(line, ReceiptLine):
        return {"sku": line.sku, "qty": line.qty, "order_id": line.order_id, "expiry": line.expiry}
    return line
