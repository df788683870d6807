"""The connection of write units of work on a SQLite file, kept from one unit to the next.

A write unit of work spent about 27 us of its bracket in SQLAlchemy's connect, pool
checkout and checkin and their events, against 6 us for the ``BEGIN IMMEDIATE`` and
``COMMIT`` themselves: a fifth of a whole ``sell``. Write units of one
:class:`~inventory_core.db.database.Database` never overlap (they hold the process's
writer lock), so they can share one SQLAlchemy connection that stays checked out between
them. :class:`WriterConnection` keeps it, with the rules the per-thread read connections
of :mod:`inventory_core.db.reads` keep:

- **used under the writer lock only**: :meth:`WriterConnection.take` is called by a write
  unit that holds it, so one thread at a time uses the connection (SQLAlchemy opens file
  databases with ``check_same_thread=False``);
- **given back clean**: a unit that ends with its transaction still open, or with the
  connection invalidated or closed, makes the next unit connect afresh;
- **never across a fork**: a child process neither uses nor closes, nor checks back in,
  a connection its parent opened (SQLite's locks are per process):
  :class:`~inventory_core.db.connections.HotPath` calls :meth:`WriterConnection.forget`
  in the child, keeps the parent's connection referenced, and the child connects its own;
- **closed with the engine**: :meth:`Database.close` and ``engine.dispose()`` close it
  (a restore leaves it open: it rewrites the content through SQLite, in one transaction,
  and the kept connection's next unit sees the restored database);
- **not a leak**: the pool's checkout counter
  (:class:`~inventory_core.db.engine.ConnectionTracker`) leaves it out, so "nothing
  checked out" still means no unit of work is running.

PostgreSQL write units keep connecting per unit (a SERIALIZABLE one holds the chain head
as a session lock taken and released around it), and so does in-memory SQLite.
"""

from __future__ import annotations

import os
import threading

from sqlalchemy import Connection, Engine, event

from inventory_core.db.engine import WRITE_OPTION, ConnectionTracker


class WriterConnection:
    """One write connection to a SQLite engine, shared by its write units in turn.

    Args:
        engine: the database's engine; its ``engine_disposed`` event closes the connection.
        tracker: the engine's checkout counter, which does not count this connection.
    """

    def __init__(self, engine: Engine, tracker: ConnectionTracker) -> None:
        self._engine = engine
        self._tracker = tracker
        self._lock = threading.Lock()
        self._connection: Connection | None = None
        self._pid = 0
        event.listen(engine, "engine_disposed", self._on_dispose)

    def take(self) -> Connection:
        """The connection for a write unit that holds the writer lock, connected if needed."""
        with self._lock:
            connection = self._connection
            if connection is not None and not connection.invalidated:
                return connection
            # An invalidated connection was already closed and checked in: just let it go.
            self._connection = None
        connection = self._engine.connect()
        try:
            connection.execution_options(**{WRITE_OPTION: True})
        except BaseException:
            connection.close()
            raise
        self._tracker.set_aside(connection.connection)
        with self._lock:
            self._connection, self._pid = connection, os.getpid()
        return connection

    def give_back(self, connection: Connection) -> None:
        """End a unit's use; a connection left in a transaction or broken is closed."""
        if connection.closed or connection.invalidated or connection.in_transaction():
            with self._lock:
                if self._connection is connection:
                    self._connection = None
            _discard(connection)

    def close(self) -> None:
        """Close the connection (this process's only); the next write connects again."""
        with self._lock:
            connection, self._connection = self._connection, None
        if connection is not None and self._pid == os.getpid():
            _discard(connection)

    def _on_dispose(self, _engine: Engine) -> None:
        self.close()

    def forget(self) -> list[Connection]:
        """In a forked child: let go of the parent's connection, unused and unclosed, and
        return it for the caller to keep referenced; the next write connects afresh."""
        # Another thread of the parent may have held the lock at the fork.
        self._lock = threading.Lock()
        connection, self._connection = self._connection, None
        return [] if connection is None else [connection]


def _discard(connection: Connection) -> None:
    """Close the DBAPI connection itself, not back into the pool: after a dispose the pool
    it came from is gone, and checked in there it would stay open on a replaced file."""
    if not connection.closed and not connection.invalidated:
        connection.invalidate()
    connection.close()


__all__ = ["WriterConnection"]
