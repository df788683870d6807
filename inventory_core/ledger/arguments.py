"""Checks of the plain arguments of the public methods, before anything is written.

Dates, SKU codes, row ids, limits, chunk sizes, users and reasons are each checked by one
pydantic adapter in strict mode (a date given as a string, a bool given as an int, a lone
surrogate: all refused); a batch of events is validated in one pydantic call. A failure is
a :class:`~inventory_core.errors.ValidationError` naming the argument (``sku``,
``events[7].date``, ``lines[1]``). The models these checks build live in
:mod:`inventory_core.ledger.inputs`.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date
from typing import Annotated, Any

import pydantic
from pydantic import AfterValidator, Field

from inventory_core.errors import ValidationError
from inventory_core.errors.i18n import N_
from inventory_core.errors.i18n import gettext as _
from inventory_core.ledger.inputs import (
    Code,
    EventIn,
    Id,
    LedgerDate,
    ReceiptLine,
    not_blank,
    over_total,
    validation_error,
)
from inventory_core.ledger.rules import (
    MAX_CHUNK,
    MAX_ID,
    MAX_QTY,
    REASON_LENGTH,
    USER_LENGTH,
    check_code,
    check_text,
)
from inventory_core.models import EventType

_EVENTS = pydantic.TypeAdapter(list[EventIn])
_CODE = pydantic.TypeAdapter(Code)
_DATE = pydantic.TypeAdapter(LedgerDate)
_ID = pydantic.TypeAdapter(Id)
_LIMIT = pydantic.TypeAdapter(Annotated[int, pydantic.Strict(), Field(ge=0, le=MAX_ID)])
_CHUNK = pydantic.TypeAdapter(Annotated[int, pydantic.Strict(), Field(ge=1, le=MAX_CHUNK)])


def _user_code(value: str) -> str:
    return check_code(value, length=USER_LENGTH)


_USER = pydantic.TypeAdapter(Annotated[str, pydantic.Strict(), AfterValidator(_user_code)])
_REASON = pydantic.TypeAdapter(
    Annotated[
        str,
        pydantic.Strict(),
        Field(max_length=REASON_LENGTH),
        AfterValidator(not_blank),
        AfterValidator(check_text),
    ]
)

_EVENT_HINT = N_("must be a mapping of event fields (sku, event, qty, date...) or an EventIn")


def validate_events(items: Any) -> list[EventIn]:
    """Validate a batch in one pydantic call; errors name ``events[i].field``.

    Raises:
        ValidationError: ``events`` is not an iterable of mappings or :class:`EventIn`, an
            event is bad, or the RECEIPT lines of one document and SKU add up past
            :data:`MAX_QTY` (its ``receiving_logs`` row would not fit).
    """
    if isinstance(items, str | bytes | Mapping) or not hasattr(items, "__iter__"):
        raise ValidationError(
            _("must be a list of events, not {type}").format(type=type(items).__name__),
            field="events",
        )
    batch = list(items)
    if not all(isinstance(item, EventIn) for item in batch):
        raw: list[Any] = []
        for index, item in enumerate(batch):
            if isinstance(item, EventIn):
                raw.append(item.model_dump())
            elif type(item) is dict:
                raw.append(item)  # validation reads it, never changes it
            elif isinstance(item, Mapping):
                raw.append(dict(item))
            else:
                raise ValidationError(
                    _(_EVENT_HINT) + _(", not {type}").format(type=type(item).__name__),
                    field=f"events[{index}]",
                )
        try:
            batch = _EVENTS.validate_python(raw)
        except pydantic.ValidationError as exc:
            raise validation_error(exc, "events") from exc
    receipts = (
        (f"{ev.document_id} / {ev.sku}", ev.qty)
        for ev in batch
        if ev.event == EventType.RECEIPT and ev.document_id is not None
    )
    over = over_total(receipts)
    if over is not None:
        raise ValidationError(
            _("the RECEIPT events of document and SKU {key} add up to more than {limit}").format(
                key=over, limit=f"{MAX_QTY:,}"
            ),
            field="events",
        )
    return batch


def _checked(adapter: pydantic.TypeAdapter[Any], value: Any, field: str) -> Any:
    try:
        return adapter.validate_python(value)
    except pydantic.ValidationError as exc:
        raise validation_error(exc, field) from exc


def validate_date(value: Any, field: str) -> date:
    """A ledger date (a ``datetime.date`` and nothing else), or :class:`ValidationError`."""
    return _checked(_DATE, value, field)  # type: ignore[no-any-return]


def validate_code(value: Any, field: str = "sku") -> str:
    """A SKU code in its NFC form, or :class:`ValidationError` naming ``field``."""
    return _checked(_CODE, value, field)  # type: ignore[no-any-return]


def validate_id(value: Any, field: str) -> int:
    """A row id (1 .. 2**31-1), or :class:`ValidationError` naming ``field``."""
    return _checked(_ID, value, field)  # type: ignore[no-any-return]


def validate_limit(value: Any, field: str = "limit") -> int:
    """A row count (0 .. 2**31-1), or :class:`ValidationError` naming ``field``."""
    return _checked(_LIMIT, value, field)  # type: ignore[no-any-return]


def validate_chunk_size(value: Any) -> int:
    """Events per unit of work in the bulk path (1 .. :data:`MAX_CHUNK`)."""
    return _checked(_CHUNK, value, "chunk_size")  # type: ignore[no-any-return]


def validate_user(value: Any) -> str:
    """Who an audit row names: an identifier of 1-64 visible characters, NFC."""
    return _checked(_USER, value, "user")  # type: ignore[no-any-return]


def validate_reason(value: Any) -> str:
    """The reason of a reversal: 1-500 characters of text, not only spaces."""
    return _checked(_REASON, value, "reason")  # type: ignore[no-any-return]


def validate_lines(lines: Any) -> list[Any]:
    """The lines of a document as mappings, or :class:`ValidationError` naming ``lines``."""
    if not isinstance(lines, list | tuple):
        raise ValidationError(
            _("must be a list of ReceiptLine, not {type}").format(type=type(lines).__name__),
            field="lines",
        )
    raw: list[Any] = []
    for index, line in enumerate(lines):
        if not isinstance(line, ReceiptLine | Mapping):
            raise ValidationError(
                _("must be a ReceiptLine, not {type}").format(type=type(line).__name__),
                field=f"lines[{index}]",
            )
        raw.append(line_values(line))
    return raw


def line_values(line: Any) -> Any:
    """The fields of a :class:`ReceiptLine` as a mapping (other values pass through)."""
    if isinstance(line, ReceiptLine):
        return {"sku": line.sku, "qty": line.qty, "order_id": line.order_id, "expiry": line.expiry}
    return dict(line) if isinstance(line, Mapping) else line
