"""The hot path of a :class:`~inventory_core.db.database.Database`: one object, one fork hook.

A ``sell`` on a SQLite file does about a dozen microseconds of database work. Run through
SQLAlchemy the plain way, the machinery around it cost several times that: an engine
connect, pool checkout and checkin and their events for every unit of work, an execution
context for every statement, a ``BEGIN``/``ROLLBACK`` bracket for every one-statement read.
:class:`HotPath` keeps what can be kept between calls, per handle, and is the only place
that knows how it survives threads, ``engine.dispose()`` and ``os.fork()``:

- **the writer lock** (:class:`WriterLock`): one per database per process, shared by every
  handle on the same file (their writers queue in Python rather than on SQLite's file
  lock), with a timeout and a diagnostic error;
- **the kept writer connection** (:class:`~inventory_core.db.writer.WriterConnection`): write
  units hold the writer lock, so on a SQLite file they take turns on one SQLAlchemy
  connection that stays checked out between them;
- **per-thread read connections** (:class:`~inventory_core.db.reads.ThreadConnections`): a
  read that is one ``SELECT`` runs on the thread's own autocommit ``sqlite3`` connection,
  outside SQLAlchemy's pool and without a unit of work; in WAL mode a lone statement is its
  own consistent snapshot;
- **prepared statements** (:class:`~inventory_core.db.prepared.Prepared`): a Core statement
  compiled once per dialect and run straight on the DBAPI cursor, its rows turned into the
  statement's named row class with typed values (dates as :class:`datetime.date`).

Running a statement is one interface, the same inside and outside a unit of work (see
:class:`~inventory_core.db.reads.Reader`)::

    rows = reader.fetch(STATEMENT, {"sku": sku})        # list of STATEMENT's rows
    row = reader.fetch_one(STATEMENT, {"sku": sku})     # the first row, or None
    uow.execute_many(STATEMENT, [{"sku": a}, ...])       # executemany, no rows

``reader`` is a :class:`~inventory_core.db.uow.UnitOfWork` (the statement joins its
transaction, on the driver cursor of its connection) or a ``Database`` (one statement,
one snapshot: on a SQLite file through this object's per-thread connections, elsewhere
in a read unit of work of its own). Rows are named tuples either way.

Fork safety: a forked child (pre-forking servers, multiprocessing's ``fork``) must neither
use nor close what its parent opened, since SQLite's locks are per process and closing a
shared connection would act on the parent's locks. One ``os.register_at_fork`` hook serves
every live handle: in the child it disposes the engine's pool without closing it, zeroes
the checkout count, forgets the kept writer connection and every thread's read connection
(they stay referenced from this module, so garbage collection never closes them either),
and replaces each writer lock with a free one (a thread that held it in the parent does
not exist in the child). The child then connects its own as it goes. The parent is left
as it was.

PostgreSQL and in-memory SQLite keep no connection between units (a SERIALIZABLE unit on
PostgreSQL holds the chain head as a session lock taken around it; an in-memory database is one
database per connection) and read single statements in a unit of work.
"""

from __future__ import annotations

import os
import threading
import time
import weakref
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Engine

from inventory_core.config import Settings
from inventory_core.db.engine import ConnectionTracker
from inventory_core.db.prepared import Prepared
from inventory_core.db.reads import ThreadConnections
from inventory_core.db.writer import WriterConnection
from inventory_core.errors import DatabaseError, WriterTimeoutError
from inventory_core.errors.i18n import gettext as _


@dataclass(eq=False)
class WriterLock:
    """This process's single-writer lock for one database, with who holds it and since when.

    Every :class:`Database` handle on the same file in one process shares one lock, so
    their writers queue in Python rather than on SQLite's file lock.
    """

    timeout_s: float
    _lock: threading.Lock
    holder: str | None = None
    holder_ident: int | None = None
    since: float = 0.0

    @classmethod
    def create(cls, timeout_s: float) -> WriterLock:
        return cls(timeout_s=timeout_s, _lock=threading.Lock())

    def _reset_after_fork(self) -> None:
        # The thread that held the lock in the parent does not exist in the child: a lock
        # copied in the held state would never be released.
        self._lock = threading.Lock()
        self.holder = None
        self.holder_ident = None
        self.since = 0.0

    def acquire(self, timeout_s: float | None = None) -> None:
        """Take the lock or raise :class:`WriterTimeoutError` after the timeout.

        Args:
            timeout_s: how long to wait; the lock's own ``timeout_s`` when omitted (each
                :class:`Database` passes its settings' value, since handles share locks).

        Raises:
            DatabaseError: when the calling thread already holds it (a nested write unit of
                work would wait for itself forever).
            WriterTimeoutError: when another thread keeps it past the timeout.
        """
        me = threading.get_ident()
        if self.holder_ident == me:
            raise DatabaseError(
                _(
                    "a write unit of work is already open in this thread; nest work inside it "
                    "instead of opening a second one"
                )
            )
        timeout = self.timeout_s if timeout_s is None else timeout_s
        if not self._lock.acquire(timeout=timeout):
            held = time.monotonic() - self.since if self.since else 0.0
            raise WriterTimeoutError(
                timeout_s=timeout, holder=self.holder or "?", held_s=round(held, 2)
            )
        self.holder = threading.current_thread().name
        self.holder_ident = me
        self.since = time.monotonic()

    def release(self) -> None:
        self.holder = None
        self.holder_ident = None
        self.since = 0.0
        self._lock.release()


_LOCKS: weakref.WeakValueDictionary[str, WriterLock] = weakref.WeakValueDictionary()
"""The writer lock of each database open in this process, by file path or redacted URL."""
_LIVE: weakref.WeakSet[HotPath] = weakref.WeakSet()
"""Every handle's hot path, for the fork hook."""
_REGISTRY = threading.Lock()
_AT_FORK: list[Any] = []
"""The read connections open when a fork starts (emptied again in the parent)."""
_INHERITED: list[Any] = []
"""In a forked child, what its parent had open: referenced, never used or closed."""


class HotPath:
    """What one database handle keeps between calls, and how it survives a fork.

    Args:
        engine: the handle's engine.
        tracker: the engine's checkout counter.
        settings: timeouts and PRAGMAs.
        key: the database's identity in this process (file path or redacted URL); handles
            with the same key share the writer lock.
        keep_connections: True on a SQLite file opened for writing: keep the writer
            connection and per-thread read connections. An in-memory database is another
            database on every connection, and a read-only one reads through the pool,
            whose connections get its read-only PRAGMAs.
        context: facts attached to translated errors (the file's path).
    """

    def __init__(
        self,
        engine: Engine,
        tracker: ConnectionTracker,
        settings: Settings,
        *,
        key: str,
        keep_connections: bool,
        context: Mapping[str, Any],
    ) -> None:
        self.engine = engine
        self.tracker = tracker
        with _REGISTRY:
            lock = _LOCKS.get(key)
            if lock is None:
                lock = _LOCKS[key] = WriterLock.create(settings.writer_lock_timeout_s)
            _LIVE.add(self)
        self.writer_lock = lock
        self.writer: WriterConnection | None = None
        self.threads: ThreadConnections | None = None
        if keep_connections:
            self.threads = ThreadConnections(engine, settings, context)
            self.writer = WriterConnection(engine, tracker)

    @staticmethod
    def is_open_here(key: str) -> bool:
        """True when a handle in this process has the database ``key`` open."""
        return key in _LOCKS

    def fetch(self, statement: Prepared[Any], params: Mapping[str, Any]) -> list[Any] | None:
        """Every row of one read statement on this thread's connection; None when this
        handle keeps no read connections (the caller opens a read unit of work)."""
        threads = self.threads
        return None if threads is None else threads.fetch(statement, params)

    def close(self) -> None:
        """Close the read connections, then the writer connection (this process's only)."""
        if self.threads is not None:
            self.threads.close()
        if self.writer is not None:
            self.writer.close()

    def _after_fork_in_child(self) -> None:
        # Connections first: disposing the engine below closes what they still hold.
        if self.writer is not None:
            _INHERITED.extend(self.writer.forget())
        if self.threads is not None:
            self.threads.forget()
        self.writer_lock._reset_after_fork()
        self.engine.dispose(close=False)
        self.tracker.reset()


def _before_fork() -> None:
    _REGISTRY.acquire()
    for path in list(_LIVE):
        if path.threads is not None:
            _AT_FORK.extend(path.threads.handles())


def _after_fork_in_parent() -> None:
    _AT_FORK.clear()
    _REGISTRY.release()


def _after_fork_in_child() -> None:
    global _REGISTRY
    _INHERITED.extend(_AT_FORK)
    _AT_FORK.clear()
    # The registry lock was taken before the fork by the forking thread; any other lock
    # another thread of the parent held does not exist here.
    _REGISTRY = threading.Lock()
    for path in list(_LIVE):
        path._after_fork_in_child()


os.register_at_fork(
    before=_before_fork,
    after_in_parent=_after_fork_in_parent,
    after_in_child=_after_fork_in_child,
)

__all__ = ["HotPath", "WriterLock"]
