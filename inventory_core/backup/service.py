""":class:`BackupService`: take, list, verify, restore and prune backups of one database."""

from __future__ import annotations

import builtins
import json
import os
import sqlite3
import time
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from sqlalchemy import select

from inventory_core.audit.context import current_run_id, current_user
from inventory_core.audit.logs import get_logger
from inventory_core.audit.trail import Operation, append
from inventory_core.backup import postgres
from inventory_core.backup.catalog import BackupInfo, list_backups, new_backup_path
from inventory_core.backup.files import (
    create_private,
    fault_point,
    fsync_dir,
    fsync_file,
    is_disk_full,
    remove_quietly,
    sha256_file,
    sidecars,
)
from inventory_core.backup.manifest import (
    Manifest,
    library_version,
    manifest_path,
    sqlite_facts,
    write_manifest,
)
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
from inventory_core.errors import BackupError, BackupSpaceError, InventoryError

if TYPE_CHECKING:
    from inventory_core.backup.restore import RestorePlan, RestoreResult
    from inventory_core.db.database import Database

log = get_logger("inventory_core.backup")


@dataclass(frozen=True)
class Problem:
    """One finding of :meth:`BackupService.verify`: an error code and a message."""

    code: str
    message: str


class BackupService:
    """Backups of one database in one folder, with a retention policy.

    Args:
        db: the open database.
        directory: the backup folder (created when missing).
        retention: what :meth:`apply_retention` keeps.
        step_pages: pages per step of the online copy.
        max_restarts: restarts by writers tolerated before copying in one step.
        deadline_s: seconds of stepping tolerated before copying in one step.
    """

    def __init__(
        self,
        db: Database,
        directory: str | os.PathLike[str],
        retention: RetentionPolicy | None = None,
        *,
        step_pages: int = STEP_PAGES,
        max_restarts: int = MAX_RESTARTS,
        deadline_s: float = DEADLINE_S,
    ) -> None:
        self.db = db
        self.directory = Path(directory).expanduser().resolve()
        self.retention = retention or RetentionPolicy()
        self.step_pages = step_pages
        self.max_restarts = max_restarts
        self.deadline_s = deadline_s

    @property
    def stem(self) -> str:
        """The prefix of this database's backup names (file stem or PostgreSQL db name)."""
        if self.db.path is not None:
            return self.db.path.stem
        return str(self.db.url.database or "postgres")

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
            BackupToolMissingError: PostgreSQL without ``pg_dump``.
            BackupError: the copy failed its checks, or another I/O error.
        """
        self.directory.mkdir(parents=True, exist_ok=True)
        started = time.monotonic()
        now = datetime.now(UTC)
        suffix = ".db" if self.db.path is not None else ".dump"
        target = new_backup_path(self.directory, self.stem, reason, suffix, now)
        tmp = target.with_name(f".{target.name}.tmp")
        try:
            if self.db.path is not None:
                method, facts = self._copy_sqlite(tmp, progress, quick_check)
            else:
                facts = self._server_facts()
                create_private(tmp)
                postgres.dump(self.db.url, tmp)
                method = "pg_dump"
            fsync_file(tmp)
            fault_point("backup-before-rename")
            manifest = Manifest(
                file=target.name,
                sha256=sha256_file(tmp),
                size=tmp.stat().st_size,
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
            os.replace(tmp, target)
            fsync_dir(self.directory)
            fault_point("backup-manifest")
            write_manifest(manifest, target)
        except BaseException as exc:
            remove_quietly(tmp, *sidecars(tmp), target, manifest_path(target))
            if isinstance(exc, InventoryError) or not isinstance(exc, Exception):
                raise
            if is_disk_full(exc):
                raise BackupSpaceError(str(exc), folder=str(self.directory)) from exc
            raise BackupError(str(exc)) from exc
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

    def _copy_sqlite(
        self, tmp: Path, progress: Progress | None, quick_check: bool = False
    ) -> tuple[str, dict[str, Any]]:
        assert self.db.path is not None
        create_private(tmp)
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
        conn = open_readonly(tmp)
        try:
            wrong = schema_error(conn, tmp)
            if wrong is not None:
                raise BackupError(f"the copy is not a usable database: {wrong.message}")
            problems = content_problems(conn, quick=quick_check)
            if problems:
                raise BackupError("the copy failed its checks: " + "; ".join(problems))
            facts = sqlite_facts(conn)
        finally:
            conn.close()
        return stats.method, facts

    def _server_facts(self) -> dict[str, Any]:
        from inventory_core.backup.claims import server_facts

        facts = server_facts(self.db)
        return {
            "schema_revision": facts.schema_revision,
            "row_counts": facts.row_counts,
            "audit_head_hash": facts.audit_head_hash,
            "audit_rows": facts.audit_rows,
            "database_id": facts.database_id,
        }

    def _record(self, operation: Operation, details: dict[str, Any], elapsed_ms: float) -> None:
        """Append the audit row of a backup-side operation to the live database."""
        self.db.run(
            lambda uow: append(
                uow, operation, user=current_user(), details=details, duration_ms=elapsed_ms
            ),
            operation=str(operation),
        )

    # -- listing, verifying, pruning ------------------------------------------------------

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
        """``(file name, sha256)`` of the backups retention must keep: the backup the last
        restore brought back and the safety backup it took (``database_identity``)."""
        from inventory_core.models import DatabaseIdentity

        try:
            with self.db.read() as uow:
                raw = uow.execute(
                    select(DatabaseIdentity.last_restore).where(DatabaseIdentity.id == 1)
                ).scalar_one_or_none()
        except InventoryError:
            return []
        try:
            pins = json.loads(raw) if raw else {}
        except ValueError:
            return []
        return [
            (str(pins[name]), pins.get(sha))
            for name, sha in (("backup", "backup_sha256"), ("safety_backup", "safety_sha256"))
            if pins.get(name)
        ]

    def apply_retention(self, dry_run: bool = False) -> builtins.list[BackupInfo]:
        """Delete the backups the policy does not keep (each with its manifest).

        Never the backup the last restore brought back, nor the safety backup it took
        (:meth:`pinned`), whatever the policy says.

        Args:
            dry_run: only report what would be deleted.

        Returns:
            The backups deleted (or that would be), newest first.
        """
        pins = self.pinned()

        def is_pinned(info: BackupInfo) -> bool:
            sha = info.manifest.sha256 if info.manifest else None
            return any(
                info.path.name == name and (sha is None or sha == want) for name, want in pins
            )

        doomed = [info for info in self.retention.prune(self.list()) if not is_pinned(info)]
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
            plan: the plan the operator confirmed; the restore refuses a backup that
                changed since.

        See :func:`inventory_core.backup.restore.restore` for the sequence and guarantees.
        """
        from inventory_core.backup.restore import plan_restore, restore

        if dry_run:
            return plan_restore(self, Path(path), allow_other_database=allow_other_database)
        return restore(self, Path(path), allow_other_database=allow_other_database, plan=plan)
