"""The legacy stock events of a store, held compactly per SKU until the fold walks them.

The legacy fold sorts each SKU's events by (date, priority, file order), so every row of a
store has to be read before the first SKU can be folded. A row is held as a few machine
integers in per-SKU :mod:`array` columns (the day's ordinal, the event kind, the quantity,
the file and line) and its note as UTF-8 bytes in one ``bytearray`` per SKU: 18 bytes a
row plus its note, where a tuple of Python objects took well over 200. A SKU's
rows become Python objects again only while that SKU is folded.

The events the fold records are not kept either: the importer takes them in chunks as the
fold goes (:meth:`inventory_core.adopt.findings.Events.drain`) and writes them.
"""

from __future__ import annotations

from array import array
from collections.abc import Iterator
from datetime import date

from inventory_core.adopt.findings import date_cell
from inventory_core.adopt.source import LegacyRow

HeldRow = tuple[date, str, int, str, str, int, int]
"""One held row as the fold reads it: day, kind, qty, note, file, line, and ``seq``, its
position among the SKU's rows (the file order the legacy fold keeps for ties)."""


class _Columns:
    """One SKU's rows, column by column, in the order they were read."""

    __slots__ = ("days", "ends", "files", "kinds", "lines", "notes", "qtys")

    def __init__(self) -> None:
        self.days = array("i")
        self.kinds = array("B")
        self.files = array("B")
        self.qtys = array("i")
        self.lines = array("i")
        self.ends = array("I")
        self.notes = bytearray()


class EventStore:
    """The stock rows of a legacy store per SKU (see the module docstring)."""

    def __init__(self) -> None:
        self._skus: dict[str, _Columns] = {}
        self._kinds: list[str] = []
        self._kind_codes: dict[str, int] = {}
        self._files: list[str] = []
        self._file_codes: dict[str, int] = {}
        self.rows = 0
        """Rows held in all."""

    def add(
        self, sku: str, day: date, kind: str, qty: int, note: str, file: str, line: int
    ) -> None:
        """Hold one row of ``sku`` (after the rows already held for it)."""
        columns = self._skus.get(sku)
        if columns is None:
            columns = self._skus[sku] = _Columns()
        kind_code = self._kind_codes.get(kind)
        if kind_code is None:
            kind_code = _code(kind, self._kinds, self._kind_codes)
        file_code = self._file_codes.get(file)
        if file_code is None:
            file_code = _code(file, self._files, self._file_codes)
        columns.days.append(day.toordinal())
        columns.kinds.append(kind_code)
        columns.files.append(file_code)
        columns.qtys.append(qty)
        columns.lines.append(line)
        if note:
            columns.notes += note.encode("utf-8", "surrogatepass")
        columns.ends.append(len(columns.notes))
        self.rows += 1

    def skus(self) -> list[str]:
        """The SKUs that have rows, sorted."""
        return sorted(self._skus)

    def count(self, sku: str) -> int:
        """How many rows ``sku`` has."""
        columns = self._skus.get(sku)
        return 0 if columns is None else len(columns.days)

    def rows_of(self, sku: str) -> Iterator[HeldRow]:
        """The rows of ``sku`` in the order they were read."""
        columns = self._skus.get(sku)
        if columns is None:
            return
        kinds, files, notes, fromordinal = self._kinds, self._files, columns.notes, date.fromordinal
        start = 0
        for seq, (day, kind, file, qty, line, end) in enumerate(
            zip(
                columns.days,
                columns.kinds,
                columns.files,
                columns.qtys,
                columns.lines,
                columns.ends,
                strict=True,
            )
        ):
            note = notes[start:end].decode("utf-8", "surrogatepass") if end > start else ""
            start = end
            yield fromordinal(day), kinds[kind], qty, note, files[file], line, seq

    def nbytes(self) -> int:
        """Bytes the held rows take in their arrays (the per-SKU objects aside)."""
        total = 0
        for c in self._skus.values():
            total += sum(a.itemsize * len(a) for a in (c.days, c.kinds, c.files, c.qtys))
            total += sum(a.itemsize * len(a) for a in (c.lines, c.ends)) + len(c.notes)
        return total


def _code(name: str, names: list[str], codes: dict[str, int]) -> int:
    code = codes.get(name)
    if code is None:
        if len(names) == 255:
            raise ValueError("more than 255 distinct kinds or files")
        code = codes[name] = len(names)
        names.append(name)
    return code


class DayCells:
    """``date_cell`` with the days already read remembered (a store has a few thousand
    distinct days and millions of rows)."""

    __slots__ = ("_seen",)

    def __init__(self) -> None:
        self._seen: dict[str, date] = {}

    def cell(self, row: LegacyRow, column: str) -> date:
        """The date in the cell (see :func:`~inventory_core.adopt.findings.date_cell`)."""
        raw = row.get(column)
        found = self._seen.get(raw)
        if found is None:
            found = self._seen[raw] = date_cell(row, column)
        return found
