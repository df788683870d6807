"""The unit of work: the one place that begins, commits and rolls back.

A write unit of work holds this process's writer lock (one writer per database per
process, with a timeout and a diagnostic error), then begins with ``BEGIN IMMEDIATE`` on
SQLite so it waits for other processes' writers up front; on a SQLite file it uses the
database's one kept write connection (:mod:`inventory_core.db.connections`). A read unit of work
begins with a plain ``BEGIN`` and always rolls back. Whatever was not committed when the
``with`` block ends is rolled back, and any database error leaving the block is translated
into the :mod:`inventory_core.errors` hierarchy.

Inside the library a statement whose rows are read runs one way: :meth:`UnitOfWork.fetch`
(and its short forms :meth:`~UnitOfWork.fetch_one`, :meth:`~UnitOfWork.scalar`,
:meth:`~UnitOfWork.scalars`, :meth:`~UnitOfWork.stream`). Every row comes back named and
typed (dates as :class:`datetime.date`), whatever the statement is:

- a :class:`~inventory_core.db.prepared.Prepared` statement (the hot path: compiled once
  per dialect, run on the driver cursor, rows of its declared row class);
- a Core statement built for this call (a set-based read, ``INSERT ... RETURNING`` of a
  batch), run through SQLAlchemy, whose ``Row`` objects are named and typed by the
  statement's column types.

Writes whose result nobody reads run through :meth:`UnitOfWork.execute` (one statement,
built per call) and :meth:`UnitOfWork.execute_many` (a batch of a ``Prepared`` write);
``tests/test_layers.py`` checks that no library module outside ``db/`` reads what
``execute`` returns.
"""

from __future__ import annotations

from types import MappingProxyType, TracebackType
from typing import TYPE_CHECKING, Any, TypeVar, overload

from sqlalchemy import Connection, Engine, Executable, Result, Row
from sqlalchemy.orm import Session

from inventory_core.db import chain_head
from inventory_core.db.engine import WRITE_OPTION
from inventory_core.db.prepared import Prepared
from inventory_core.db.writer import WriterConnection
from inventory_core.errors import (
    DatabaseError,
    is_driver_error,
    translate,
    translate_db_errors,
)
from inventory_core.errors.i18n import gettext as _

if TYPE_CHECKING:
    from collections.abc import Callable, Generator, Iterable, Mapping, Sequence

    from inventory_core.db.connections import WriterLock

R = TypeVar("R")
NO_PARAMS: Mapping[str, Any] = MappingProxyType({})


class UnitOfWork:
    """One database transaction, for writing (``write=True``) or reading.

    Use ``with db.unit_of_work() as uow: ...; uow.commit()``. ``uow.session`` is an ORM
    session and ``uow.connection`` the Core connection under it (the fast path for
    set-based statements); both share the one transaction.
    """

    def __init__(
        self,
        engine: Engine,
        *,
        write: bool,
        writer_lock: WriterLock | None = None,
        writer_timeout_s: float | None = None,
        context: dict[str, Any] | None = None,
        writer: WriterConnection | None = None,
        row_locks: bool = False,
    ) -> None:
        self.engine = engine
        self.row_locks = write and row_locks and engine.dialect.name == "postgresql"
        """On PostgreSQL: this write unit runs at READ COMMITTED and its code locks the rows
        it depends on (the ledger writes, :mod:`inventory_core.ledger.locks`), instead of
        SERIALIZABLE holding the audit chain head (:mod:`.chain_head`). Always False on
        SQLite, whose write transaction already excludes every other writer."""
        self._writer = writer if write else None
        self.write = write
        self._writer_lock = writer_lock
        self._writer_timeout_s = writer_timeout_s
        self._context = context or {}
        self._committed = False
        self._locked = False
        self._pg_queued = False
        self.after_commit: list[Callable[[], None]] = []
        self.info: dict[str, Any] = {}
        self._session: Session | None = None
        self._driver: Any = None
        self.traced = False
        """Send :meth:`fetch` statements through SQLAlchemy, where connection events see them."""

    @property
    def dialect(self) -> str:
        """``sqlite`` or ``postgresql``."""
        return self.engine.dialect.name

    def __enter__(self) -> UnitOfWork:
        if self.write and self._writer_lock is not None:
            self._writer_lock.acquire(self._writer_timeout_s)
            self._locked = True
        try:
            with translate_db_errors(**self._context):
                if self._writer is not None:
                    self.connection: Connection = self._writer.take()
                else:
                    self.connection = self.engine.connect()
                    if self.write:
                        options: dict[str, Any] = {WRITE_OPTION: True}
                        if self.row_locks:
                            options["isolation_level"] = "READ COMMITTED"
                        elif self.dialect == "postgresql":
                            self._queue_pg_writer()
                            options["isolation_level"] = "SERIALIZABLE"
                        self.connection.execution_options(**options)
                self.connection.begin()
        except BaseException:
            self._cleanup()
            raise
        return self

    def _queue_pg_writer(self) -> None:
        """Take the audit chain head before the SERIALIZABLE snapshot (:mod:`.chain_head`)."""
        chain_head.hold(self.connection)
        self._pg_queued = True

    def _release_pg_writer(self, connection: Connection) -> None:
        self._pg_queued = False
        chain_head.release(connection)

    def lock_chain_head(self) -> tuple[str | None] | None:
        """Take the audit chain head until this unit ends (PostgreSQL; see
        :mod:`inventory_core.audit.trail`): last, for a READ COMMITTED unit, which also
        reads the head hash in the same round trip and returns ``(hash,)``; again, at no
        wait, for a SERIALIZABLE one (None: read the head yourself)."""
        with translate_db_errors(**self._context):
            return chain_head.take(self.connection, read_committed=self.row_locks)

    @property
    def session(self) -> Session:
        """The ORM session on this unit's connection, created on first use.

        The library's own statements go through :meth:`execute` (Core); building a Session
        for every unit would cost more than a primary-key lookup, so it is made lazily.
        """
        if self._session is None:
            self._session = Session(bind=self.connection, expire_on_commit=False)
        return self._session

    def execute(self, statement: Executable, params: Any = None) -> Result[Any]:
        """Run a write built for this call (``UPDATE``, ``DELETE``, DDL) in this transaction.

        The library never reads what this returns (its rows are read with :meth:`fetch`);
        an application's own code may, since it is SQLAlchemy's ``Result``.
        """
        with translate_db_errors(**self._context):
            return self.connection.execute(statement, params)

    @overload
    def fetch(self, statement: Prepared[R], params: Mapping[str, Any] = NO_PARAMS) -> list[R]: ...

    @overload
    def fetch(
        self,
        statement: Executable,
        params: Mapping[str, Any] | Sequence[Mapping[str, Any]] = NO_PARAMS,
    ) -> list[Row[Any]]: ...

    def fetch(self, statement: Any, params: Any = NO_PARAMS) -> list[Any]:
        """Every row of a statement, run in this unit's transaction, named and typed.

        A :class:`Prepared` statement runs on the driver cursor of the unit's connection,
        without SQLAlchemy's per-call execution context (see
        :mod:`inventory_core.db.connections`); its rows are the statement's row class with
        typed values. With :attr:`traced` set, its SQL goes through SQLAlchemy's driver-SQL
        path instead, so that connection events see it (``inventory-core profile`` captures
        the SQL it explains that way). A Core statement built for this call runs through
        SQLAlchemy (``params`` may then be a list of rows: an ``INSERT ... RETURNING`` of a
        batch); its rows are SQLAlchemy ``Row`` objects. A statement that returns no rows
        gives ``[]``.

        Raises:
            InventoryError: the driver's error, translated.
        """
        if not isinstance(statement, Prepared):
            with translate_db_errors(**self._context):
                result = self.connection.execute(statement, params or None)
                return list(result) if result.returns_rows else []
        compiled = statement.compiled(self.engine.dialect)
        values = compiled.parameters(params)
        if self.traced:
            with translate_db_errors(**self._context):
                result = self.connection.exec_driver_sql(
                    compiled.sql, tuple(values) if isinstance(values, list) else values
                )
                if not result.returns_rows:
                    return []
                names = list(result.keys())
                return compiled.rows(result.all(), [(name,) for name in names])
        try:
            cursor = self._driver_connection().cursor()
            try:
                cursor.execute(compiled.sql, values)
                if compiled.returns is not None:
                    return compiled.rows(cursor.fetchall(), None) if compiled.returns else []
                description = cursor.description
                if description is None:
                    return []
                return compiled.rows(cursor.fetchall(), description)
            finally:
                cursor.close()
        except Exception as exc:
            if is_driver_error(exc):
                raise translate(exc, **self._context) from exc
            raise

    @overload
    def fetch_one(
        self, statement: Prepared[R], params: Mapping[str, Any] = NO_PARAMS
    ) -> R | None: ...

    @overload
    def fetch_one(
        self, statement: Executable, params: Mapping[str, Any] = NO_PARAMS
    ) -> Row[Any] | None: ...

    def fetch_one(self, statement: Any, params: Mapping[str, Any] = NO_PARAMS) -> Any:
        """The first row of :meth:`fetch`, or None (an ``INSERT ... RETURNING``, a lookup)."""
        rows = self.fetch(statement, params)
        return rows[0] if rows else None

    def scalar(
        self, statement: Prepared[Any] | Executable, params: Mapping[str, Any] = NO_PARAMS
    ) -> Any:
        """The first column of the first row of :meth:`fetch`, or None when there is no row
        (a count, a ``MAX``, the id an ``INSERT ... RETURNING`` gave)."""
        row = self.fetch_one(statement, params)
        return None if row is None else row[0]

    def scalars(self, statement: Prepared[Any] | Executable, params: Any = NO_PARAMS) -> list[Any]:
        """The first column of every row of :meth:`fetch` (a list of ids, of SKU codes;
        ``params`` may be a list of rows for a Core ``INSERT ... RETURNING`` of a batch)."""
        return [row[0] for row in self.fetch(statement, params)]

    def stream(
        self, statement: Executable, batch: int, *, raw: bool = False
    ) -> Generator[Sequence[Any], None, None]:
        """The rows of a large read in lists of up to ``batch``, so that a whole table never
        sits in memory (CSV export, the audit walk, ledger coverage).

        Rows are SQLAlchemy ``Row`` objects, named and typed, unless ``raw``: then they are
        plain tuples of the values as stored, which is what a hash over stored values must
        read (on SQLite the driver's own cursor, skipping a ``Row`` per row: a third of the
        time of a million-row walk). Where the driver has server-side cursors (psycopg) the
        rows come from one; ``yield_per`` is set on the statement, not on the connection, so
        the unit's later statements do not go through server-side cursors too.
        """
        with translate_db_errors(**self._context):
            if raw and self.dialect == "sqlite":
                result = self.connection.execute(statement)
                try:
                    cursor = result.cursor
                    yield from iter(lambda: cursor.fetchmany(batch), [])
                finally:
                    result.close()
                return
            result = self.connection.execute(statement.execution_options(yield_per=batch))
            try:
                for part in result.partitions():
                    yield [tuple(row) for row in part] if raw else part
            finally:
                result.close()

    def execute_many(self, statement: Prepared[Any], rows: Iterable[Mapping[str, Any]]) -> None:
        """``executemany`` of a :class:`Prepared` write on the driver cursor (no rows back)."""
        compiled = statement.compiled(self.engine.dialect)
        try:
            self._driver_connection().cursor().executemany(
                compiled.sql, [compiled.parameters(row) for row in rows]
            )
        except Exception as exc:
            if is_driver_error(exc):
                raise translate(exc, **self._context) from exc
            raise

    def _driver_connection(self) -> Any:
        if self._driver is None:
            self._driver = self.connection.connection.driver_connection
        return self._driver

    def flush(self) -> None:
        """Send pending ORM changes, translating constraint errors."""
        with translate_db_errors(**self._context):
            self.session.flush()

    @property
    def committed(self) -> bool:
        """Whether :meth:`commit` has run (the retry commits a unit whose work did not)."""
        return self._committed

    def commit(self) -> None:
        """Commit the transaction; the only commit in the library."""
        if not self.write:
            raise DatabaseError(_("a read unit of work cannot commit"))
        with translate_db_errors(**self._context):
            if self._session is not None:
                self._session.flush()
            self.connection.commit()
        self._committed = True
        callbacks, self.after_commit = self.after_commit, []
        for callback in callbacks:
            callback()

    def rollback(self) -> None:
        """Roll back whatever was not committed."""
        with translate_db_errors(**self._context):
            if self._session is not None:
                self._session.rollback()
            if self.connection.in_transaction():
                self.connection.rollback()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        try:
            if not self._committed:
                try:
                    self.rollback()
                except Exception:
                    if exc is None:
                        raise
        finally:
            self._cleanup()
        if exc is not None and is_driver_error(exc):
            raise translate(exc, **self._context) from exc

    def _cleanup(self) -> None:
        session = self._session
        connection = getattr(self, "connection", None)
        try:
            if session is not None:
                session.close()
            if connection is not None:
                if self._pg_queued:
                    self._release_pg_writer(connection)
                if self._writer is not None:
                    self._writer.give_back(connection)
                else:
                    connection.close()
        finally:
            if self._locked and self._writer_lock is not None:
                self._locked = False
                self._writer_lock.release()
