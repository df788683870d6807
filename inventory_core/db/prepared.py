"""Core statements compiled once per dialect and run on the driver's cursor.

``Connection.execute`` builds an execution context for every call (about 13 us here, ten
times what SQLite needs for a primary-key lookup). The hot path of a single write runs
about seven statements per unit of work, so that overhead alone used to cost more than
the database work. A :class:`Prepared` statement keeps one source for the SQL, a Core
construct, compiles it once per dialect, and runs it straight on the DBAPI cursor of the
unit of work's connection, inside the same transaction.

What SQLAlchemy would otherwise do per call is done here by convention instead:

- parameters go to the driver as they are, except that dates become ISO text on SQLite
  (how the ``Date`` type stores them); every bound name must be given, except those whose
  value is fixed in the statement;
- rows come back as the driver's tuples, so a date column is ISO text on SQLite and a
  :class:`datetime.date` on PostgreSQL (:func:`as_date` reads both);
- driver errors are translated into :mod:`inventory_core.errors` by the caller
  (:meth:`~inventory_core.db.uow.UnitOfWork.run_prepared`).
"""

from __future__ import annotations

import threading
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date
from typing import Any, cast

from sqlalchemy import Dialect
from sqlalchemy.sql import ClauseElement, sqltypes
from sqlalchemy.sql.compiler import SQLCompiler


@dataclass(frozen=True, slots=True)
class Compiled:
    """One dialect's form of a :class:`Prepared` statement."""

    sql: str
    names: tuple[str, ...] | None
    """Bound names in driver order for a positional paramstyle (SQLite); None for named."""
    defaults: dict[str, Any]
    """Values fixed in the statement itself, used when the caller does not give them."""
    date_slots: tuple[int, ...] = ()
    """Positions of parameters that may hold a date (typed Date, or untyped)."""

    def parameters(self, params: Mapping[str, Any]) -> Any:
        """``params`` in the form the driver takes."""
        if self.defaults:
            params = {**self.defaults, **params}
        if self.names is None:
            return params
        values = [params[name] for name in self.names]
        for slot in self.date_slots:
            value = values[slot]
            if isinstance(value, date):
                # What SQLAlchemy's SQLite Date type stores: "YYYY-MM-DD".
                values[slot] = value.isoformat()
        return values


class Prepared:
    """A Core statement with its compiled SQL cached per dialect.

    Build it once at import time, next to the Core statement it wraps; compiling happens on
    first use for each dialect (``sqlite``, ``postgresql``).
    """

    __slots__ = ("_compiled", "_lock", "statement")

    def __init__(self, statement: ClauseElement) -> None:
        self.statement = statement
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
        return Compiled(compiled.string, names, defaults, slots)


def as_date(value: Any) -> date:
    """A date column read through a :class:`Prepared` statement (ISO text on SQLite)."""
    return value if isinstance(value, date) else date.fromisoformat(value)


__all__ = ["Compiled", "Prepared", "as_date"]
