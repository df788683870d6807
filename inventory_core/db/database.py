"""The :class:`Database` handle: open (with checks), units of work, retry (:mod:`.retry`), close.

This is the bare handle. It checks the file and the schema revision before connecting and
refuses what it cannot use; it runs no policy. Recovering an interrupted restore, backing up
on open, migrating and the start-up checks belong to the floor above
(:class:`inventory_core.opening.Database`, which users get as ``inventory_core.Database``).
"""

from __future__ import annotations

import functools
import os
import sqlite3
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Self, TypeVar

from sqlalchemy import Engine, inspect
from sqlalchemy import exc as sa_exc
from sqlalchemy.engine import URL

from inventory_core.config import Settings
from inventory_core.db import migrations
from inventory_core.db.connections import HotPath
from inventory_core.db.engine import ConnectionTracker, make_engine, normalize_url, sqlite_path
from inventory_core.db.preflight import file_access, inspect_sqlite_file
from inventory_core.db.prepared import Prepared
from inventory_core.db.readonly import Access
from inventory_core.db.retry import Retry
from inventory_core.db.stores import ensure_schema, server_name, store_schema
from inventory_core.db.uow import NO_PARAMS, UnitOfWork
from inventory_core.errors import (
    DatabaseClosedError,
    NotMigratedError,
    ReadOnlyModeError,
    SchemaMismatchError,
    SchemaTooNewError,
    translate_db_errors,
)
from inventory_core.errors.i18n import gettext as _
from inventory_core.obs.context import bind_process_run
from inventory_core.obs.logs import get_logger
from inventory_core.obs.redaction import redact_url

T = TypeVar("T")
R = TypeVar("R")

log = get_logger("inventory_core.db")


@dataclass(frozen=True)
class SchemaAtOpen:
    """What :meth:`Database.open_handle` found: the stamped revision and whether it was empty."""

    revision: str | None
    empty: bool


class Database:
    """An open inventory database: an engine with hooks, a writer lock and the settings.

    Applications open it as ``inventory_core.Database.open(...)``, which adds the opening
    policy (:mod:`inventory_core.opening`); :meth:`open_handle` opens it bare. Use
    :meth:`unit_of_work` / :meth:`read` / :meth:`run`; finish with :meth:`close` (or use it
    as a context manager).

    Attributes:
        access: how it reaches the database; anything but ``READ_WRITE`` refuses every
            write with :class:`~inventory_core.errors.ReadOnlyModeError`.
        schema_at_open: the revision and emptiness :meth:`open_handle` found.
        schema: the store's PostgreSQL schema, or None (see :mod:`inventory_core.db.stores`).
    """

    def __init__(
        self,
        url: URL,
        engine: Engine,
        settings: Settings,
        tracker: ConnectionTracker,
        access: Access = Access.READ_WRITE,
        schema: str | None = None,
    ):
        self.url = url
        self.schema = schema
        self.engine = engine
        self.settings = settings
        self.tracker = tracker
        self.access = access
        self.path: Path | None = sqlite_path(url) if url.get_backend_name() == "sqlite" else None
        key = str(self.path) if self.path else url.render_as_string(hide_password=True)
        key += f"#{schema}" if schema else ""  # each store its own writer lock
        # The writer lock, kept writer connection and per-thread read connections, and how
        # they survive a fork: one object (see inventory_core.db.connections).
        self._hot = HotPath(
            engine,
            tracker,
            settings,
            key=key,
            keep_connections=self.path is not None and not self.read_only,
            context=self.error_context(),
        )
        self.writer_lock = self._hot.writer_lock
        self.run_id = bind_process_run()
        self.closed = False
        self.schema_at_open = SchemaAtOpen(revision=None, empty=True)
        self._retry = Retry()

    # -- opening --------------------------------------------------------------------------

    @classmethod
    def open_handle(
        cls,
        url: str | os.PathLike[str] | URL | None = None,
        *,
        settings: Settings | None = None,
        create: bool = True,
        read_only: bool = False,
        require_schema: bool = False,
        allow_outdated: bool = False,
        schema: str | None = None,
    ) -> Self:
        """Open the bare handle, refusing a database that is damaged or at the wrong revision.

        A new or empty database is accepted. The checks run on the SQLite file *before*
        SQLAlchemy connects (connecting in WAL mode writes), so a refused file keeps its bytes
        and gets no ``-wal``/``-shm``. With ``read_only`` nothing is ever written (see
        :mod:`inventory_core.db.readonly` for how, and when it is refused). No policy runs:
        :meth:`inventory_core.Database.open` is this plus recovery, backup, migration and the
        start-up checks; this handle serves code that must open a file as it is (a restore
        checking the copy it staged).

        Args:
            url: SQLAlchemy URL or SQLite path; ``settings.database_url`` when omitted.
            settings: overrides the settings read from the environment.
            create: create a missing SQLite file (and its folder); with ``False`` a missing
                file raises :class:`DatabaseNotFoundError` instead (naming the existing
                databases of a close spelling).
            read_only: open without ever writing (implies ``create=False``); every write
                raises :class:`ReadOnlyModeError`.
            require_schema: refuse a new or empty database with :class:`NotMigratedError`
                (before connecting, so an empty file stays empty) instead of accepting it.
            allow_outdated: accept a revision older than the code's (the caller migrates);
                a revision newer than the code's is always refused.
            schema: the store's PostgreSQL schema (``settings.store_schema`` when omitted),
                created when missing unless ``read_only`` or not ``create``.

        Raises:
            DatabaseNotFoundError, PathIsDirectoryError, NotADatabaseError, CorruptDatabaseError,
            ReadOnlyDatabaseError, ReadOnlyUnsafeError, NotMigratedError, SchemaMismatchError,
            SchemaTooNewError, StoreSchemaNameError, StoreSchemaUnsupportedError: each
            leaving the file untouched.
        """
        settings = settings or Settings.load()
        parsed = normalize_url(url if url is not None else settings.database_url)
        schema = store_schema(parsed, schema if schema is not None else settings.store_schema)
        path = sqlite_path(parsed) if parsed.get_backend_name() == "sqlite" else None
        access = Access.QUERY_ONLY if read_only else Access.READ_WRITE
        revision: str | None = None
        empty = False
        if path is not None:
            access = file_access(path, create=create and not read_only, read_only=read_only)
            state = inspect_sqlite_file(
                path, writable=not read_only, open_here=HotPath.is_open_here(str(path))
            )
            revision, empty = state.revision, state.is_empty
            if empty and require_schema:
                raise _no_schema(str(path))
            if not empty:
                _check_revision(revision, migrate=allow_outdated)
            if not read_only:
                path.parent.mkdir(parents=True, exist_ok=True)
        writes = create and not read_only
        if schema is not None and not ensure_schema(parsed, schema, create=writes):
            raise _no_schema(f"{redact_url(parsed)} (schema {schema})")
        tracker = ConnectionTracker(settings.connection_leak_threshold)
        engine = make_engine(parsed, settings, tracker, access=access, schema=schema)
        db = cls(parsed, engine, settings, tracker, access, schema)
        try:
            if path is None:
                revision, empty = db._server_revision()
                if empty and require_schema:
                    raise _no_schema(db.display_url)
                if not empty:
                    _check_revision(revision, migrate=allow_outdated)
        except BaseException:
            engine.dispose()
            raise
        db.schema_at_open = SchemaAtOpen(revision=revision, empty=empty)
        log.debug(
            "database_opened",
            url=db.display_url,
            revision=revision,
            access=access.value,
            run_id=db.run_id,
        )
        return db

    def _server_revision(self) -> tuple[str | None, bool]:
        with translate_db_errors(url=self.display_url), self.engine.connect() as conn:
            revision = migrations.current_revision(conn)
            tables = [t for t in inspect(conn).get_table_names() if t != "alembic_version"]
            conn.rollback()
        return revision, revision is None and not tables

    # -- properties -----------------------------------------------------------------------

    @property
    def dialect(self) -> str:
        """``sqlite`` or ``postgresql``."""
        return self.engine.dialect.name

    @functools.cached_property
    def backup_dir(self) -> Path:
        """The folder of this database's backups (see :meth:`Settings.backup_folder`)."""
        return self.settings.backup_folder(self.path, server_name(self.url, self.schema))

    @property
    def read_only(self) -> bool:
        """True when this handle never writes (opened with ``read_only=True``)."""
        return not self.access.writes

    @functools.cached_property
    def display_url(self) -> str:
        """The URL as it may be shown or logged: every credential in it is ``***``.

        Both places a password can sit (``user:pw@`` and ``?password=``) and any other
        secret-looking parameter are hidden (:func:`~inventory_core.obs.redaction.redact_url`),
        once: a URL does not change, and every unit of work names it.
        """
        return redact_url(self.url)

    def revision(self) -> str | None:
        """The schema revision stamped in the database."""
        with self.read() as uow:
            return migrations.current_revision(uow.connection)

    # -- units of work --------------------------------------------------------------------

    def error_context(self) -> dict[str, object]:
        """What errors raised about this database name: its path (or redacted URL, with the
        store's schema), the ``schema`` and ``read_only`` when it was opened so. Pass it to
        :func:`~inventory_core.errors.translate_db_errors` around statements run outside a
        unit of work."""
        context: dict[str, object] = {"path": str(self.path) if self.path else self.display_url}
        if self.schema is not None:
            context.update(path=f"{context['path']} (schema {self.schema})", schema=self.schema)
        if self.read_only:
            context["read_only"] = True
        return context

    def unit_of_work(self, *, row_locks: bool = False) -> UnitOfWork:
        """A write unit of work (``BEGIN IMMEDIATE`` on SQLite, SERIALIZABLE on PostgreSQL;
        with ``row_locks``, READ COMMITTED: the code locks what it depends on, as the
        ledger writes do, :mod:`inventory_core.ledger.locks`).

        Raises:
            ReadOnlyModeError: the database was opened read-only.
        """
        self.require_open()
        self.require_writable("a write unit of work")
        return UnitOfWork(
            self.engine,
            write=True,
            writer_lock=self.writer_lock,
            writer_timeout_s=self.settings.writer_lock_timeout_s,
            context=self.error_context(),
            writer=self._hot.writer,
            row_locks=row_locks,
        )

    def read(self) -> UnitOfWork:
        """A read-only unit of work (plain ``BEGIN``; always rolled back)."""
        self.require_open()
        return UnitOfWork(self.engine, write=False, context=self.error_context())

    def fetch(self, statement: Prepared[R], params: Mapping[str, Any] = NO_PARAMS) -> list[R]:
        """Every row of one read-only statement, read as one consistent snapshot.

        On a SQLite file the statement runs alone, in autocommit mode, on this thread's own
        connection, without a unit of work (see :mod:`inventory_core.db.connections`);
        elsewhere in a read unit of work of its own. Rows are the statement's row class, as
        from :meth:`UnitOfWork.fetch`. Each call is its own snapshot: reads that need
        several statements use :meth:`read`.

        Raises:
            DatabaseClosedError: after :meth:`close`.
        """
        if self.closed:
            raise DatabaseClosedError()
        rows = self._hot.fetch(statement, params)
        if rows is None:
            with self.read() as uow:
                return uow.fetch(statement, params)
        return rows

    def fetch_one(self, statement: Prepared[R], params: Mapping[str, Any] = NO_PARAMS) -> R | None:
        """The first row of :meth:`fetch`, or None."""
        return next(iter(self.fetch(statement, params)), None)

    def run(
        self,
        fn: Callable[[UnitOfWork], T],
        *,
        operation: str | None = None,
        row_locks: bool = False,
    ) -> T:
        """Run ``fn(uow)`` in a write unit of work and commit, retrying the whole unit.

        Only lock/busy errors (SQLite), serialization failures, deadlocks and unique
        violations met at the server (PostgreSQL, :func:`.retry.retryable`) are retried,
        with back-off and jitter; ``fn`` runs again on a fresh transaction, so it re-reads
        what it depends on. Any other error is raised at once.

        Args:
            fn: the work; it receives the unit of work and may return a value.
            operation: a name for the log events (``sell``, ``backup``...).
            row_locks: ``fn`` locks what it depends on (see :meth:`unit_of_work`).

        Raises:
            DatabaseLockedError: the database stayed locked over every attempt.
            SerializationConflictError: PostgreSQL kept aborting the transaction.
        """
        return self._retry.run(self, fn, operation, row_locks)

    # -- closing --------------------------------------------------------------------------

    def close(self) -> None:
        """Checkpoint and truncate the WAL, run ``PRAGMA optimize``, dispose the engine.

        The checkpoint copies every committed page back into the main file and truncates the
        ``-wal`` to zero bytes, so a closed database is one self-contained file. Another
        process's open read transaction can keep it from completing (it waits up to
        ``busy_timeout``); that is logged, not raised, since nothing is lost: the next
        checkpoint finishes the job.
        """
        if self.closed:
            return
        self.closed = True
        # Idle, but closed first so that this process's last connection is the one that
        # checkpoints.
        self._hot.close()
        try:
            if self.path is not None and self.path.exists() and not self.read_only:
                raw = self.engine.raw_connection()
                try:
                    driver = raw.driver_connection
                    assert isinstance(driver, sqlite3.Connection)
                    busy, wal_pages, moved = driver.execute(
                        "PRAGMA wal_checkpoint(TRUNCATE)"
                    ).fetchone()
                    if busy:
                        log.warning(
                            "wal_checkpoint_incomplete",
                            path=str(self.path),
                            wal_pages=wal_pages,
                            checkpointed=moved,
                            hint="another connection still reads; the WAL is kept",
                        )
                    driver.execute("PRAGMA optimize")
                finally:
                    raw.close()
        except (sqlite3.Error, sa_exc.DBAPIError) as exc:
            log.warning("close_checkpoint_failed", error=str(exc))
        finally:
            self.engine.dispose()

    def require_open(self) -> None:
        """Raise :class:`DatabaseClosedError` once :meth:`close` was called."""
        if self.closed:
            raise DatabaseClosedError()

    def require_writable(self, what: str) -> None:
        """Raise :class:`ReadOnlyModeError` naming ``what`` on a handle that never writes."""
        if self.read_only:
            raise ReadOnlyModeError(_("{what} writes").format(what=what), **self.error_context())

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *_exc: object) -> None:
        self.close()

    def __repr__(self) -> str:
        return f"Database({self.display_url!r})"


def _no_schema(where: str) -> NotMigratedError:
    return NotMigratedError(_("'{where}' is empty").format(where=where), path=where)


def _check_revision(revision: str | None, *, migrate: bool) -> None:
    head = migrations.head_revision()
    if revision == head:
        return
    if revision is not None and revision not in migrations.known_revisions():
        raise SchemaTooNewError(found=revision, expected=head)
    if not migrate:
        raise SchemaMismatchError(found=revision or "none", expected=head)
