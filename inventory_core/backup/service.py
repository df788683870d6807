""":class:`BackupService`: take, list, verify, restore and prune backups of one database."""

from __future__ import annotations

import builtins
import os
import sqlite3
import stat
import time
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from inventory_core.audit.trail import Operation, append
from inventory_core.backup import pins, postgres
from inventory_core.backup.catalog import BackupInfo, list_backups, new_backup_path, temp_path
from inventory_core.backup.files import (
    fault_point,
    fsync_dir,
    is_disk_full,
    remove_quietly,
    sidecars,
)
from inventory_core.backup.leftovers import remove_leftovers
from inventory_core.backup.manifest import (
    Manifest,
    library_version,
    manifest_path,
    sqlite_facts,
    write_manifest,
)
from inventory_core.backup.private import PrivateFile
from inventory_core.backup.retention import RetentionPolicy
from inventory_core.backup.sqlite_copy import (
    DEADLINE_S,
    MAX_RESTARTS,
    STEP_PAGES,
    Progress,
    content_problems,
    online_copy,
    open_readonly,
    schema_error,
)
from inventory_core.db.stores import backup_stem
from inventory_core.errors import (
    BackupError,
    BackupFolderUnsafeError,
    BackupSpaceError,
    InventoryError,
    ReadOnlyModeError,
    UnsafeFileError,
)
from inventory_core.errors.i18n import gettext
from inventory_core.obs.context import current_run_id, current_user
from inventory_core.obs.logs import get_logger

if TYPE_CHECKING:
    from inventory_core.backup.restore_plan import RestorePlan, RestoreResult
    from inventory_core.db.stores import backup_stem
from inventory_core.db.database import Database

log = get_logger("inventory_core.backup")

RESERVE_ATTEMPTS = 20


@dataclass(frozen=True)
class Problem:
    """One finding of :meth:`BackupService.verify`: an error code and a message."""

    code: str
    message: str


class BackupService:
    """Backups of one database in one folder, with a retention policy.

    Args:
        db: the open database.
        directory: the backup folder (created when missing); the database's own
            (:attr:`Database.backup_dir`) when omitted.
        retention: what :meth:`apply_retention` keeps.
        step_pages: pages per step of the online copy.
        max_restarts: restarts by writers tolerated before copying in one step.
        deadline_s: seconds of stepping tolerated before copying in one step.
    """

    def __init__(
        self,
        db: Database,
        directory: str | os.PathLike[str] | None = None,
        retention: RetentionPolicy | None = None,
        *,
        step_pages: int = STEP_PAGES,
        max_restarts: int = MAX_RESTARTS,
        deadline_s: float = DEADLINE_S,
    ) -> None:
        self.db = db
        folder = db.backup_dir if directory is None else Path(directory)
        self._given = folder.expanduser()
        self.directory = self._given.resolve()
        self.retention = retention or RetentionPolicy()
        self.step_pages = step_pages
        self.max_restarts = max_restarts
        self.deadline_s = deadline_s

    @property
    def stem(self) -> str:
        """Prefix of the backup names: file stem, server database name (``db.schema``)."""
        return self.db.path.stem if self.db.path else backup_stem(self.db.url, self.db.schema)

    # -- taking a backup ------------------------------------------------------------------

    def backup(
        self,
        reason: str = "manual",
        *,
        progress: Progress | None = None,
        record: bool = True,
        quick_check: bool = False,
    ) -> Path:
        """Take a verified backup and record it in the audit trail.

        Args:
            reason: why (``manual``, ``open``, ``pre-migration``...); part of the file name.
            progress: called with ``(pages_done, pages_total)`` during the copy.
            record: append a BACKUP row to the audit trail. The safety backup of a restore
                does not: it is taken inside the restore's transaction, whose own audit row
                names it.
            quick_check: check the copy with ``quick_check`` rather than
                ``integrity_check`` (the safety backup of a restore, taken while other
                writers wait; ``verify`` runs the full check on it later).

        Returns:
            The path of the new backup (its manifest is ``<path>.manifest.json``).

        Raises:
            BackupSpaceError: the folder ran out of space (nothing partial is left).
            BackupFolderUnsafeError: the folder is a dangling link or writable by everyone.
            UnsafeFileError: no backup name could be created safely.
            BackupToolMissingError: PostgreSQL without ``pg_dump``.
            BackupError: the copy failed its checks, or another I/O error.
            ReadOnlyModeError: ``record`` on a database opened read-only (nothing is copied).
        """
        if record and self.db.read_only:
            raise ReadOnlyModeError(
                gettext(
                    "a backup records itself in the audit trail (record=False backs it up without)"
                ),
                path=str(self.db.path or self.db.display_url),
            )
        self._checked_folder()
        remove_leftovers(self.directory, self.stem)
        started = time.monotonic()
        now = datetime.now(UTC)
        suffix = ".db" if self.db.path is not None else ".dump"
        target, tmp = self._reserve(reason, suffix, now)
        published = False
        try:
            with tmp:
                if self.db.path is not None:
                    method, facts = self._copy_sqlite(tmp, progress, quick_check)
                else:
                    facts = self._server_facts()
                    postgres.dump(self.db.url, tmp, self.db.schema)
                    method = "pg_dump"
                tmp.sync()
                fault_point("backup-before-rename")
                manifest = Manifest(
                    file=target.name,
                    sha256=tmp.sha256(),
                    size=tmp.size(),
                    dialect=self.db.dialect,
                    method=method,
                    reason=reason,
                    run_id=current_run_id(),
                    created_at=now.isoformat(),
                    verified=True,
                    library_version=library_version(),
                    sqlite_version=sqlite3.sqlite_version,
                    **facts,
                )
                tmp.publish(target)
                published = True
                fault_point("backup-manifest")
                write_manifest(manifest, target)
        except BaseException as exc:
            # Leaving ``with tmp`` removed the copy, under its temp or its final name.
            remove_quietly(*sidecars(temp_path(target)))
            if published:
                remove_quietly(manifest_path(target))
            if isinstance(exc, InventoryError) or not isinstance(exc, Exception):
                raise
            raise self._failure(exc) from exc
        elapsed_ms = (time.monotonic() - started) * 1000
        if record:
            details = {"file": target.name, "reason": reason, "sha256": manifest.sha256}
            self._record(Operation.BACKUP, details, elapsed_ms)
        log.info(
            "backup_taken",
            path=str(target),
            reason=reason,
            method=method,
            size=manifest.size,
            elapsed_ms=round(elapsed_ms, 1),
        )
        return target

    def _checked_folder(self) -> Path:
        """The backup folder, created (mode 0700) when missing, once it is checked sound.

        A folder every user may write to (without the sticky bit of ``/tmp``) would let
        anyone swap a verified copy before it is renamed into place; a link to a folder
        that does not exist would make the backups land wherever it points once created.

        Raises:
            BackupFolderUnsafeError: a dangling link, not a folder, or writable by everyone.
        """
        folder = str(self._given)
        if self._given.is_symlink() and not self._given.exists():
            raise BackupFolderUnsafeError(
                gettext("it is a symbolic link to a folder that does not exist"), folder=folder
            )
        try:
            self.directory.mkdir(mode=0o700, parents=True, exist_ok=True)
        except FileExistsError as exc:
            raise BackupFolderUnsafeError(gettext("it is not a folder"), folder=folder) from exc
        mode = os.lstat(self.directory).st_mode
        if not stat.S_ISDIR(mode):
            raise BackupFolderUnsafeError(gettext("it is not a folder"), folder=folder)
        if mode & stat.S_IWOTH and not mode & stat.S_ISVTX:
            raise BackupFolderUnsafeError(
                gettext(
                    "every user of this machine may write in it, so anyone could swap a backup"
                ),
                folder=folder,
            )
        return self.directory

    def _reserve(self, reason: str, suffix: str, now: datetime) -> tuple[Path, PrivateFile]:
        """A free backup name and its temp file, created exclusively.

        When the temp name is taken meanwhile (another process's backup in the same second,
        or something planted there), the next ``-N`` name is tried.

        Raises:
            UnsafeFileError: no free name after :data:`RESERVE_ATTEMPTS` tries.
        """
        for _ in range(RESERVE_ATTEMPTS):
            target = new_backup_path(self.directory, self.stem, reason, suffix, now)
            try:
                return target, PrivateFile(temp_path(target))
            except UnsafeFileError as exc:
                taken = exc
            except OSError as exc:
                raise self._failure(exc) from exc
        raise taken

    def _failure(self, exc: Exception) -> BackupError:
        """The typed error for an I/O failure of a backup (a full disk has its own)."""
        if is_disk_full(exc):
            return BackupSpaceError(str(exc), folder=str(self.directory))
        return BackupError(str(exc))

    def _copy_sqlite(
        self, tmp: PrivateFile, progress: Progress | None, quick_check: bool = False
    ) -> tuple[str, dict[str, Any]]:
        assert self.db.path is not None
        fault_point("backup-copy")
        stats = online_copy(
            self.db.path,
            tmp,
            busy_timeout_s=self.db.settings.busy_timeout_ms / 1000,
            step_pages=self.step_pages,
            max_restarts=self.max_restarts,
            deadline_s=self.deadline_s,
            progress=progress,
        )
        conn = open_readonly(tmp.path)
        try:
            wrong = schema_error(conn, tmp.path)
            if wrong is not None:
                raise BackupError(
                    gettext("the copy is not a usable database: {message}").format(
                        message=wrong.message
                    )
                )
            problems = content_problems(conn, quick=quick_check)
            if problems:
                raise BackupError(
                    gettext("the copy failed its checks: {problems}").format(
                        problems="; ".join(problems)
                    )
                )
            facts = sqlite_facts(conn)
        finally:
            conn.close()
        return stats.method, facts

    def _server_facts(self) -> dict[str, Any]:
        from inventory_core.backup.claims import server_facts

        facts = asdict(server_facts(self.db))
        del facts["first_audit_hash"]  # a manifest does not record it
        return facts

    def _record(self, operation: Operation, details: dict[str, Any], elapsed_ms: float) -> None:
        """Append the audit row of a backup-side operation to the live database."""
        self.db.run(
            lambda uow: append(
                uow, operation, user=current_user(), details=details, duration_ms=elapsed_ms
            ),
            operation=str(operation),
        )

    # -- listing, verifying, pruning (retention never deletes what a restore pinned) ------

    def list(self) -> list[BackupInfo]:
        """This database's backups in the folder, newest first."""
        return list_backups(self.directory, self.stem)

    def verify(
        self, path: str | os.PathLike[str], *, allow_other_database: bool = False
    ) -> builtins.list[Problem]:
        """Check a backup: its bytes, SQLite's own checks, every manifest claim, its audit
        chain, and that it is a backup of this database.

        Costs one sha256 pass, one ``integrity_check`` (plus ``foreign_key_check`` when the
        sha256 does not vouch for the file), one count per table and one walk of the
        backup's audit chain.

        Args:
            path: the backup.
            allow_other_database: do not report a backup of another database.

        Returns:
            The problems found; an empty list means the backup can be restored.
        """
        from inventory_core.backup.checks import backup_errors
        from inventory_core.backup.claims import live_identity

        found = backup_errors(
            Path(path), live=live_identity(self.db), allow_other_database=allow_other_database
        )
        return [Problem(e.code, e.message) for e in found]

    def pinned(self) -> builtins.list[tuple[str, str | None]]:
        """``(file name, sha256)`` of the backups retention must keep (:func:`.pins.pinned`)."""
        return pins.pinned(self.db)

    def apply_retention(self, dry_run: bool = False) -> builtins.list[BackupInfo]:
        """Delete the backups the policy does not keep (each with its manifest).

        Never the backup the last restore brought back, nor the safety backup it took
        (:meth:`pinned`), whatever the policy says.

        Args:
            dry_run: only report what would be deleted.

        Returns:
            The backups deleted (or that would be), newest first.
        """
        kept = self.pinned()
        pruned = self.retention.prune(self.list())
        doomed = [info for info in pruned if not pins.is_pinned(info, kept)]
        if dry_run or not doomed:
            return doomed
        for info in doomed:
            remove_quietly(info.manifest_path, info.path)
        fsync_dir(self.directory)
        log.info("retention_applied", deleted=[i.path.name for i in doomed])
        return doomed

    # -- restoring ------------------------------------------------------------------------

    def restore(
        self,
        path: str | os.PathLike[str],
        dry_run: bool = False,
        *,
        allow_other_database: bool = False,
        plan: RestorePlan | None = None,
    ) -> RestorePlan | RestoreResult:
        """Restore a backup over the live database, or with ``dry_run`` show the plan.

        Args:
            path: the backup.
            dry_run: only check it and return the :class:`RestorePlan`.
            allow_other_database: accept a backup of another database.
            plan: the plan the operator confirmed; a backup that changed since is refused.

        See :func:`inventory_core.backup.restore.restore` for the sequence and guarantees.
        """
        from inventory_core.backup.restore import plan_restore, restore

        if dry_run:
            return plan_restore(self, Path(path), allow_other_database=allow_other_database)
        return restore(self, Path(path), allow_other_database=allow_other_database, plan=plan)
