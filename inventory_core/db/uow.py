"""The unit of work: the one place that begins, commits and rolls back.

A write unit of work holds this process's writer lock (one writer per database per
process, with a timeout and a diagnostic error), then begins with ``BEGIN IMMEDIATE`` on
SQLite so it waits for other processes' writers up front. A read unit of work begins with
a plain ``BEGIN`` and always rolls back. Whatever was not committed when the ``with`` block
ends is rolled back, and any database error leaving the block is translated into the
:mod:`inventory_core.errors` hierarchy.
"""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass
from types import TracebackType
from typing import TYPE_CHECKING, Any

from sqlalchemy import Connection, Engine, Executable, Result
from sqlalchemy.orm import Session

from inventory_core.db.engine import WRITE_OPTION
from inventory_core.errors import (
    DatabaseError,
    WriterTimeoutError,
    is_driver_error,
    translate,
    translate_db_errors,
)

if TYPE_CHECKING:
    from collections.abc import Callable


@dataclass
class WriterLock:
    """This process's single-writer lock for one database, with who holds it and since when."""

    timeout_s: float
    _lock: threading.Lock
    holder: str | None = None
    holder_ident: int | None = None
    since: float = 0.0

    @classmethod
    def create(cls, timeout_s: float) -> WriterLock:
        return cls(timeout_s=timeout_s, _lock=threading.Lock())

    def acquire(self) -> None:
        """Take the lock or raise :class:`WriterTimeoutError` after ``timeout_s``.

        Raises:
            DatabaseError: when the calling thread already holds it (a nested write unit of
                work would wait for itself forever).
            WriterTimeoutError: when another thread keeps it past the timeout.
        """
        me = threading.get_ident()
        if self.holder_ident == me:
            raise DatabaseError(
                "a write unit of work is already open in this thread; nest work inside it "
                "instead of opening a second one"
            )
        if not self._lock.acquire(timeout=self.timeout_s):
            held = time.monotonic() - self.since if self.since else 0.0
            raise WriterTimeoutError(
                timeout_s=self.timeout_s, holder=self.holder or "?", held_s=round(held, 2)
            )
        self.holder = threading.current_thread().name
        self.holder_ident = me
        self.since = time.monotonic()

    def release(self) -> None:
        self.holder = None
        self.holder_ident = None
        self.since = 0.0
        self._lock.release()


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
        context: dict[str, Any] | None = None,
        on_commit: Callable[[UnitOfWork], None] | None = None,
    ) -> None:
        self.engine = engine
        self.write = write
        self._writer_lock = writer_lock
        self._context = context or {}
        self._on_commit = on_commit
        self._committed = False
        self._locked = False
        self.after_commit: list[Callable[[], None]] = []
        self.info: dict[str, Any] = {}

    @property
    def dialect(self) -> str:
        """``sqlite`` or ``postgresql``."""
        return self.engine.dialect.name

    def __enter__(self) -> UnitOfWork:
        if self.write and self._writer_lock is not None:
            self._writer_lock.acquire()
            self._locked = True
        try:
            with translate_db_errors(**self._context):
                self.connection: Connection = self.engine.connect()
                if self.write:
                    options: dict[str, Any] = {WRITE_OPTION: True}
                    if self.dialect == "postgresql":
                        options["isolation_level"] = "SERIALIZABLE"
                    self.connection.execution_options(**options)
                self.session = Session(bind=self.connection, expire_on_commit=False)
                self.connection.begin()
        except BaseException:
            self._cleanup()
            raise
        return self

    def execute(self, statement: Executable, params: Any = None) -> Result[Any]:
        """Run a Core statement in this unit's transaction."""
        with translate_db_errors(**self._context):
            return self.connection.execute(statement, params)

    def flush(self) -> None:
        """Send pending ORM changes, translating constraint errors."""
        with translate_db_errors(**self._context):
            self.session.flush()

    def commit(self) -> None:
        """Commit the transaction; the only commit in the library."""
        if not self.write:
            raise DatabaseError("a read unit of work cannot commit")
        with translate_db_errors(**self._context):
            self.session.flush()
            self.connection.commit()
        self._committed = True
        if self._on_commit is not None:
            self._on_commit(self)
        callbacks, self.after_commit = self.after_commit, []
        for callback in callbacks:
            callback()

    def rollback(self) -> None:
        """Roll back whatever was not committed."""
        with translate_db_errors(**self._context):
            self.session.rollback()
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
        session = getattr(self, "session", None)
        connection = getattr(self, "connection", None)
        try:
            if session is not None:
                session.close()
            if connection is not None:
                connection.close()
        finally:
            if self._locked and self._writer_lock is not None:
                self._locked = False
                self._writer_lock.release()
