"""The public :class:`Database`: the bare :mod:`inventory_core.db` handle plus opening policy.

Opening a database for an application is more than connecting: a restore a crash cut short
must be finished before anything reads the file, the temp files of killed backups and restores
are removed, a non-empty database may be backed up, an outdated schema migrated (after a
backup), and the start-up checks refuse a database that is not fit to use. Each step drives a
floor below (``backup``, ``audit``, ``invariants``); the handle in ``db/`` knows none of them.

The policy is a subclass rather than a hook registered into ``db/``: the order of the steps
is read here top to bottom, ``Database.open`` keeps the signature users know, and a bare
handle (:meth:`~inventory_core.db.database.Database.open_handle`) stays one call away for
code that must see a file as it is.
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path
from typing import Literal, Self

from sqlalchemy.engine import URL

from inventory_core.audit.trail import Operation, append
from inventory_core.backup import BackupService
from inventory_core.backup.journal import journal_path, recover_interrupted_restore
from inventory_core.backup.leftovers import remove_leftovers
from inventory_core.config import Settings
from inventory_core.db import database as handle
from inventory_core.db import migrations
from inventory_core.db.engine import make_engine, normalize_url, sqlite_path
from inventory_core.db.stores import backup_stem, known_stores, server_name, store_schema
from inventory_core.errors import ValidationError, translate_db_errors
from inventory_core.errors.i18n import gettext as _
from inventory_core.invariants import startup_check
from inventory_core.obs.context import current_user
from inventory_core.obs.logs import get_logger

CheckLevel = Literal["quick", "full"] | None

log = get_logger("inventory_core.db")


class Database(handle.Database):
    """An open inventory database, opened with the start-up policy.

    Create it with :meth:`open`; everything else (units of work, :meth:`run`, :meth:`fetch`,
    :meth:`close`) is the handle's, see :class:`inventory_core.db.database.Database`.
    """

    @classmethod
    def open(
        cls,
        url: str | os.PathLike[str] | URL | None = None,
        *,
        settings: Settings | None = None,
        check: CheckLevel = "quick",
        migrate: bool = False,
        backup_on_open: bool | None = None,
        create: bool = True,
        read_only: bool = False,
        require_schema: bool = False,
        schema: str | None = None,
    ) -> Self:
        """Open a database, refusing one that is damaged or at the wrong schema revision.

        A new or empty database is accepted (call :meth:`upgrade` to create the schema).
        The checks run on the SQLite file *before* SQLAlchemy connects (connecting in WAL
        mode writes), so a refused file keeps its bytes and gets no ``-wal``/``-shm``.
        The temp files killed backups and restores of this database left behind are
        removed first (see :mod:`inventory_core.backup.leftovers`).

        With ``read_only`` nothing is ever written: not a byte of the file, no new
        ``-wal``/``-shm`` left behind, no backup, no migration, no ``PRAGMA optimize``; a
        read-only file or a backup on read-only media opens this way too (see
        :mod:`inventory_core.db.readonly` for how, and when it is refused). An interrupted
        restore is still finished first, as on every open.

        Args:
            url: SQLAlchemy URL or SQLite path; ``settings.database_url`` when omitted.
            settings: overrides the settings read from the environment.
            check: ``"quick"`` runs the cheap start-up checks, ``"full"`` every invariant,
                ``None`` none.
            migrate: upgrade an outdated schema (after a backup) instead of refusing it.
            backup_on_open: back up a non-empty SQLite database first (default from
                settings: off for library users, on for the CLI).
            create: create a missing SQLite file (and its folder); with ``False`` a missing
                file raises :class:`DatabaseNotFoundError` instead (naming the existing
                databases of a close spelling), so a mistyped path does not leave an empty
                database behind. The default stays ``True`` so that ``open`` then
                :meth:`upgrade` starts a database, as the quickstart does.
            read_only: open without ever writing (implies ``create=False``; refuses
                ``migrate``); every write raises :class:`ReadOnlyModeError`.
            require_schema: refuse a new or empty database with :class:`NotMigratedError`
                (before connecting, so an empty file stays empty) instead of accepting it.
            schema: PostgreSQL only: the schema holding this store's tables, so that many
                stores share one server (``settings.store_schema`` when omitted; created
                when missing, unless ``read_only`` or ``create=False``). Each store has its
                own tables, audit chain, locks, backups and checks (see
                :mod:`inventory_core.db.stores` and docs/scaling.md).

        Raises:
            DatabaseNotFoundError, PathIsDirectoryError, NotADatabaseError, CorruptDatabaseError,
            ReadOnlyDatabaseError, ReadOnlyUnsafeError, NotMigratedError, SchemaMismatchError,
            SchemaTooNewError, HealthCheckError: each leaving the file untouched.
            StoreSchemaNameError, StoreSchemaUnsupportedError: a bad ``schema`` (nothing is
                written or connected).
        """
        settings = settings or Settings.load()
        parsed = normalize_url(url if url is not None else settings.database_url)
        schema = store_schema(parsed, schema if schema is not None else settings.store_schema)
        path = sqlite_path(parsed) if parsed.get_backend_name() == "sqlite" else None
        if read_only and migrate:
            raise ValidationError(
                _("a database opened read-only cannot be migrated"), field="migrate"
            )
        if not read_only:
            _remove_leftovers(settings, parsed, path, schema)
        if path is not None:
            _recover_restore(path, read_only=read_only)
        db = cls.open_handle(
            parsed,
            settings=settings,
            create=create,
            read_only=read_only,
            require_schema=require_schema,
            allow_outdated=migrate,
            schema=schema,
        )
        found = db.schema_at_open
        try:
            wants_backup = settings.backup_on_open if backup_on_open is None else backup_on_open
            if wants_backup and not found.empty and not read_only:
                db.backup("open")
            if migrate and not found.empty and found.revision != migrations.head_revision():
                db.upgrade()
            if check is not None and not found.empty:
                db.startup_check(full=check == "full")
        except BaseException:
            db.engine.dispose()
            raise
        return db

    def upgrade(self, revision: str = "head") -> Path | None:
        """Migrate the schema in-process (``alembic upgrade``), transactional DDL.

        A non-empty SQLite database is backed up first with the online backup API.

        Returns:
            The path of the pre-migration backup, or None when none was needed.
        """
        self.require_open()
        self.require_writable("a migration")
        backup_path: Path | None = None
        current = self.revision()
        if current == migrations.head_revision() and revision == "head":
            return None
        if self.path is not None and current is not None:
            # Not recorded in the trail yet: the trail's columns are still the old
            # revision's. The MIGRATION row below names the backup instead.
            backup_path = self.backup("pre-migration", record=False)
        with translate_db_errors(**self.error_context()):
            migrations.upgrade(self.engine, revision)
        if current is not None and revision == "head":
            self._record_migration(current, backup_path)
        if self.path is not None:
            # Pooled connections keep the query planner's statistics from when they read
            # the schema; new ones read those the migration seeded (sqlite_stat1). Never for
            # an in-memory database, which lives only as long as its one connection.
            self.engine.dispose()
        log.info("database_migrated", url=self.display_url, revision=self.revision())
        return backup_path

    @classmethod
    def upgrade_stores(
        cls, url: str | URL | None = None, *, settings: Settings | None = None
    ) -> dict[str, str | None]:
        """Migrate every store of a PostgreSQL database, one schema (one transaction) each.

        The stores are the schemas holding an ``alembic_version`` table (what
        ``alembic -x all_stores=true upgrade head`` migrates); each is opened with
        ``migrate=True``, so it is backed up first like any migration.

        Returns:
            Each store's schema and its revision after the upgrade.
        """
        settings = settings or Settings.load()
        parsed = normalize_url(url if url is not None else settings.database_url)
        store_schema(parsed, "public")  # refuses SQLite, which has no stores
        engine = make_engine(parsed, settings)
        try:
            names = known_stores(engine)
        finally:
            engine.dispose()
        done: dict[str, str | None] = {}
        for name in names:
            with cls.open(parsed, settings=settings, schema=name, migrate=True, check=None) as db:
                done[name] = db.revision()
        return done

    def _record_migration(self, before: str, backup: Path | None) -> None:
        """Append the MIGRATION audit row (now that the trail has the code's columns)."""
        details = {
            "from": before,
            "to": migrations.head_revision(),
            "backup": backup.name if backup is not None else None,
        }
        self.run(
            lambda uow: append(uow, Operation.MIGRATION, user=current_user(), details=details),
            operation="migration",
        )

    def backup(self, reason: str, *, record: bool = True) -> Path | None:
        """Take a verified online backup into :attr:`backup_dir`, then apply retention.

        Used by the automatic backups (on open, before a migration, before maintenance).
        With ``record=False`` neither the backup nor retention writes an audit row (and
        retention waits for the next backup).

        Returns:
            The backup's path; None on PostgreSQL when ``pg_dump`` is not installed.

        Raises:
            ReadOnlyModeError: the database was opened read-only (a backup records itself
                in the audit trail).
        """
        self.require_writable("a backup")
        if self.path is None and shutil.which("pg_dump") is None:
            log.warning("backup_skipped", reason=reason, why="pg_dump is not installed")
            return None
        service = BackupService(self, self.backup_dir)
        target = service.backup(reason, record=record)
        if record:
            service.apply_retention()
        return target

    def startup_check(self, *, full: bool = False) -> None:
        """Run the start-up checks (the schema revision is checked in :meth:`open`).

        See :func:`inventory_core.invariants.startup_check`.
        """
        startup_check(self, full=full)


def _recover_restore(path: Path, *, read_only: bool) -> None:
    """Finish a restore a crash interrupted, before anything looks at the file.

    A read-only open leaves a restore's leftovers alone unless a journal says a restore was
    cut short: then the right database is only there once it is finished.
    """
    if not read_only or journal_path(path).exists():
        recover_interrupted_restore(path)


def _remove_leftovers(settings: Settings, url: URL, path: Path | None, schema: str | None) -> None:
    """Remove the temp files killed backups and restores of this database left behind."""
    if path is None and url.get_backend_name() == "sqlite":
        return  # an in-memory database has no backups
    stem = path.stem if path is not None else backup_stem(url, schema)
    remove_leftovers(settings.backup_folder(path, server_name(url, schema)), stem, path)
