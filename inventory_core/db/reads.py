"""Single-statement reads on SQLite: one autocommit connection per thread, no transaction.

A read unit of work (:meth:`Database.read`) costs SQLAlchemy's connect, pool checkout,
``BEGIN``, ``ROLLBACK`` and checkin before its first statement, several times what a
primary-key lookup costs. A read that is *one* ``SELECT`` needs none of it: in autocommit
mode SQLite runs a lone statement in its own read transaction, and in WAL mode that
transaction reads one snapshot (the last commit when the statement started) from its
first row to its last. The statement is as consistent as a ``BEGIN``/``ROLLBACK`` around
it would make it.

So :class:`ThreadConnections` keeps one plain ``sqlite3`` connection per thread, outside
SQLAlchemy's pool, and runs a :class:`~inventory_core.db.prepared.Prepared` statement on it
to the last row (a statement left half-read would keep its read transaction, and with it
the WAL, open). The connection gets the pool's PRAGMAs, except ``temp_store=FILE``: with
``MEMORY`` SQLite's sorter allocates every row on its own, with ``FILE`` it fills one block
and spills to a temporary file only past the cache size (64 MiB), which a per-SKU read never
comes near (docs/performance.md has the figures). The rules it keeps:

- **one thread, one connection**: a thread only ever uses the connection it opened; other
  threads only close it (:meth:`ThreadConnections.close`), which is why it is opened with
  ``check_same_thread=False``. A thread's connection is closed when the thread ends;
- **never across a fork**: a child process must not use, nor close, a connection its
  parent opened (SQLite's locks are per process);
  :class:`~inventory_core.db.connections.HotPath` calls :meth:`ThreadConnections.forget`
  in the child and keeps the parent's connections referenced;
- **closed with the engine**: :meth:`Database.close` and ``engine.dispose()`` close every
  connection first. A restore never replaces the file under them (it rewrites the content
  in one transaction, :mod:`inventory_core.backup.inplace`), so an open connection simply
  reads the restored content at its next statement.

Reads that need several statements keep using :meth:`Database.read`, whose ``BEGIN``
makes them share one snapshot.
"""

from __future__ import annotations

import contextlib
import os
import sqlite3
import threading
import weakref
from collections.abc import Mapping
from typing import Any, Protocol, TypeVar

from sqlalchemy import Engine, event

from inventory_core.config import Settings
from inventory_core.db.engine import apply_sqlite_pragmas
from inventory_core.db.prepared import Prepared
from inventory_core.errors import translate

R = TypeVar("R")


class Reader(Protocol):
    """What a read function needs: a dialect and one statement's rows.

    Both a :class:`~inventory_core.db.uow.UnitOfWork` (the statement joins its
    transaction) and a :class:`~inventory_core.db.database.Database` (the statement is
    its own snapshot) are readers, so one function serves a write's checks and a caller's
    one-statement read alike. A function that runs two statements must take a unit of
    work: through a ``Database`` they would read two different snapshots.
    """

    @property
    def dialect(self) -> str:
        """``sqlite`` or ``postgresql``."""
        ...

    def fetch(self, statement: Prepared[R], params: Mapping[str, Any] = ...) -> list[R]:
        """Every row of ``statement``, as its row class with typed values."""
        ...

    def fetch_one(self, statement: Prepared[R], params: Mapping[str, Any] = ...) -> R | None:
        """The first row of ``statement``, or None when it has none."""
        ...


class _Handle:
    """One thread's connection; a plain object so that a weak set can hold it.

    Only the thread's ``threading.local`` holds it strongly, so it goes when the thread
    ends, and it closes its connection then: a ``sqlite3.Connection`` that is merely
    garbage does not always give its file descriptor back (seen: 15 of 20 finished
    threads' descriptors still open). A forked child never closes its parent's.
    """

    __slots__ = ("__weakref__", "connection", "generation", "pid")

    def __init__(self, connection: sqlite3.Connection, generation: int) -> None:
        self.connection = connection
        self.generation = generation
        self.pid = os.getpid()

    def __del__(self) -> None:
        if self.pid == os.getpid():
            with contextlib.suppress(sqlite3.Error):
                self.connection.close()


class ThreadConnections:
    """One autocommit ``sqlite3`` connection per thread to the file of one engine.

    Args:
        engine: the database's SQLite engine. Connections open its file with the arguments
            its dialect derives from the URL, as the pool's do, and are all closed when
            the engine is disposed.
        settings: for the PRAGMAs (:func:`~inventory_core.db.engine.apply_sqlite_pragmas`).
        context: facts attached to translated errors (the file's path).
    """

    def __init__(self, engine: Engine, settings: Settings, context: Mapping[str, Any]) -> None:
        self._dialect = engine.dialect
        self._connect_args = engine.dialect.create_connect_args(engine.url)
        self._settings = settings
        self._context = dict(context)
        self._local = threading.local()
        self._lock = threading.Lock()
        self._open: weakref.WeakSet[_Handle] = weakref.WeakSet()
        self._generation = 0
        event.listen(engine, "engine_disposed", self._on_dispose)

    def fetch(self, statement: Prepared[R], params: Mapping[str, Any]) -> list[R]:
        """Every row of ``statement``, read as one snapshot on this thread's connection.

        Raises:
            InventoryError: the driver's error, translated.
        """
        handle: _Handle | None = getattr(self._local, "handle", None)
        if handle is None or handle.generation != self._generation:
            handle = self._connect()
        compiled = statement.compiled(self._dialect)
        try:
            cursor = handle.connection.execute(compiled.sql, compiled.parameters(params))
            try:
                return compiled.rows(cursor.fetchall(), cursor.description)
            finally:
                cursor.close()
        except sqlite3.Error as exc:
            raise translate(exc, **self._context) from exc

    def _connect(self) -> _Handle:
        args, params = self._connect_args
        kwargs: dict[str, Any] = {**params, "check_same_thread": False}
        kwargs.setdefault("timeout", self._settings.busy_timeout_ms / 1000.0)
        try:
            connection = sqlite3.connect(args[0], **kwargs)
            try:
                apply_sqlite_pragmas(connection, self._settings)
                connection.execute("PRAGMA temp_store=FILE")  # see the module docstring
            except BaseException:
                connection.close()
                raise
        except sqlite3.Error as exc:
            raise translate(exc, **self._context) from exc
        with self._lock:
            handle = _Handle(connection, self._generation)
            self._open.add(handle)
        self._local.handle = handle
        return handle

    def close(self) -> None:
        """Close every thread's connection; each thread opens a new one on its next read.

        Only this process's connections are closed (a forked child never closes its
        parent's). A thread in the middle of a read on another thread gets a translated
        error; closing is for shutdown and restore, when no reads should be running.
        """
        with self._lock:
            self._generation += 1
            handles, self._open = list(self._open), weakref.WeakSet()
        me = os.getpid()
        for handle in handles:
            if handle.pid == me:
                handle.connection.close()

    def _on_dispose(self, _engine: Engine) -> None:
        # Disposing the engine closes every thread's connection: see the module docstring.
        self.close()

    def handles(self) -> list[_Handle]:
        """The connections open now (what a fork must keep referenced in the child)."""
        with self._lock:
            return list(self._open)

    def forget(self) -> None:
        """In a forked child: drop every connection of the parent, unused and unclosed
        (the caller keeps them referenced); each thread opens its own on its next read."""
        self._lock = threading.Lock()
        self._open = weakref.WeakSet()
        self._local = threading.local()
        self._generation += 1


__all__ = ["Reader", "ThreadConnections"]
