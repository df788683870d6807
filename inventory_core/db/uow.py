"""The unit of work: the one place that begins, commits and rolls back.

A write unit of work holds this process's writer lock (one writer per database per
process, with a timeout and a diagnostic error), then begins with ``BEGIN IMMEDIATE`` on
SQLite so it waits for other processes' writers up front; on a SQLite file it uses the
database's one kept write connection (:mod:`inventory_core.db.connections`). A read unit of work
begins with a plain ``BEGIN`` and always rolls back. Whatever was not committed when the
``with`` block ends is rolled back, and any database error leaving the block is translated
into the :mod:`inventory_core.errors` hierarchy.

Statements run through :meth:`UnitOfWork.fetch`, :meth:`UnitOfWork.fetch_one` and
:meth:`UnitOfWork.execute_many` (:class:`~inventory_core.db.prepared.Prepared`, on the
driver cursor, rows named and typed); :meth:`UnitOfWork.execute` runs a Core statement
built per call through SQLAlchemy (its rows are SQLAlchemy ``Row`` objects, named and typed
by SQLAlchemy).
"""

from __future__ import annotations

from types import MappingProxyType, TracebackType
from typing import TYPE_CHECKING, Any, TypeVar

from sqlalchemy import Connection, Engine, Executable, Result, text
from sqlalchemy import exc as sa_exc
from sqlalchemy.orm import Session

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
    from collections.abc import Callable, Iterable, Mapping

    from inventory_core.db.connections import WriterLock

R = TypeVar("R")
NO_PARAMS: Mapping[str, Any] = MappingProxyType({})

PG_WRITER_LOCK_KEY = 7_312_694_518
"""Session-level advisory-lock key that queues PostgreSQL write units, one at a time."""
PG_QUEUE_WAIT_MS = 2000
"""Longest wait in the PostgreSQL writer queue before going ahead unqueued."""
_PG_WRITER_LOCK = text("SELECT pg_advisory_lock(:key)")
_PG_WRITER_UNLOCK = text("SELECT pg_advisory_unlock(:key)")


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
    ) -> None:
        self.engine = engine
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
                        if self.dialect == "postgresql":
                            self._queue_pg_writer()
                            options["isolation_level"] = "SERIALIZABLE"
                        self.connection.execution_options(**options)
                self.connection.begin()
        except BaseException:
            self._cleanup()
            raise
        return self

    def _queue_pg_writer(self) -> None:
        """Queue behind the other PostgreSQL writers, for up to ``PG_QUEUE_WAIT_MS``.

        Every write appends to the one audit hash chain, so two SERIALIZABLE write units
        that overlap in time always conflict (each read the head the other replaced): with
        8 processes most attempts ended in 40001 and units failed after every retry. A
        transaction-level lock cannot help, since the SERIALIZABLE snapshot is taken when
        the statement that waits for it starts. A session-level advisory lock taken in its
        own short transaction queues the writers instead, and each one's snapshot then
        follows the previous commit; ``_cleanup`` releases it (the server does when the
        process dies).

        The queue only spares work: correctness still comes from SERIALIZABLE. A writer
        that waited ``PG_QUEUE_WAIT_MS`` (behind a long bulk import, or a writer that is
        itself waiting for this process) goes ahead unqueued, and a conflict then ends in
        a 40001 that :meth:`Database.run` retries, so the queue can never deadlock.
        """
        conn = self.connection
        conn.exec_driver_sql(f"SET LOCAL lock_timeout = {PG_QUEUE_WAIT_MS}")
        try:
            conn.execute(_PG_WRITER_LOCK, {"key": PG_WRITER_LOCK_KEY})
        except sa_exc.OperationalError as exc:
            if getattr(exc.orig, "sqlstate", None) != "55P03":
                raise
            conn.rollback()
            return
        conn.commit()
        self._pg_queued = True

    def _release_pg_writer(self, connection: Connection) -> None:
        self._pg_queued = False
        try:
            if connection.in_transaction():
                connection.rollback()
            connection.execute(_PG_WRITER_UNLOCK, {"key": PG_WRITER_LOCK_KEY})
            connection.commit()
        except Exception:
            # A broken connection must not go back to the pool holding the lock: dropping
            # it ends the server session, which releases the lock.
            connection.invalidate()

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
        """Run a Core statement built for this call, through SQLAlchemy, in this transaction.

        For statements the library builds per call (set-based reads, DDL, restore and
        import work) and for what needs a SQLAlchemy ``Result`` (``rowcount``, streaming);
        a statement the library runs often is a :class:`Prepared` one, run by :meth:`fetch`.
        """
        with translate_db_errors(**self._context):
            return self.connection.execute(statement, params)

    def fetch(self, statement: Prepared[R], params: Mapping[str, Any] = NO_PARAMS) -> list[R]:
        """Every row of a :class:`Prepared` statement, run in this unit's transaction.

        The statement runs on the driver cursor of the unit's connection, without
        SQLAlchemy's per-call execution context (see :mod:`inventory_core.db.connections`);
        rows are the statement's row class with typed values. A statement that returns no
        rows (an ``UPDATE``, an upsert) gives ``[]``. With :attr:`traced` set, the SQL goes
        through SQLAlchemy's driver-SQL path instead, so that connection events see it
        (``inventory-core profile`` captures the SQL it explains that way).

        Raises:
            InventoryError: the driver's error, translated.
        """
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

    def fetch_one(self, statement: Prepared[R], params: Mapping[str, Any] = NO_PARAMS) -> R | None:
        """The first row of :meth:`fetch`, or None (an ``INSERT ... RETURNING``, a lookup)."""
        rows = self.fetch(statement, params)
        return rows[0] if rows else None

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
