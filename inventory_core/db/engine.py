"""The engine factory and the event hooks attached to *that* engine.

SQLite needs care that a plain ``create_engine`` does not give:

- PRAGMAs are per connection, so they are set on every pooled connection at ``connect``
  (never inside a transaction, where ``journal_mode`` and ``foreign_keys`` are ignored);
- the pysqlite driver's own transaction handling is switched off (``isolation_level=None``)
  and the ``begin`` hook issues ``BEGIN IMMEDIATE`` for a write and ``BEGIN`` for a read.
  A deferred transaction that reads and then writes takes the write lock late, and when
  another connection wrote meanwhile SQLite answers SQLITE_BUSY at once, whatever
  ``busy_timeout`` says; ``BEGIN IMMEDIATE`` waits for the lock up front instead.

Pool checkout and checkin are counted so a leak (a connection never returned) is reported,
and checkout refuses a pooled connection made in another process (a forked child's parent);
a :class:`~inventory_core.db.database.Database` also empties its pool in a forked child
(:mod:`inventory_core.db.connections`). A PostgreSQL connection idle for more than
:data:`PING_AFTER_IDLE_S` is pinged at checkout, and replaced if it does not answer.
"""

from __future__ import annotations

import os
import sqlite3
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, create_engine, event
from sqlalchemy import exc as sa_exc
from sqlalchemy.engine import URL, Connection, make_url
from sqlalchemy.pool import ConnectionPoolEntry, PoolProxiedConnection

from inventory_core.config import Settings
from inventory_core.db import stores
from inventory_core.db.readonly import Access, apply_read_only_pragmas, connection_url
from inventory_core.errors import DatabaseError, OptionalDependencyError, UnsupportedDatabaseError
from inventory_core.errors.i18n import gettext as _
from inventory_core.obs.logs import get_logger
from inventory_core.obs.redaction import redact_url

log = get_logger("inventory_core.db")

WRITE_OPTION = "inventory_core_write"
KEPT = "inventory_core_kept"
"""Pool-record mark of a connection the checkout counter no longer counts."""
JOURNAL_SIZE_LIMIT = 64 * 1024 * 1024
PING_AFTER_IDLE_S = 1.0
"""A pooled PostgreSQL connection idle for longer is pinged at checkout (a dropped one is
replaced before any statement of the unit runs); one given back more recently is used as
it is, as HikariCP does within its 500 ms window: a connection that answered a moment ago
is alive, and a write spares a round trip."""
_IDLE_SINCE = "inventory_core_idle_since"


@dataclass
class ConnectionTracker:
    """Counts the connections checked out of the pool and warns past a threshold."""

    threshold: int
    checked_out: int = 0
    peak: int = 0
    warnings: int = 0
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    def checkout(self) -> None:
        with self._lock:
            self.checked_out += 1
            self.peak = max(self.peak, self.checked_out)
            count = self.checked_out
        if count > self.threshold:
            self.warnings += 1
            log.warning(
                "connection_leak_suspected",
                checked_out=count,
                threshold=self.threshold,
                hint="a unit of work or connection was not closed; use 'with' blocks",
            )

    def checkin(self) -> None:
        with self._lock:
            self.checked_out = max(0, self.checked_out - 1)

    def set_aside(self, connection: PoolProxiedConnection) -> None:
        """Stop counting ``connection``, checked out on purpose for as long as it lives (the
        kept write connection): its checkin, whenever it comes, is not counted either."""
        connection.info[KEPT] = True
        self.checkin()

    def reset(self) -> None:
        """Forget every count (a forked child owns none of its parent's connections)."""
        self._lock = threading.Lock()
        self.checked_out = 0


def normalize_url(url: str | os.PathLike[str] | URL) -> URL:
    """Turn a path or URL string into a SQLAlchemy :class:`URL`.

    A plain path becomes ``sqlite:///<absolute path>``; ``postgresql://`` selects psycopg 3.

    Raises:
        UnsupportedDatabaseError: for any other backend.
    """
    if isinstance(url, URL):
        parsed = url
    elif isinstance(url, os.PathLike) or "://" not in str(url):
        parsed = make_url(f"sqlite:///{Path(url).expanduser().resolve()}")
    else:
        parsed = make_url(str(url))
    backend = parsed.get_backend_name()
    if backend == "postgresql":
        if parsed.drivername == "postgresql":
            parsed = parsed.set(drivername="postgresql+psycopg")
        return parsed
    if backend == "sqlite":
        return parsed
    raise UnsupportedDatabaseError(url=redact_url(parsed))


def sqlite_path(url: URL) -> Path | None:
    """The file behind a SQLite URL, or None for an in-memory database."""
    database = url.database
    if not database or database == ":memory:" or database.startswith("file::memory:"):
        return None
    return Path(database).expanduser().resolve()


def apply_sqlite_pragmas(dbapi_conn: sqlite3.Connection, settings: Settings) -> None:
    """Set the PRAGMAs every connection needs and check that WAL mode took.

    Raises:
        DatabaseError: when the file refuses WAL mode (it would silently fall back to a
            rollback journal, where readers block the writer).
    """
    dbapi_conn.isolation_level = None
    cursor = dbapi_conn.cursor()
    try:
        cursor.execute("PRAGMA foreign_keys=ON")
        mode = cursor.execute("PRAGMA journal_mode=WAL").fetchone()[0]
        in_memory = mode == "memory"
        if not in_memory and str(mode).lower() != "wal":
            raise DatabaseError(
                _("journal_mode=WAL did not take (the file stays in {mode})").format(
                    mode=repr(mode)
                )
            )
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.execute(f"PRAGMA busy_timeout={int(settings.busy_timeout_ms)}")
        cursor.execute(f"PRAGMA cache_size=-{int(settings.cache_size_kib)}")
        cursor.execute("PRAGMA temp_store=MEMORY")
        cursor.execute(f"PRAGMA journal_size_limit={JOURNAL_SIZE_LIMIT}")
        cursor.execute("PRAGMA optimize=0x10002")
    finally:
        cursor.close()


def make_engine(
    url: str | os.PathLike[str] | URL,
    settings: Settings | None = None,
    tracker: ConnectionTracker | None = None,
    *,
    access: Access = Access.READ_WRITE,
    schema: str | None = None,
) -> Engine:
    """Build the engine for ``url`` with inventory_core's event hooks on it.

    Args:
        url: a SQLAlchemy URL or a path to a SQLite file.
        settings: timeouts and thresholds; read from the environment when omitted.
        tracker: receives pool checkout/checkin counts (one is created when omitted).
        access: a read-only way (:mod:`inventory_core.db.readonly`) connects to a SQLite
            file without writing, and makes PostgreSQL sessions read-only.

    Returns:
        An engine whose connections have the PRAGMAs applied and whose transactions begin
        as ``BEGIN IMMEDIATE`` when the connection carries the write execution option.

    Raises:
        OptionalDependencyError: a PostgreSQL URL without its driver (the ``postgres``
            extra) installed.
    """
    settings = settings or Settings.load()
    parsed = normalize_url(url)
    tracker = tracker or ConnectionTracker(settings.connection_leak_threshold)
    kwargs: dict[str, Any] = {}
    if parsed.get_backend_name() == "sqlite":
        path = sqlite_path(parsed)
        if path is not None:
            kwargs["pool_size"] = 5
            kwargs["max_overflow"] = max(10, settings.connection_leak_threshold * 2)
            kwargs["pool_timeout"] = settings.writer_lock_timeout_s
        kwargs["connect_args"] = {"timeout": settings.busy_timeout_ms / 1000.0}
        if path is not None:
            parsed = connection_url(parsed, path, access)
        engine = create_engine(parsed, **kwargs)
        _attach_sqlite_hooks(engine, settings, writes=access.writes)
    else:
        try:
            engine = create_engine(
                parsed,
                pool_size=5,
                max_overflow=max(10, settings.connection_leak_threshold * 2),
                connect_args=stores.connect_args(schema, parsed),
            )
        except ImportError as exc:
            # SQLAlchemy imports the driver here; psycopg is the optional ``postgres`` extra.
            raise OptionalDependencyError(
                feature="A PostgreSQL database",
                package=exc.name or "psycopg",
                extra="postgres",
            ) from exc
        _attach_postgresql_hooks(engine, writes=access.writes, schema=schema)
    _attach_pool_hooks(engine, tracker, ping=engine.dialect.name == "postgresql")
    return engine


def _attach_sqlite_hooks(engine: Engine, settings: Settings, *, writes: bool) -> None:
    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_conn: sqlite3.Connection, _record: ConnectionPoolEntry) -> None:
        if writes:
            apply_sqlite_pragmas(dbapi_conn, settings)
        else:
            apply_read_only_pragmas(dbapi_conn, settings)

    @event.listens_for(engine, "begin")
    def _on_begin(conn: Connection) -> None:
        # Straight on the driver connection: BEGIN returns no rows, and going through
        # exec_driver_sql would cost a full statement execution on every unit of work.
        driver = conn.connection.driver_connection
        assert isinstance(driver, sqlite3.Connection)
        if conn.get_execution_options().get(WRITE_OPTION):
            driver.execute("BEGIN IMMEDIATE")
        else:
            driver.execute("BEGIN")


def _attach_postgresql_hooks(engine: Engine, *, writes: bool, schema: str | None) -> None:
    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_conn: Any, record: ConnectionPoolEntry) -> None:
        record.info[stores.SCHEMA_INFO] = schema
        cursor = dbapi_conn.cursor()
        try:
            cursor.execute("SET TIME ZONE 'UTC'")
            if not writes:
                cursor.execute("SET SESSION CHARACTERISTICS AS TRANSACTION READ ONLY")
        finally:
            cursor.close()
        dbapi_conn.commit()


def _attach_pool_hooks(engine: Engine, tracker: ConnectionTracker, *, ping: bool) -> None:
    @event.listens_for(engine, "connect")
    def _remember_pid(_dbapi_conn: Any, record: ConnectionPoolEntry) -> None:
        record.info["pid"] = os.getpid()
        record.info[_IDLE_SINCE] = time.monotonic()  # it has just answered

    @event.listens_for(engine, "checkout")
    def _on_checkout(
        dbapi_conn: Any, record: ConnectionPoolEntry, proxy: PoolProxiedConnection
    ) -> None:
        if record.info.get("pid") != os.getpid():
            # A connection made before a fork belongs to the parent: never share it.
            record.dbapi_connection = proxy.dbapi_connection = None  # type: ignore[misc]
            raise sa_exc.DisconnectionError("connection was created in another process")
        if ping and time.monotonic() - record.info.get(_IDLE_SINCE, 0.0) > PING_AFTER_IDLE_S:
            _ping(engine, dbapi_conn)
        tracker.checkout()

    @event.listens_for(engine, "checkin")
    def _on_checkin(_dbapi_conn: Any, record: ConnectionPoolEntry) -> None:
        record.info[_IDLE_SINCE] = time.monotonic()
        if not record.info.pop(KEPT, False):
            tracker.checkin()


def _ping(engine: Engine, dbapi_conn: Any) -> None:
    """The pool's pre-ping (the dialect's own), for a connection idle a while: a dead one
    raises ``DisconnectionError``, on which the pool replaces it and checks out again."""
    try:
        engine.dialect.do_ping(dbapi_conn)
    except Exception as exc:
        raise sa_exc.DisconnectionError(f"the pooled connection did not answer: {exc}") from exc
