"""Readers of a legacy store: a data folder of CSV files or an ``app.db`` (schema 1-7).

Both are read, never written: the folder's files are opened for reading only, and the
database with plain :mod:`sqlite3` through a ``mode=ro`` URI (``immutable=1`` as well when the
file is not writable, so SQLite does not even try to take a lock). Rows are streamed one at a
time as :class:`LegacyRow`, each naming its file and line (or ``rowid``).
"""

from __future__ import annotations

import csv
import hashlib
import json
import os
import sqlite3
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import quote

from inventory_core.errors.adopt import AdoptInputError
from inventory_core.errors.i18n import gettext as _

DATA_FILES = (
    "skus.csv",
    "transactions.csv",
    "sales.csv",
    "order_logs.csv",
    "receiving_logs.csv",
    "lots.csv",
    "promo_calendar.csv",
    "audit_log.csv",
    "kpi_daily.csv",
    "sku_scores_daily.csv",
    "event_uplift_rules.csv",
    "settings.json",
    "holidays.json",
)
"""The files of a data folder; anything else in it (backup copies) is listed and ignored."""

REQUIRED = ("skus", "transactions")
"""The tables a store cannot be adopted without."""


class Header:
    """The column names of a table, shared by all its rows, with each name's position."""

    __slots__ = ("index", "names")

    def __init__(self, names: list[str]) -> None:
        self.names = names
        self.index = {name: i for i, name in enumerate(names)}  # a repeated name: the last


class LegacyRow:
    """One row of the legacy store: where it is and its cells by column name.

    Built either from a mapping of cells (``LegacyRow(file, line, values)``) or, by the
    readers, from the row's cells and its table's :class:`Header` (no mapping is made per
    row unless :attr:`values` is read).
    """

    __slots__ = ("_cells", "_header", "_values", "file", "line")

    def __init__(
        self,
        file: str,
        line: int,
        values: dict[str, str] | None = None,
        *,
        header: Header | None = None,
        cells: list[str] | None = None,
    ) -> None:
        self.file = file
        self.line = line
        self._values = values
        self._header = header
        self._cells = cells

    @property
    def values(self) -> dict[str, str]:
        """The cells by column name."""
        if self._values is None:
            names = self._header.names if self._header is not None else []
            self._values = dict(zip(names, self._cells or [], strict=False))
        return self._values

    def get(self, column: str) -> str:
        """The cell, stripped; empty when the column is missing or NULL."""
        if self._values is None and self._header is not None and self._cells is not None:
            i = self._header.index.get(column)
            value = self._cells[i] if i is not None and i < len(self._cells) else None
        else:
            value = self.values.get(column)
        if value is None:
            return ""
        return value.strip() if type(value) is str else str(value).strip()

    def __repr__(self) -> str:
        return f"LegacyRow(file={self.file!r}, line={self.line!r}, values={self.values!r})"

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, LegacyRow):
            return NotImplemented
        return (self.file, self.line, self.values) == (other.file, other.line, other.values)

    __hash__ = None  # type: ignore[assignment]


@dataclass(slots=True)
class LegacySource:
    """An opened legacy store. Use as a context manager; iterate tables with :meth:`rows`."""

    path: Path
    kind: str
    sha256: str
    ignored: list[str] = field(default_factory=list)
    schema_version: int | None = None
    _connection: sqlite3.Connection | None = None

    def __enter__(self) -> LegacySource:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        """Close the database connection, if any."""
        if self._connection is not None:
            self._connection.close()
            self._connection = None

    def has(self, table: str) -> bool:
        """True when the store holds the table (a file of the folder, a table of the db)."""
        if self._connection is None:
            return (self.path / f"{table}.csv").is_file()
        found = self._connection.execute(
            "SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = ?", (table,)
        ).fetchone()
        return found is not None

    def rows(self, table: str) -> Iterator[LegacyRow]:
        """Stream the rows of ``table``, in file order (``rowid`` order for the db)."""
        if not self.has(table):
            return
        if self._connection is None:
            yield from _csv_rows(self.path / f"{table}.csv")
        else:
            yield from _db_rows(self._connection, table)

    def document(self, name: str) -> Any:
        """A JSON document (``settings``, ``holidays``), or None when the store has none."""
        if self._connection is None:
            file = self.path / f"{name}.json"
            if not file.is_file():
                return None
            text = _decode(file.read_bytes(), file.name)
            try:
                return json.loads(text)
            except json.JSONDecodeError as exc:
                raise AdoptInputError(
                    exc.msg, file=file.name, line=exc.lineno, column=str(exc.colno)
                ) from None
        if not self.has(name):
            return None
        cursor = self._connection.execute(f'SELECT * FROM "{name}" WHERE id = 1')
        row = cursor.fetchone()
        if row is None:
            return None
        names = [d[0] for d in cursor.description]
        payload = next((v for n, v in zip(names, row, strict=True) if n != "id"), None)
        return json.loads(payload) if isinstance(payload, str) else payload


def open_source(path: str | os.PathLike[str]) -> LegacySource:
    """Open a data folder or an ``app.db`` for reading.

    Raises:
        AdoptInputError: missing, neither a folder nor a SQLite file, or without the
            required tables (``ADO_010``).
    """
    where = Path(path).expanduser().resolve()
    if where.is_dir():
        source = LegacySource(where, "folder", _folder_sha256(where))
        source.ignored = sorted(
            p.name for p in where.iterdir() if p.is_file() and p.name not in DATA_FILES
        )
    elif where.is_file():
        source = LegacySource(where, "app.db", _file_sha256(where))
        source._connection = _connect(where)
        source.schema_version = _schema_version(source._connection, where.name)
    else:
        raise AdoptInputError(_("no such folder or file"), file=str(where), line=0, column="")
    for table in REQUIRED:
        if not source.has(table):
            source.close()
            raise AdoptInputError(
                _("the store has no {table} table").format(table=table),
                file=f"{table}.csv",
                line=0,
                column="",
            )
    return source


def _connect(path: Path) -> sqlite3.Connection:
    uri = f"file:{quote(str(path))}?mode=ro"
    if not os.access(path, os.W_OK):
        uri += "&immutable=1"
    try:
        connection = sqlite3.connect(uri, uri=True)
        connection.execute("SELECT count(*) FROM sqlite_master").fetchone()
    except sqlite3.DatabaseError as exc:
        raise AdoptInputError(
            _("not a SQLite database: {error}").format(error=exc), file=path.name, line=0, column=""
        ) from None
    connection.text_factory = _text_factory(path.name)
    return connection


def _text_factory(name: str) -> Any:
    def decode(raw: bytes) -> str:
        return _decode(raw, name)

    return decode


def _schema_version(connection: sqlite3.Connection, name: str) -> int | None:
    exists = connection.execute(
        "SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'schema_version'"
    ).fetchone()
    if exists is None:
        return None
    row = connection.execute("SELECT max(version) FROM schema_version").fetchone()
    version = row[0] if row else None
    if version is not None and not 1 <= int(version) <= 7:
        raise AdoptInputError(
            _("schema version {version} is not one of 1-7").format(version=version),
            file=name,
            line=0,
            column="version",
        )
    return None if version is None else int(version)


def _decode(raw: bytes, name: str, line: int = 0) -> str:
    try:
        return raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise AdoptInputError(
            _("not UTF-8 at byte {offset}").format(offset=exc.start),
            file=name,
            line=line,
            column="",
        ) from None


def _csv_rows(path: Path) -> Iterator[LegacyRow]:
    """The rows of a CSV file, decoded as a stream (a text file, not line by line: a store of
    millions of rows reads in a fraction of the time). Bytes that are not UTF-8 are found
    again line by line by :func:`_csv_rows_by_line`, which names their line."""
    done = 0
    try:
        with path.open(encoding="utf-8-sig", newline="") as text:
            for row in _rows_of(csv.reader(text), path.name):
                yield row
                done += 1
    except UnicodeDecodeError:
        for n, row in enumerate(_csv_rows_by_line(path)):
            if n >= done:
                yield row


def _csv_rows_by_line(path: Path) -> Iterator[LegacyRow]:
    with path.open("rb") as raw:
        lines = (_decode(b, path.name, n) for n, b in enumerate(raw, start=1))
        yield from _rows_of(csv.reader(lines), path.name)


def _rows_of(reader: Any, name: str) -> Iterator[LegacyRow]:
    header = next(reader, None)
    if header is None:
        return
    names = Header([h.strip() for h in header])
    width = len(names.names)
    for cells in reader:
        if not any(c.strip() for c in cells):
            continue
        if len(cells) > width:
            raise AdoptInputError(
                _("{cells} cells, the header has {names}").format(cells=len(cells), names=width),
                file=name,
                line=reader.line_num,
                column="",
            )
        yield LegacyRow(name, reader.line_num, header=names, cells=cells)


def _db_rows(connection: sqlite3.Connection, table: str) -> Iterator[LegacyRow]:
    cursor = connection.execute(f'SELECT rowid AS "__rowid__", * FROM "{table}" ORDER BY rowid')
    names = [d[0] for d in cursor.description]
    for row in cursor:
        values = dict(zip(names, row, strict=True))
        rowid = int(values.pop("__rowid__"))
        yield LegacyRow(table, rowid, {k: "" if v is None else str(v) for k, v in values.items()})


def _file_sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as raw:
        for block in iter(lambda: raw.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def _folder_sha256(folder: Path) -> str:
    digest = hashlib.sha256()
    for name in DATA_FILES:
        file = folder / name
        if file.is_file():
            digest.update(name.encode() + b"\0" + _file_sha256(file).encode() + b"\n")
    return digest.hexdigest()
