"""What a value must be to enter the ledger: the rules every input model shares.

A value is accepted only if both backends store it exactly as given. PostgreSQL's
``INTEGER`` is 32-bit and its ``VARCHAR(n)`` counts characters, SQLite stores 64-bit
integers and text of any length; the limits here are the smaller of the two, and string
lengths are read from the columns in :mod:`inventory_core.models`. Neither backend can store
a lone surrogate (``'\\ud800'``, not UTF-8), PostgreSQL cannot store NUL, so no string
holding one gets in.

SKU codes and document ids are identifiers a person reads back: they are normalised to
Unicode NFC (``"e\\u0301"`` and ``"é"`` are one code), and a code with an invisible or
look-alike character (a zero-width space, a bidi control, a Cyrillic ``А`` among Latin
letters, a fullwidth ``Ｂ``) is refused rather than stored as a second, identical-looking
SKU. Printable ASCII, the usual case, passes with two string checks.
"""

from __future__ import annotations

import json
import unicodedata
from datetime import date, datetime
from typing import Any, cast

from sqlalchemy import String, Table

from inventory_core.errors.i18n import N_
from inventory_core.errors.i18n import gettext as _
from inventory_core.models import Sku, Transaction, TransactionReversal


def _length(table: Any, column: str) -> int:
    length = cast(String, cast(Table, table).c[column].type).length
    assert length is not None
    return length


MAX_INT = 2**31 - 1
"""The largest value of PostgreSQL's ``INTEGER`` (ids, quantities, stock totals)."""
MAX_QTY = 1_000_000_000
"""Largest quantity of one event: keeps every value inside PostgreSQL's 32-bit INTEGER."""
MAX_ID = MAX_INT
"""Largest id: ids are ``INTEGER`` (``SERIAL``) on PostgreSQL."""
MAX_CHUNK = 1_000_000
"""Largest ``chunk_size`` of :meth:`Inventory.record_many` (events in one unit of work)."""

CODE_LENGTH = _length(Sku.__table__, "sku")
DESCRIPTION_LENGTH = _length(Sku.__table__, "description")
NOTE_LENGTH = _length(Transaction.__table__, "note")
REASON_LENGTH = _length(TransactionReversal.__table__, "reason")
USER_LENGTH = _length(TransactionReversal.__table__, "user")

MAX_SHELF_LIFE_DAYS = 36_500
"""Longest shelf life of a SKU: a hundred years (a received lot's default expiry)."""
ATTRIBUTES_LENGTH = 4_096
"""Largest ``attributes`` of a SKU, as canonical JSON text (characters)."""

MIN_DATE = date(1900, 1, 1)
MAX_DATE = date(9999, 12, 30)
"""One day before ``date.max``: the as-of queries look at the day after a date."""

_REFUSED_CATEGORIES = {
    "Cc": N_("control character"),
    "Cf": N_("invisible formatting character"),
    "Cs": N_("lone surrogate (not valid Unicode text)"),
    "Co": N_("private-use character"),
    "Cn": N_("unassigned character"),
    "Zl": N_("line separator"),
    "Zp": N_("paragraph separator"),
}
_INVISIBLE = frozenset(
    [
        *(0x034F, 0x115F, 0x1160, 0x17B4, 0x17B5, 0x180B, 0x180C, 0x180D, 0x180F, 0x2800),
        *(0x3164, 0xFFA0, 0xFFFC, 0xFFFD, *range(0xFE00, 0xFE10), *range(0xE0100, 0xE01F0)),
    ]
)
"""Characters outside the refused categories that print as nothing (fillers, variation
selectors, the blank braille pattern) or stand for broken text (U+FFFD)."""
_LOOK_ALIKE_SCRIPTS = ("LATIN", "GREEK", "CYRILLIC")
_SCRIPT_NAMES = (N_("Latin"), N_("Greek"), N_("Cyrillic"))  # shown by _visible
_TEXT_CONTROLS_ALLOWED = frozenset("\t\n\r")


_C0_NAMES = (
    *("NUL", "SOH", "STX", "ETX", "EOT", "ENQ", "ACK", "BEL", "BS", "HT", "LF", "VT"),
    *("FF", "CR", "SO", "SI", "DLE", "DC1", "DC2", "DC3", "DC4", "NAK", "SYN", "ETB"),
    *("CAN", "EM", "SUB", "ESC", "FS", "GS", "RS", "US"),
)


def describe(ch: str) -> str:
    """``U+200B ZERO WIDTH SPACE``: how a message names a character (never the character)."""
    point = ord(ch)
    if point < 32:
        name = _C0_NAMES[point]
    elif point == 0x7F:
        name = "DEL"
    elif 0xD800 <= point <= 0xDFFF:
        name = "SURROGATE"
    else:
        name = unicodedata.name(ch, "CONTROL" if 0x80 <= point <= 0x9F else "UNNAMED")
    return f"U+{point:04X} {name}"


def check_date(value: Any) -> Any:
    """Refuse anything but a ``datetime.date``, naming what was given instead.

    ``datetime`` is a subclass of ``date``: accepting it would silently drop the time of
    day, and which day a UTC or local time falls on is the caller's decision.
    """
    if isinstance(value, datetime):
        raise ValueError(_("must be a datetime.date, not a datetime (pass value.date())"))
    if not isinstance(value, date):
        raise ValueError(
            _("must be a datetime.date such as date(2026, 3, 12), not {type}").format(
                type=type(value).__name__
            )
        )
    return value


def check_date_range(value: date) -> date:
    """Refuse a date outside 1900-01-01 .. 9999-12-30."""
    if not MIN_DATE <= value <= MAX_DATE:
        raise ValueError(_("must be between {low} and {high}").format(low=MIN_DATE, high=MAX_DATE))
    return value


def _encodable(value: str) -> None:
    try:
        value.encode("utf-8")
    except UnicodeEncodeError as exc:
        raise ValueError(
            _("must be valid Unicode text ({char} at position {position})").format(
                char=describe(value[exc.start]), position=exc.start
            )
        ) from None


def check_text(value: str) -> str:
    """Free text (a note, a description, a reason): any printable text, tabs and newlines.

    Refused: NUL and the other control characters (PostgreSQL cannot store NUL, and the
    others would reach terminals through ``audit tail``), and lone surrogates.
    """
    if value.isascii() and value.isprintable():
        return value
    _encodable(value)
    for position, ch in enumerate(value):
        if unicodedata.category(ch) == "Cc" and ch not in _TEXT_CONTROLS_ALLOWED:
            raise ValueError(
                _("must not contain the control character {char} at position {position}").format(
                    char=describe(ch), position=position
                )
            )
    return value


def check_code(value: str, *, length: int = CODE_LENGTH) -> str:
    """An identifier (SKU code, document id, user): NFC, 1-``length`` characters, visible.

    Returns:
        The NFC form of ``value``, which is what gets stored and looked up.
    """
    if not (value.isascii() and value.isprintable()):
        _encodable(value)
        value = unicodedata.normalize("NFC", value)
        _visible(value)
    if not value:
        raise ValueError(_("must not be empty"))
    if len(value) > length:
        raise ValueError(
            _("must be at most {length} characters (got {count})").format(
                length=length, count=len(value)
            )
        )
    if value != value.strip():
        raise ValueError(_("must not start or end with spaces"))
    return value


def _visible(value: str) -> None:
    """Refuse characters that print as nothing or pass for another one."""
    scripts: dict[str, str] = {}
    for position, ch in enumerate(value):
        category = unicodedata.category(ch)
        where = _("at position {position}").format(position=position)
        if category in _REFUSED_CATEGORIES:
            kind = _(_REFUSED_CATEGORIES[category])
            raise ValueError(
                _("must not contain the {kind} {char} {where}").format(
                    kind=kind, char=describe(ch), where=where
                )
            )
        if ord(ch) in _INVISIBLE:
            raise ValueError(
                _("must not contain the invisible character {char} {where}").format(
                    char=describe(ch), where=where
                )
            )
        if category == "Zs" and ch != " ":
            raise ValueError(
                _("must not contain the space {char} {where}; use ' '").format(
                    char=describe(ch), where=where
                )
            )
        if position == 0 and category in ("Mn", "Me"):
            raise ValueError(
                _("must not start with the combining mark {char}").format(char=describe(ch))
            )
        if ord(ch) >= 128:
            folded = unicodedata.normalize("NFKC", ch)
            if folded.isascii() and folded.isprintable():
                raise ValueError(
                    _("must not contain {char} {where}; write {folded}").format(
                        char=describe(ch), where=where, folded=repr(folded)
                    )
                )
        if category.startswith("L"):
            script = unicodedata.name(ch, "").split(" ", 1)[0]
            if script in _LOOK_ALIKE_SCRIPTS:
                scripts.setdefault(script, ch)
    if len(scripts) > 1:
        names = _(" and ").join(_(name.title()) for name in sorted(scripts))
        shown = ", ".join(describe(ch) for ch in scripts.values())
        raise ValueError(
            _("must not mix {names} letters, which look alike ({shown})").format(
                names=names, shown=shown
            )
        )


def attributes_text(value: dict[str, Any]) -> str | None:
    """The canonical JSON text ``attributes`` stores (sorted keys, no spaces); None if empty."""
    if not value:
        return None
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False)


def check_attributes(value: dict[str, Any]) -> dict[str, Any]:
    """A JSON object: string keys, JSON values (no NaN or infinity), at most
    :data:`ATTRIBUTES_LENGTH` characters as canonical JSON, text free of control characters.

    Returns:
        The object as JSON reads it back (tuples become lists), so what is stored, audited
        and returned is one value.
    """
    try:
        text = json.dumps(value, sort_keys=True, separators=(",", ":"), allow_nan=False)
    except (TypeError, ValueError) as exc:
        raise ValueError(
            _("must be a JSON object of text, numbers, booleans ({reason})").format(reason=exc)
        ) from None
    if len(text) > ATTRIBUTES_LENGTH:
        raise ValueError(
            _("must be at most {limit:,} characters as JSON (got {length:,})").format(
                limit=ATTRIBUTES_LENGTH, length=len(text)
            )
        )
    _check_json_text(value)
    loaded: dict[str, Any] = json.loads(text)
    return loaded


def _check_json_text(value: Any) -> None:
    if isinstance(value, str):
        check_text(value)
    elif isinstance(value, dict):
        for key, item in value.items():
            check_text(key)
            _check_json_text(item)
    elif isinstance(value, list | tuple):
        for item in value:
            _check_json_text(item)


def check_levels(reorder_point: int | None, max_stock: int | None) -> None:
    """Refuse a maximum stock below the reorder point (when both are set)."""
    if reorder_point is not None and max_stock is not None and max_stock < reorder_point:
        raise ValueError(
            _("max_stock ({max_stock}) must not be below reorder_point ({reorder_point})").format(
                max_stock=max_stock, reorder_point=reorder_point
            )
        )
