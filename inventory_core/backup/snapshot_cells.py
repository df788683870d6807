"""Reading a snapshot's CSV text back into rows: exactly what the export writes, nothing else.

The export writes each value in one form (see :func:`~inventory_core.backup.csv_snapshot.
encode_cell`): integers as plain digits (``-7``, never ``07``, ``+7``, `` 7`` or ``7.0``),
floats as Python's shortest ``repr`` (a ``Numeric`` as its ``Decimal`` text), dates as
``YYYY-MM-DD``, booleans as ``1``/``0``, the empty cell for NULL, and text with one leading
``'`` exactly when it starts like a formula (or is empty). A cell in any other form did not
come from the export, so the import refuses it rather than guess: ``int("١٢")`` or
``date.fromisoformat("20260101")`` would accept what a person typed into a spreadsheet.
Values must also fit their column on the target (length, NOT NULL, integer width;
PostgreSQL stores no NUL in text), so that a bad cell is reported at its file, row and
column instead of as a driver error somewhere in a batch.

Rows are numbered as a spreadsheet shows them: the header is row 1, the first data row 2.
"""

from __future__ import annotations

import codecs
import csv
import io
import math
import re
import sys
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import date
from decimal import Decimal, InvalidOperation
from typing import Any

from sqlalchemy import (
    BigInteger,
    Boolean,
    Column,
    Date,
    Float,
    Integer,
    Numeric,
    SmallInteger,
    String,
    Table,
)

from inventory_core.backup.csv_snapshot import FORMULA_STARTS
from inventory_core.errors import (
    SnapshotCellError,
    SnapshotEncodingError,
    SnapshotHeaderError,
    SnapshotRowError,
)
from inventory_core.errors.i18n import gettext as _

NOWHERE = "-"
"""The row or column of a finding that has none (a whole file, a manifest key)."""

_INTEGER = re.compile(r"0|-?[1-9][0-9]*")
_DATE = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")
_SHOWN = 40
_DIGITS = 20  # len(str(-(2**63)))

INT64 = (-(2**63), 2**63 - 1)
_POSTGRES_WIDTH = {SmallInteger: (-(2**15), 2**15 - 1), Integer: (-(2**31), 2**31 - 1)}


def at(file: str, row: int | str = NOWHERE, column: str = NOWHERE) -> dict[str, Any]:
    """The context of a snapshot finding: which file, which row, which column."""
    return {"file": file, "row": row, "column": column}


class BadCell(ValueError):
    """A cell that is not a value of its column, as the export writes it."""


def show(cell: str) -> str:
    """A cell as the messages quote it: repr (escapes NUL, surrogates), cut at 40 chars."""
    return repr(cell[:_SHOWN]) + ("..." if len(cell) > _SHOWN else "")


def _integer(cell: str) -> int:
    if not _INTEGER.fullmatch(cell):
        raise BadCell(f"{show(cell)} is not an integer as the export writes it (plain digits)")
    if len(cell) > _DIGITS:
        # Wider than any column; int() of a very long one would even fail on its own
        # (Python limits int() to 4,300 digits).
        raise BadCell(f"{show(cell)} has {len(cell)} digits, wider than any integer column")
    return int(cell)


def _float(cell: str) -> float:
    try:
        value = float(cell)
    except ValueError:
        raise BadCell(f"{show(cell)} is not a number") from None
    if not math.isfinite(value) or repr(value) != cell:
        raise BadCell(f"{show(cell)} is not a finite number as the export writes it")
    return value


def _decimal(cell: str) -> Decimal:
    try:
        value = Decimal(cell)
    except InvalidOperation:
        raise BadCell(f"{show(cell)} is not a number") from None
    if not value.is_finite() or str(value) != cell:
        raise BadCell(f"{show(cell)} is not a finite number as the export writes it")
    return value


def _date(cell: str) -> date:
    try:
        if not _DATE.fullmatch(cell):
            raise ValueError
        return date.fromisoformat(cell)
    except ValueError:
        raise BadCell(f"{show(cell)} is not a date written YYYY-MM-DD") from None


def _boolean(cell: str) -> bool:
    if cell not in ("0", "1"):
        raise BadCell(f"{show(cell)} is not a boolean (1 or 0)")
    return cell == "1"


def _text(cell: str) -> str:
    if cell.startswith("'"):
        value = cell[1:]
        if value and not value.startswith(FORMULA_STARTS):
            raise BadCell(f"{show(cell)} has a leading ' the export would not have written")
        return value
    if cell.startswith(FORMULA_STARTS):
        raise BadCell(f"{show(cell)} starts like a formula but lacks the leading ' of the export")
    return cell


def decoder(column_type: Any) -> Callable[[str], Any]:
    """The function that reads a non-empty cell of a column of ``column_type``."""
    if isinstance(column_type, Boolean):
        return _boolean
    if isinstance(column_type, Integer):
        return _integer
    if isinstance(column_type, Float):
        return _float
    if isinstance(column_type, Numeric):
        return _decimal
    if isinstance(column_type, Date):
        return _date
    return _text


def decode_cell(cell: str, column_type: Any) -> Any:
    """The value a cell written by ``encode_cell`` stands for (the empty cell is NULL).

    Raises:
        BadCell: the cell is not in the one form the export writes for that type.
    """
    return None if cell == "" else decoder(column_type)(cell)


_FORMULA_FIRST = frozenset(start[0] for start in FORMULA_STARTS)


@dataclass(frozen=True)
class ColumnRule:
    """How one column's cells are read, and which values the target can hold.

    ``read(cell)`` returns the value or raises :class:`BadCell` with the reason, in words a
    user can act on. It is a function built once per column with its checks baked in,
    since it runs for every cell of the snapshot.
    """

    name: str
    read: Callable[[str], Any]

    @classmethod
    def of(cls, column: Column[Any], dialect: str) -> ColumnRule:
        kind = column.type
        nullable = bool(column.nullable)
        decode = decoder(kind)
        if decode is _text:
            length = kind.length if isinstance(kind, String) else None
            return cls(column.name, _text_reader(nullable, length, dialect == "postgresql"))
        bounds = None
        if isinstance(kind, Integer):
            bounds = INT64
            if dialect == "postgresql" and not isinstance(kind, BigInteger):
                bounds = _POSTGRES_WIDTH[
                    SmallInteger if isinstance(kind, SmallInteger) else Integer
                ]
        return cls(column.name, _value_reader(decode, nullable, bounds))


def _empty(nullable: bool) -> None:
    if not nullable:
        raise BadCell("the cell is empty (NULL) but the column requires a value")


def _value_reader(
    decode: Callable[[str], Any], nullable: bool, bounds: tuple[int, int] | None
) -> Callable[[str], Any]:
    low, high = bounds or (0, 0)

    def read(cell: str) -> Any:
        if not cell:
            return _empty(nullable)
        value = decode(cell)
        if bounds is not None and not low <= value <= high:
            raise BadCell(f"{show(cell)} is outside {low}..{high}")
        return value

    return read


def _text_reader(nullable: bool, length: int | None, no_nul: bool) -> Callable[[str], Any]:
    def read(cell: str) -> Any:
        if not cell:
            return _empty(nullable)
        value = _text(cell) if cell[0] in _FORMULA_FIRST else cell
        if length is not None and len(value) > length:
            raise BadCell(f"{len(value)} characters, the column holds at most {length}")
        if no_nul and "\x00" in value:
            raise BadCell(f"{show(cell)} holds a NUL character, which PostgreSQL cannot store")
        return value

    return read


_FIELD_LIMIT = threading.Lock()


def allow_fields_of(size: int) -> None:
    """Raise the csv module's field size limit to ``size`` if it is lower; never lower it.

    The limit (131,072 characters by default) is process-wide state of the csv module, so
    raising it only as far as the text at hand needs, under a lock, is the smallest change
    that lets a legitimate cell of any size through: a cell can never be longer than its
    file. Another thread that lowers it meanwhile makes this import fail with a typed error.
    """
    with _FIELD_LIMIT:
        if csv.field_size_limit() < size:
            csv.field_size_limit(min(size, sys.maxsize))


def _cell_of(columns: list[str], text: str) -> tuple[int, str]:
    """The (row, column) where ``text`` ends, for the export's CSV dialect."""
    row, cell, quoted = 1, 0, False
    for char in text:
        if char == '"':
            quoted = not quoted
        elif not quoted and char == ",":
            cell += 1
        elif not quoted and char == "\n":
            row, cell = row + 1, 0
    return row, columns[cell] if cell < len(columns) else f"(cell {cell + 1})"


def decode_text(payload: bytes, file: str, columns: list[str], path: str) -> str:
    """A file's bytes as text, or the error naming the cell that holds the first bad byte.

    Raises:
        SnapshotEncodingError: the bytes are not UTF-8 (a latin-1 or UTF-16 re-save, an
            encoded lone surrogate).
    """
    # The BOM is stripped here, not by the utf-8-sig codec: that codec reports the position
    # of a bad byte counted after the BOM it removed, three bytes short.
    bom = len(codecs.BOM_UTF8) if payload.startswith(codecs.BOM_UTF8) else 0
    body = memoryview(payload)[bom:]
    try:
        return str(body, "utf-8")
    except UnicodeDecodeError as exc:
        row, column = _cell_of(columns, str(body[: exc.start], "utf-8"))
        offset = bom + exc.start
        raise SnapshotEncodingError(
            _("byte {offset} ({payload}): {reason}").format(
                offset=offset, payload=repr(payload[offset : offset + 1]), reason=exc.reason
            ),
            path=path,
            **at(file, row, column),
        ) from exc


def read_rows(
    table: Table, file: str, payload: bytes, dialect: str, path: str
) -> Iterator[tuple[int, dict[str, Any]]]:
    """Each data row of ``table``'s file as ``(row number, {column: value})``.

    Raises:
        SnapshotEncodingError: the file is not UTF-8.
        SnapshotHeaderError: the first row does not name the table's columns, in order.
        SnapshotRowError: malformed CSV, or a row with fewer or more cells than the header.
        SnapshotCellError: a cell that is not a value of its column.
    """
    columns = [c.name for c in table.columns]
    text = decode_text(payload, file, columns, path)
    allow_fields_of(len(text) + 1)
    reader = csv.reader(io.StringIO(text, newline=""), strict=True)
    rules = [ColumnRule.of(column, dialect) for column in table.columns]
    number = 0
    try:
        for number, cells in enumerate(reader, start=1):
            if number == 1:
                _check_header(cells, columns, file, path)
                continue
            yield number, _values(cells, rules, file, number, path)
    except csv.Error as exc:
        raise SnapshotRowError(
            _("not CSV as the export writes it: {error}").format(error=exc),
            path=path,
            **at(file, number + 1),
        ) from exc
    if number == 0:
        raise SnapshotHeaderError(_("the file is empty"), path=path, **at(file, 1, columns[0]))


def _check_header(cells: list[str], columns: list[str], file: str, path: str) -> None:
    if cells == columns:
        return
    index = next(
        (i for i, (a, b) in enumerate(zip(cells, columns, strict=False)) if a != b),
        min(len(cells), len(columns)),
    )
    expected = columns[index] if index < len(columns) else f"(cell {index + 1})"
    found = show(cells[index]) if index < len(cells) else "nothing"
    raise SnapshotHeaderError(
        _("the header has {found} where the table has {expected} (columns: {value})").format(
            found=found, expected=repr(expected), value=", ".join(columns)
        ),
        path=path,
        **at(file, 1, expected),
    )


def _values(
    cells: list[str], rules: list[ColumnRule], file: str, number: int, path: str
) -> dict[str, Any]:
    if len(cells) != len(rules):
        index = min(len(cells), len(rules))
        column = rules[index].name if index < len(rules) else f"(cell {index + 1})"
        raise SnapshotRowError(
            _("the row has {count} cells, the header {count2}").format(
                count=len(cells), count2=len(rules)
            ),
            path=path,
            **at(file, number, column),
        )
    try:
        return {rule.name: rule.read(cell) for rule, cell in zip(rules, cells, strict=True)}
    except BadCell:
        # The fast path does not say which cell it refused: read them again, one by one.
        for rule, cell in zip(rules, cells, strict=True):
            try:
                rule.read(cell)
            except BadCell as exc:
                where = at(file, number, rule.name)
                raise SnapshotCellError(str(exc), path=path, **where) from None
        raise


__all__ = [
    "NOWHERE",
    "BadCell",
    "ColumnRule",
    "allow_fields_of",
    "at",
    "decode_cell",
    "decode_text",
    "read_rows",
    "show",
]
