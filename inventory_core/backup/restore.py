"""Restoring a backup over the live database: check, plan, replace in one transaction.

The promise: a restore never loses a write acknowledged to any process. Every write
committed before the restore took the database's write lock is in the safety backup; every
write committed after it is applied to the restored database; and nothing commits in
between, because the restore holds the lock from before the safety backup until its own
commit. On SQLite (:mod:`inventory_core.backup.inplace`) the content is replaced inside one
write transaction on the live file, so every connection of every process sees the
restored database at its next transaction, and no process ever writes into a replaced
file; on PostgreSQL (:mod:`inventory_core.backup.server_restore`) the restore holds the
lock every library write takes for its audit row across the safety dump and ``pg_restore``.

The SQLite sequence:

1. stage the backup as a private copy and check *that copy*: sha256, ``integrity_check``,
   schema, every manifest claim, the backup's own audit chain, its database identity
   (:mod:`inventory_core.backup.staging`); upgrade it when its schema revision is older;
2. take this process's writer lock, then SQLite's write lock (``BEGIN IMMEDIATE``);
3. the safety backup, the replacement, the checks and the ``restore`` audit row, one
   transaction; ``COMMIT`` or ``ROLLBACK``;
4. delete the copy; apply retention (which keeps the backup restored and the safety backup:
   the restore pinned both in ``database_identity.last_restore``).

:func:`recover_interrupted_restore` still finishes a journal that a restore of an older
version of the library left behind, and :func:`restore_damaged` (a file that no longer
opens) keeps the file swap.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from inventory_core.backup.checks import Checked, check_backup
from inventory_core.backup.claims import Identity, live_identity
from inventory_core.backup.damaged import restore_damaged
from inventory_core.backup.inplace import Replaced, replace_live
from inventory_core.backup.journal import recover_interrupted_restore
from inventory_core.backup.manifest import read_manifest
from inventory_core.backup.restore_plan import (
    RestorePlan,
    RestoreResult,
    RestoreTarget,
    TableDiff,
    live_counts,
    plan_for,
)
from inventory_core.backup.staging import clean_stale, stage
from inventory_core.db import migrations
from inventory_core.errors import InventoryError, RestoreError, RestoreRolledBackError
from inventory_core.obs.context import current_user
from inventory_core.obs.logs import get_logger

log = get_logger("inventory_core.backup")


def plan_restore(
    service: RestoreTarget, path: Path, *, allow_other_database: bool = False
) -> RestorePlan:
    """Check ``path`` and describe the restore without changing anything.

    Raises:
        RestoreError: the backup fails a check (the same checks as :func:`restore`).
    """
    identity = live_identity(service.db)
    checked = check_backup(path, live=identity, allow_other_database=allow_other_database)
    return plan_for(service, checked, identity)


def restore(
    service: RestoreTarget,
    path: Path,
    *,
    allow_other_database: bool = False,
    plan: RestorePlan | None = None,
) -> RestoreResult:
    """Restore ``path`` over the live database without losing any acknowledged write.

    Args:
        service: the backup service of the live database (safety backup, retention).
        path: the backup to restore.
        allow_other_database: accept a backup whose identity is another database's.
        plan: the plan the operator confirmed; a backup whose sha256 changed since is
            refused.

    Raises:
        RestoreError: the backup is not valid, or the lock was not free
            (:class:`~inventory_core.errors.RestoreBusyError`); nothing was changed.
        RestoreRolledBackError: a check failed inside the restore's transaction, which was
            rolled back: the live database is as it was (a safety backup was taken).
    """
    db = service.db
    if db.path is None:
        from inventory_core.backup.server_restore import restore_server

        return restore_server(service, path, allow_other_database=allow_other_database, plan=plan)
    clean_stale(db.path)  # a journal of an older restore was finished when db was opened
    identity = live_identity(db)
    staged = stage(
        path,
        db.path,
        db.settings,
        identity=identity,
        allow_other_database=allow_other_database,
        expected_sha256=plan.sha256 if plan and plan.sha256 else None,
    )
    try:
        steps = plan or plan_for(service, staged.checked, identity)
        replaced = _replace(service, staged.path, staged.checked, identity)
    finally:
        staged.close()
    service.apply_retention()
    log.info(
        "restore_done",
        backup=str(path),
        safety_backup=str(replaced.safety_backup),
        writes_discarded=replaced.writes_discarded,
        ledger_rows_discarded=replaced.ledger_rows_discarded,
        locked_s=replaced.locked_s,
    )
    return RestoreResult(
        backup=path,
        safety_backup=replaced.safety_backup,
        revision=db.revision(),
        upgraded=staged.upgraded,
        tables=steps.tables,
        writes_discarded=replaced.writes_discarded,
        ledger_rows_discarded=replaced.ledger_rows_discarded,
        locked_s=replaced.locked_s,
    )


def _replace(
    service: RestoreTarget, staged: Path, checked: Checked, identity: Identity
) -> Replaced:
    """The transaction on the live file, under this process's writer lock."""
    db = service.db
    assert db.path is not None
    taken: list[Path] = []

    def take_safety() -> Path:
        taken.append(service.backup("pre-restore", record=False, quick_check=True))
        return taken[-1]

    def record(safety: Path, writes: int, ledger: int) -> tuple[dict[str, Any], str]:
        safety_manifest = read_manifest(safety)
        details: dict[str, Any] = {
            "backup": checked.path.name,
            "backup_sha256": checked.sha256,
            "safety_backup": safety.name,
            "safety_backup_sha256": safety_manifest.sha256 if safety_manifest else None,
            "writes_discarded": writes,
            "ledger_rows_discarded": ledger,
        }
        if checked.manifest.schema_revision != migrations.head_revision():
            details["upgraded_from"] = checked.manifest.schema_revision
        facts = checked.facts
        if facts and facts.database_id and facts.database_id != identity.database_id:
            details["other_database"] = facts.database_id
        return details, current_user()

    db.writer_lock.acquire(db.settings.writer_lock_timeout_s)
    try:
        return replace_live(
            db.path,
            staged,
            timeout_s=db.settings.writer_lock_timeout_s,
            cache_kib=db.settings.cache_size_kib,
            take_safety=take_safety,
            record=record,
        )
    except Exception as exc:
        if not taken:
            raise
        log.warning("restore_rolled_back", path=str(db.path), error=str(exc))
        detail = exc.message if isinstance(exc, InventoryError) else str(exc)
        raise RestoreRolledBackError(
            detail, path=str(checked.path), safety_backup=str(taken[-1])
        ) from exc
    finally:
        db.writer_lock.release()


__all__ = [
    "RestoreError",
    "RestorePlan",
    "RestoreResult",
    "TableDiff",
    "live_counts",
    "plan_restore",
    "recover_interrupted_restore",
    "restore",
    "restore_damaged",
]
