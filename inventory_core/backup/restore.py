"""Restoring a backup over the live database: verify, plan, swap, check, or put it all back.

The SQLite sequence survives a ``kill -9`` at any step because every step is recorded in a
journal file next to the database (``<db>.restore.json``) *before* it happens, and the old
database is kept as a hard link (``<db>.restore-old``, no copy) until the new one has passed
every check:

1. verify the backup (manifest sha256, header, schema, ``integrity_check``);
2. take a safety backup of the live database;
3. journal ``prepare``; copy the backup next to the live file (``<db>.restore-new``), fsync;
4. dispose the engine, checkpoint the WAL (refused if another program holds the file);
5. hard-link the live file to ``restore-old``; journal ``swap``;
6. remove the stale ``-wal``/``-shm``, ``os.replace`` the new file in, fsync the folder;
7. check it (the staged copy's sha256 against the manifest, schema revision, start-up
   checks; an older revision is upgraded), record the RESTORE audit row; journal ``done``;
8. drop ``restore-old`` and the journal.

:func:`recover_interrupted_restore` (called by ``Database.open`` and by :func:`restore`)
finishes a journal left by a crash: ``done`` keeps the new database; anything else puts the
old one back from ``restore-old``. Either way the result is a whole database, never a mix.
"""

from __future__ import annotations

import os
import sqlite3
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING

from sqlalchemy import func, select

from inventory_core.audit.context import current_user
from inventory_core.audit.logs import get_logger
from inventory_core.audit.trail import Operation
from inventory_core.backup import postgres
from inventory_core.backup.catalog import new_backup_path
from inventory_core.backup.checks import check_backup
from inventory_core.backup.files import (
    copy_durably,
    fault_point,
    fsync_dir,
    remove_quietly,
    sha256_file,
    sidecars,
)
from inventory_core.backup.journal import (
    finish,
    new_path,
    old_path,
    recover_interrupted_restore,
    write_journal,
)
from inventory_core.backup.manifest import read_manifest
from inventory_core.backup.sqlite_copy import (
    open_readonly,
    schema_error,
)
from inventory_core.db import migrations
from inventory_core.db.preflight import inspect_sqlite_file
from inventory_core.errors import (
    InventoryError,
    RestoreError,
    RestoreRolledBackError,
)

if TYPE_CHECKING:
    from inventory_core.backup.service import BackupService
    from inventory_core.config import Settings
    from inventory_core.db.database import Database

log = get_logger("inventory_core.backup")


@dataclass(frozen=True)
class TableDiff:
    """Row count of one table now and after the restore."""

    table: str
    now: int
    after: int

    @property
    def delta(self) -> int:
        """Rows gained (positive) or lost (negative) by restoring."""
        return self.after - self.now


@dataclass(frozen=True)
class RestorePlan:
    """What a restore would do (``restore(path, dry_run=True)``); nothing was changed."""

    backup: Path
    revision_now: str | None
    revision_backup: str | None
    upgrade_after: bool
    tables: tuple[TableDiff, ...]
    safety_backup: Path


@dataclass(frozen=True)
class RestoreResult:
    """What a completed restore did."""

    backup: Path
    safety_backup: Path
    revision: str | None
    upgraded: bool
    tables: tuple[TableDiff, ...]


# -- checking a backup ----------------------------------------------------------------------


# -- planning -------------------------------------------------------------------------------


def live_counts(db: Database) -> dict[str, int]:
    """Rows per table in the live database."""
    from inventory_core.models import metadata

    with db.read() as uow:
        return {
            name: int(uow.execute(select(func.count()).select_from(table)).scalar_one())
            for name, table in sorted(metadata.tables.items())
        }


def plan_restore(service: BackupService, path: Path) -> RestorePlan:
    """Verify ``path`` and describe the restore without changing anything."""
    manifest = check_backup(path)
    now = live_counts(service.db)
    tables = tuple(
        TableDiff(name, now.get(name, 0), manifest.row_counts.get(name, 0))
        for name in sorted(set(now) | set(manifest.row_counts))
    )
    suffix = ".db" if service.db.path is not None else ".dump"
    safety = new_backup_path(
        service.directory, service.stem, "pre-restore", suffix, datetime.now(UTC)
    )
    return RestorePlan(
        backup=path,
        revision_now=service.db.revision(),
        revision_backup=manifest.schema_revision,
        upgrade_after=manifest.schema_revision != migrations.head_revision(),
        tables=tables,
        safety_backup=safety,
    )


# -- the restore ----------------------------------------------------------------------------


def restore(service: BackupService, path: Path) -> RestoreResult:
    """Restore ``path`` over the live database, rolling back on any failure.

    Raises:
        RestoreError: the backup is not valid (the live database was not touched).
        RestoreRolledBackError: the restored database failed a check; the previous one is
            back in place byte for byte.
    """
    db = service.db
    if db.path is not None:
        recover_interrupted_restore(db.path)
    plan = plan_restore(service, path)
    safety = service.backup("pre-restore", record=False)
    swapped: list[bool] = []
    try:
        if db.path is not None:
            _swap_sqlite(db, path, plan, swapped)
        else:
            swapped.append(True)
            _restore_server(db, path)
        if plan.upgrade_after:
            migrations.upgrade(db.engine, "head")
        db.startup_check(full=False)
        db.run(lambda uow: _audit_restore(uow, path, safety), operation="restore")
        if db.path is not None:
            fault_point("restore-before-done")
            write_journal(db.path, "done", path, safety)
    except BaseException as exc:
        _roll_back(db, safety, swapped=bool(swapped))
        if not isinstance(exc, Exception) or (isinstance(exc, InventoryError) and not swapped):
            raise
        detail = exc.message if isinstance(exc, InventoryError) else str(exc)
        raise RestoreRolledBackError(detail, path=str(path), safety_backup=str(safety)) from exc
    if db.path is not None:
        fault_point("restore-done")
        finish(db.path)
    service.apply_retention()
    log.info("restore_done", backup=str(path), safety_backup=str(safety))
    return RestoreResult(path, safety, db.revision(), plan.upgrade_after, plan.tables)


def _roll_back(db: Database, safety: Path, *, swapped: bool) -> None:
    """Put the previous database back (SQLite: from the hard link; PostgreSQL: the dump)."""
    db.engine.dispose()
    if db.path is not None:
        outcome = recover_interrupted_restore(db.path)
        log.warning("restore_rolled_back", path=str(db.path), outcome=outcome)
    elif swapped:
        postgres.restore(db.url, safety)
        log.warning("restore_rolled_back", url=db.display_url, safety_backup=str(safety))
    db._reopen()


def _audit_restore(uow: object, path: Path, safety: Path) -> None:
    from inventory_core.audit.trail import append
    from inventory_core.db.uow import UnitOfWork

    assert isinstance(uow, UnitOfWork)
    append(
        uow,
        Operation.RESTORE,
        user=current_user(),
        details={"backup": path.name, "safety_backup": safety.name},
    )


def _swap_sqlite(db: Database, backup: Path, plan: RestorePlan, swapped: list[bool]) -> None:
    live = db.path
    assert live is not None
    new, old = new_path(live), old_path(live)
    write_journal(live, "prepare", backup, plan.safety_backup)
    fault_point("restore-prepared")
    copy_durably(backup, new)
    manifest = read_manifest(backup)
    if manifest is None or sha256_file(new) != manifest.sha256:
        raise RestoreError("the staged copy differs from the backup", path=str(backup))
    fault_point("restore-staged")
    db.engine.dispose()
    _checkpoint(live)
    remove_quietly(old)
    os.link(live, old)
    fsync_dir(live.parent)
    write_journal(live, "swap", backup, plan.safety_backup)
    fault_point("restore-linked")
    remove_quietly(*sidecars(live))
    swapped.append(True)
    os.replace(new, live)
    fsync_dir(live.parent)
    fault_point("restore-swapped")
    _check_swapped(live, backup, quick_check=False)
    db._reopen()
    fault_point("restore-reopened")


def _check_swapped(live: Path, backup: Path, *, quick_check: bool = True) -> None:
    """The schema (and ``quick_check``) of the file now in place, read-only.

    ``quick_check`` is skipped when the staged copy's sha256 already proved it holds the
    very bytes that passed ``integrity_check`` moments before.
    """
    conn = open_readonly(live)
    try:
        rows = [str(r[0]) for r in conn.execute("PRAGMA quick_check")] if quick_check else ["ok"]
        wrong = schema_error(conn, live)
    finally:
        conn.close()
    if rows != ["ok"]:
        raise RestoreError("quick_check after the swap: " + "; ".join(rows), path=str(backup))
    if wrong is not None:
        raise wrong


def _checkpoint(live: Path) -> None:
    """Move the WAL into the main file so that file alone is the whole old database.

    Raises:
        RestoreError: another connection holds the database open (the WAL cannot be
            checkpointed); nothing was changed.
    """
    conn = sqlite3.connect(live, timeout=5.0)
    try:
        busy, _log, _done = conn.execute("PRAGMA wal_checkpoint(TRUNCATE)").fetchone()
    finally:
        conn.close()
    if busy:
        raise RestoreError(
            "another program has the database open; close it and try again", path=str(live)
        )


def _restore_server(db: Database, dump: Path) -> None:
    db.engine.dispose()
    postgres.restore(db.url, dump)
    db._reopen()


def restore_damaged(live: Path, backup: Path, settings: Settings | None = None) -> Path:
    """Put a verified backup in place of a SQLite database that no longer opens.

    A damaged file cannot be backed up through SQLite, so it is kept aside instead, as
    ``<db>.damaged-<UTC stamp>`` (with its ``-wal``), for forensics. The same journal as
    :func:`restore` makes the swap crash-safe, and the result must pass
    ``Database.open(check="quick")`` or the damaged file is put back.

    Returns:
        Where the damaged file was kept.

    Raises:
        RestoreError: the backup is not valid (nothing was changed).
        RestoreRolledBackError: the restored file failed to open; the damaged one is back.
    """
    from inventory_core.db.database import Database

    live = live.expanduser().resolve()
    recover_interrupted_restore(live)
    check_backup(backup)
    stamp = datetime.now(UTC).strftime("%Y%m%d_%H%M%S")
    aside = live.with_name(f"{live.name}.damaged-{stamp}")
    new, old = new_path(live), old_path(live)
    write_journal(live, "prepare", backup, aside)
    copy_durably(backup, new)
    for sidecar in sidecars(live):
        if sidecar.exists():
            os.link(sidecar, aside.with_name(aside.name + sidecar.name[len(live.name) :]))
    if live.exists():
        remove_quietly(old)
        os.link(live, old)
    fsync_dir(live.parent)
    write_journal(live, "swap", backup, aside)
    remove_quietly(*sidecars(live))
    os.replace(new, live)
    fsync_dir(live.parent)
    try:
        inspect_sqlite_file(live)
        _check_swapped(live, backup)
    except InventoryError as exc:
        recover_interrupted_restore(live)
        raise RestoreRolledBackError(
            exc.message, path=str(backup), safety_backup=str(aside)
        ) from exc
    write_journal(live, "done", backup, aside)
    if old.exists():
        os.replace(old, aside)
    finish(live)
    Database.open(live, settings=settings, check="quick").close()
    log.warning("restore_over_damaged", path=str(live), backup=str(backup), kept=str(aside))
    return aside
