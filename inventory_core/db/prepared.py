"""Core statements compiled once per dialect, whose rows come back named and typed.

A :class:`Prepared` statement keeps one source for the SQL, a Core construct, and the row
class its rows come back as (a :class:`typing.NamedTuple`, declared once next to the
statement). It is compiled once per dialect; :mod:`inventory_core.db.connections`
explains where it runs (the driver cursor of a unit of work's connection, or a thread's
autocommit read connection) and why that is faster than ``Connection.execute``.

What SQLAlchemy's result processing would do per row is done here from the column types
of the statement, once per dialect:

- parameters go to the driver as they are, except that dates become ISO text on SQLite
  (how the ``Date`` type stores them); every bound name must be given, except those whose
  value is fixed in the statement;
- result values are converted where the driver's value is not the Python type: on SQLite
  a ``Date`` column (ISO text) becomes a :class:`datetime.date` and a ``Boolean`` (0/1) a
  ``bool``; PostgreSQL's driver already returns both, but gives a ``SUM`` of integers as a
  ``Decimal``, so an ``Integer`` column becomes an ``int`` there. Every other column comes
  back as the driver gives it (``str``, ``None``);
- each row is an instance of the statement's row class, so callers read fields by name;
  a statement declared without one gets a named tuple of its column names.
"""

from __future__ import annotations

import operator
import threading
from collections import namedtuple
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date
from typing import Any, Generic, TypeVar, cast, overload

from sqlalchemy import Dialect
from sqlalchemy.sql import ClauseElement, sqltypes
from sqlalchemy.sql.compiler import SQLCompiler

R = TypeVar("R")

Decode = Callable[[Sequence[Any], Any], list[Any]]
"""Rows as the driver gives them, and the cursor's ``description`` -> the statement's rows."""


@dataclass(frozen=True, slots=True)
class Compiled:
    """One dialect's form of a :class:`Prepared` statement."""

    sql: str
    names: tuple[str, ...] | None
    """Bound names in driver order for a positional paramstyle (SQLite); None for named."""
    defaults: dict[str, Any]
    """Values fixed in the statement itself, used when the caller does not give them."""
    date_slots: tuple[int, ...]
    """Positions of parameters that may hold a date (typed Date, or untyped)."""
    decode: Decode
    pick: Callable[[Mapping[str, Any]], Sequence[Any]] | None = None
    """The values of ``names`` from a mapping of parameters, in order (positional only)."""
    returns: bool | None = None
    """Whether it gives rows: True (declared columns), False (a write without
    ``RETURNING``), None (a ``text()`` statement: ask the cursor). Known, the driver's
    ``description`` is not built (psycopg builds it anew on every access)."""

    def rows(self, raw: Sequence[Any], description: Any) -> list[Any]:
        """The driver's rows as instances of the statement's row class (``description``:
        the cursor's, which names the columns of a ``text()`` statement declared without a
        row class)."""
        return self.decode(raw, description)

    def parameters(self, params: Mapping[str, Any]) -> Any:
        """``params`` in the form the driver takes."""
        if self.defaults:
            params = {**self.defaults, **params}
        if self.names is None:
            return params
        values = list(self.pick(params)) if self.pick is not None else []
        for slot in self.date_slots:
            value = values[slot]
            if isinstance(value, date):
                # What SQLAlchemy's SQLite Date type stores: "YYYY-MM-DD".
                values[slot] = value.isoformat()
        return values


class Prepared(Generic[R]):
    """A Core statement with its row class, compiled once per dialect.

    Build it once at import time, next to the Core statement it wraps and the row class
    (``Prepared(select(...), Lot)``); compiling happens on first use for each dialect
    (``sqlite``, ``postgresql``). Run it with ``fetch``, ``fetch_one`` or ``execute_many``
    of a unit of work or a :class:`~inventory_core.db.database.Database`.

    Args:
        statement: the Core statement (``select``, ``insert ... returning``, ``text``).
        row: the class of its rows, built as ``row._make(values)`` (a ``NamedTuple``);
            its fields must match the statement's columns, in order.
    """

    __slots__ = ("_compiled", "_lock", "row", "statement")

    @overload
    def __init__(self: Prepared[Any], statement: ClauseElement) -> None: ...

    @overload
    def __init__(self, statement: ClauseElement, row: type[R]) -> None: ...

    def __init__(self, statement: ClauseElement, row: type[R] | None = None) -> None:
        self.statement = statement
        self.row = row
        self._compiled: dict[str, Compiled] = {}
        self._lock = threading.Lock()

    def compiled(self, dialect: Dialect) -> Compiled:
        """The statement compiled for ``dialect`` (once; later calls are a lookup)."""
        found = self._compiled.get(dialect.name)
        if found is None:
            with self._lock:
                found = self._compile(dialect)
                self._compiled[dialect.name] = found
        return found

    def _compile(self, dialect: Dialect) -> Compiled:
        compiled = cast(SQLCompiler, self.statement.compile(dialect=dialect))
        names = tuple(compiled.positiontup or ()) if compiled.positional else None
        # Literals the compiler turned into bound parameters (LIMIT 1, COALESCE(x, 0)).
        defaults = {k: v for k, v in compiled.params.items() if v is not None}
        # Columns an INSERT leaves out that have a Python-side default: a constant is filled
        # in here; a callable one (a timestamp) must be given by the caller.
        for column in compiled.insert_prefetch:
            default = column.default
            if default is not None and getattr(default, "is_scalar", False):
                defaults[column.key] = getattr(default, "arg", None)
        slots: tuple[int, ...] = ()
        if names is not None:
            # Only parameters typed Date (or not typed at all) can carry a date; checking
            # just those keeps a 100,000-row executemany from testing every value.
            maybe_date = (sqltypes.Date, sqltypes.NullType)
            slots = tuple(
                i
                for i, name in enumerate(names)
                if isinstance(compiled.binds[name].type, maybe_date)
            )
        columns = [(c.keyname, c.type) for c in compiled._result_columns]
        if self.row is None and not columns:
            decode = _by_description()
        else:
            decode = _decoder(self._row_class(columns), columns, dialect.name)
        pick = None if names is None else _getter(names)
        writes = compiled.isinsert or compiled.isupdate or compiled.isdelete
        returns = True if columns else (False if writes else None)
        return Compiled(compiled.string, names, defaults, slots, decode, pick, returns)

    def _row_class(self, columns: list[tuple[str, Any]]) -> Any:
        if self.row is None:
            return _named([name for name, _ in columns])
        fields = getattr(self.row, "_fields", None)
        if fields is None or (columns and len(fields) != len(columns)):
            raise TypeError(
                f"{self.row.__name__} must be a NamedTuple with one field per column "
                f"({', '.join(name for name, _ in columns)})"
            )
        return self.row


def _getter(names: tuple[str, ...]) -> Callable[[Mapping[str, Any]], Sequence[Any]]:
    """The values of ``names`` from a mapping, as a tuple (one C call per row)."""
    if len(names) == 1:
        name = names[0]
        return lambda params: (params[name],)
    if not names:
        return lambda params: ()
    return operator.itemgetter(*names)


def _iso_date(value: str) -> date:
    return date.fromisoformat(value)


def _converter(type_: Any, dialect: str) -> Callable[[Any], Any] | None:
    """What turns the driver's value of a column of ``type_`` into the Python type."""
    if dialect != "sqlite":
        # psycopg gives a SUM over integers as a Decimal (PostgreSQL's numeric).
        return int if isinstance(type_, sqltypes.Integer) else None
    if isinstance(type_, sqltypes.Date):
        return _iso_date
    if isinstance(type_, sqltypes.Boolean):
        return bool
    return None


def _named(names: Sequence[str]) -> Any:
    return namedtuple("Row", names, rename=True)


def _by_description() -> Decode:
    """Rows of a ``text()`` statement with neither declared columns nor a row class: named
    after the cursor's columns, values as the driver gives them."""
    classes: dict[tuple[str, ...], Any] = {}

    def decode(rows: Sequence[Any], description: Any) -> list[Any]:
        names = tuple(column[0] for column in description or ())
        row = classes.get(names)
        if row is None:
            row = classes[names] = _named(names)
        return list(map(row._make, rows))

    return decode


def _decoder(row: Any, columns: list[tuple[str, Any]], dialect: str) -> Decode:
    make = row._make
    converters = [
        (i, convert)
        for i, (_, type_) in enumerate(columns)
        if (convert := _converter(type_, dialect)) is not None
    ]
    if not converters:
        return lambda rows, _description: list(map(make, rows))

    def decode(rows: Sequence[Any], _description: Any) -> list[Any]:
        out = []
        for raw in rows:
            values = list(raw)
            for i, convert in converters:
                value = values[i]
                if value is not None:
                    values[i] = convert(value)
            out.append(make(values))
        return out

    return decode


__all__ = ["Compiled", "Prepared"]
