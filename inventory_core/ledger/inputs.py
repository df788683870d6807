"""Pydantic models that validate every input before anything is written.

Validation happens up front, outside the unit of work, so a bad value can never leave a
half-written change behind; a failure becomes :class:`~inventory_core.errors.ValidationError`
naming the offending field (``qty``, ``lines[1].sku``, ``events[7].date``). The checks of
single arguments (a date, a code, an id, a batch of events) that use these models are in
:mod:`inventory_core.ledger.arguments`.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date
from typing import Annotated, Any, TypeVar

import pydantic
from pydantic import AfterValidator, BaseModel, BeforeValidator, ConfigDict, Field

from inventory_core.errors import ValidationError
from inventory_core.errors.i18n import N_
from inventory_core.errors.i18n import gettext as _
from inventory_core.ledger.rules import (
    DESCRIPTION_LENGTH,
    MAX_ID,
    MAX_QTY,
    MAX_SHELF_LIFE_DAYS,
    NOTE_LENGTH,
    check_attributes,
    check_code,
    check_date,
    check_date_range,
    check_levels,
    check_text,
)
from inventory_core.models import EventType


def ean13_check_digit(first12: str) -> int:
    """The EAN-13 check digit of the first twelve digits (weights 1, 3, 1, 3...)."""
    total = sum(int(d) * (3 if i % 2 else 1) for i, d in enumerate(first12))
    return (10 - total % 10) % 10


def _ean13(value: str) -> str:
    if len(value) != 13 or not value.isascii() or not value.isdigit():
        raise ValueError(_("an EAN-13 has exactly 13 digits"))
    if ean13_check_digit(value[:12]) != int(value[12]):
        raise ValueError(
            _("wrong check digit (expected {digit})").format(digit=ean13_check_digit(value[:12]))
        )
    return value


Code = Annotated[str, pydantic.Strict(), AfterValidator(check_code)]
"""A SKU code or document id: NFC, 1-64 visible characters, no outer spaces (see rules)."""
LedgerDate = Annotated[
    date, BeforeValidator(check_date), pydantic.Strict(), AfterValidator(check_date_range)
]
"""A ``datetime.date`` (never a string, a number or a datetime) from 1900 to 9999."""
Ean13 = Annotated[str, pydantic.Strict(), AfterValidator(_ean13)]
PositiveQty = Annotated[int, pydantic.Strict(), Field(gt=0, le=MAX_QTY)]
Id = Annotated[int, pydantic.Strict(), Field(ge=1, le=MAX_ID)]
"""A row id: what PostgreSQL's INTEGER (SERIAL) column can hold."""
Text = Annotated[str, pydantic.Strict(), Field(max_length=NOTE_LENGTH), AfterValidator(check_text)]
Description = Annotated[
    str, pydantic.Strict(), Field(max_length=DESCRIPTION_LENGTH), AfterValidator(check_text)
]

_STRICT = ConfigDict(frozen=True, extra="forbid")

Category = Annotated[str, pydantic.Strict(), AfterValidator(check_code)]
"""A SKU category: an identifier like a code (NFC, 1-64 visible characters)."""
Level = Annotated[int, pydantic.Strict(), Field(ge=0, le=MAX_QTY)]
"""A stock level of the planning fields (reorder point, safety stock, maximum)."""
ShelfLife = Annotated[int, pydantic.Strict(), Field(ge=1, le=MAX_SHELF_LIFE_DAYS)]
Attributes = Annotated[dict[str, Any], pydantic.Strict(), AfterValidator(check_attributes)]
"""A JSON object of an application's own per-SKU values (see rules.check_attributes)."""


class SkuIn(BaseModel):
    """A new SKU's master data."""

    model_config = _STRICT

    sku: Code
    description: Description = ""
    ean: Ean13 | None = None
    pack_size: Annotated[int, pydantic.Strict(), Field(ge=1, le=MAX_QTY)] = 1
    moq: Annotated[int, pydantic.Strict(), Field(ge=0, le=MAX_QTY)] = 0
    lead_time_days: Annotated[int, pydantic.Strict(), Field(ge=0, le=3650)] = 0
    active: pydantic.StrictBool = True
    category: Category | None = None
    shelf_life_days: ShelfLife | None = None
    reorder_point: Level | None = None
    safety_stock: Level | None = None
    max_stock: Level | None = None
    attributes: Attributes | None = None

    @pydantic.model_validator(mode="after")
    def _levels(self) -> SkuIn:
        check_levels(self.reorder_point, self.max_stock)
        return self


class SkuChanges(BaseModel):
    """The fields ``update_sku`` may change; only the ones given are written.

    ``None`` is a value only for ``ean`` (no EAN); the other columns are NOT NULL, so a
    ``None`` given for them is refused here rather than by the database.
    """

    model_config = _STRICT

    description: Description | None = None
    ean: Ean13 | None = None
    pack_size: Annotated[int, pydantic.Strict(), Field(ge=1, le=MAX_QTY)] | None = None
    moq: Annotated[int, pydantic.Strict(), Field(ge=0, le=MAX_QTY)] | None = None
    lead_time_days: Annotated[int, pydantic.Strict(), Field(ge=0, le=3650)] | None = None
    active: pydantic.StrictBool | None = None
    category: Category | None = None
    shelf_life_days: ShelfLife | None = None
    reorder_point: Level | None = None
    safety_stock: Level | None = None
    max_stock: Level | None = None
    attributes: Attributes | None = None

    @pydantic.field_validator(
        "description", "pack_size", "moq", "lead_time_days", "active", mode="before"
    )
    @classmethod
    def _not_none(cls, value: Any) -> Any:
        if value is None:
            raise ValueError(_("must not be None (leave it out to keep the current value)"))
        return value


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
            raise ValueError(_("a SNAPSHOT counts stock: qty must be >= 0"))
        if event == EventType.ADJUST and qty == 0:
            raise ValueError(_("an ADJUST must change stock: qty must not be 0"))
        if event not in (EventType.SNAPSHOT, EventType.ADJUST) and qty <= 0:
            raise ValueError(_("a {event} needs qty > 0").format(event=event.value))
        return qty

    @pydantic.field_validator("expiry")
    @classmethod
    def _expiry_only_on_receipts(cls, expiry: Any, info: pydantic.ValidationInfo) -> Any:
        if expiry is not None and info.data.get("event") != EventType.RECEIPT:
            raise ValueError(_("only a RECEIPT creates a lot with an expiry"))
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
    order_id: Id | None = None
    expiry: LedgerDate | None = None


class ReceiptIn(BaseModel):
    """A whole delivery document."""

    model_config = _STRICT

    document_id: Code
    lines: Annotated[list[ReceiptLineIn], Field(min_length=1, max_length=10_000)]
    on: LedgerDate

    @pydantic.field_validator("lines")
    @classmethod
    def _sku_totals(cls, lines: list[ReceiptLineIn]) -> list[ReceiptLineIn]:
        # receiving_logs keeps one row per SKU of the document with the total quantity.
        over = over_total((line.sku, line.qty) for line in lines)
        if over is not None:
            raise ValueError(
                _("the lines of {sku} add up to more than {limit} units").format(
                    sku=over, limit=f"{MAX_QTY:,}"
                )
            )
        return lines


def over_total(pairs: Iterable[tuple[str, int]]) -> str | None:
    """The first key whose quantities add up past :data:`MAX_QTY`, or None."""
    totals: dict[str, int] = defaultdict(int)
    for key, qty in pairs:
        totals[key] += qty
        if totals[key] > MAX_QTY:
            return str(key)
    return None


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


_PYDANTIC_MESSAGES = {
    "missing": N_("Field required"),
    "extra_forbidden": N_("Extra inputs are not permitted"),
    "int_type": N_("Input should be a valid integer"),
    "int_parsing": N_("Input should be a valid integer, unable to parse string as an integer"),
    "int_from_float": N_("Input should be a valid integer, got a number with a fractional part"),
    "string_type": N_("Input should be a valid string"),
    "bool_type": N_("Input should be a valid boolean"),
    "bool_parsing": N_("Input should be a valid boolean, unable to interpret input"),
    "date_type": N_("Input should be a valid date"),
    "enum": N_("Input should be {expected}"),
    "greater_than": N_("Input should be greater than {gt}"),
    "greater_than_equal": N_("Input should be greater than or equal to {ge}"),
    "less_than": N_("Input should be less than {lt}"),
    "less_than_equal": N_("Input should be less than or equal to {le}"),
    "frozen_instance": N_("Instance is frozen"),
}
"""pydantic's messages by error type, in our catalogue: its own text is English only."""


def _pydantic_message(error: Any) -> str:
    """The message of one pydantic error in the current language (ours, or pydantic's)."""
    template = _PYDANTIC_MESSAGES.get(str(error["type"]))
    if template is not None:
        context = {key: str(value) for key, value in (error.get("ctx") or {}).items()}
        english = template.format_map(context) if "{" in template else template
        if english == str(error["msg"]):
            return _(template).format_map(context)
    return str(error["msg"]).removeprefix("Value error, ")


def validation_error(exc: pydantic.ValidationError, prefix: str = "") -> ValidationError:
    """Our :class:`ValidationError` for pydantic's, naming ``prefix`` + the field path."""
    first = exc.errors()[0]
    parts: list[str] = []
    for part in first["loc"]:
        if isinstance(part, int):
            parts.append(f"[{part}]")
        else:
            parts.append(("." if parts else "") + str(part))
    message = _pydantic_message(first)
    if str(first["type"]).endswith("_type") and "input" in first:
        message += _(", not {type}").format(type=type(first["input"]).__name__)
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


def not_blank(value: str) -> str:
    """Refuse text that is empty or only spaces."""
    if not value.strip():
        raise ValueError(_("must not be blank"))
    return value
