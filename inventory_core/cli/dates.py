"""Strict date options: ``YYYY-MM-DD`` and nothing that merely looks like a date.

The library takes a ``datetime.date`` only (see ``docs/ledger.md``, Input rules); the
command line is where text becomes a date, so it is parsed here, once, strictly: four-digit
year, two-digit month and day, a real calendar day. ``2026-2-1``, ``yesterday`` or an epoch
number are a usage error naming the option, not a guess.
"""

from __future__ import annotations

import re
from datetime import date

import typer

from inventory_core.audit.queries import SINCE_FORMAT, check_since
from inventory_core.errors import ValidationError
from inventory_core.errors.i18n import gettext as _

DATE_FORMAT = "YYYY-MM-DD"
_DATE = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")


def iso_date(value: str) -> date:
    """Parse a ``YYYY-MM-DD`` option value.

    Raises:
        typer.BadParameter: any other text, or a day the calendar does not have.
    """
    if not _DATE.fullmatch(value):
        raise typer.BadParameter(
            _("{value} is not a date in the form {format}.").format(
                value=repr(value), format=DATE_FORMAT
            )
        )
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise typer.BadParameter(
            _("{value} is not a real day ({format}).").format(value=repr(value), format=DATE_FORMAT)
        ) from None


def iso_since(value: str) -> str:
    """Parse an ``audit tail --since`` value (a UTC date or date and time).

    Raises:
        typer.BadParameter: anything but ``YYYY-MM-DD`` or ``YYYY-MM-DDTHH:MM[:SS]``.
    """
    try:
        return check_since(value)
    except ValidationError as exc:
        raise typer.BadParameter(
            _("{value} is not {format}.").format(value=repr(value), format=_(SINCE_FORMAT))
        ) from exc
