"""Database upkeep: ANALYZE, REINDEX, VACUUM, PRAGMA optimize and WAL checkpoints.

These statements cannot run inside a transaction (``VACUUM`` refuses to, and SQLite's
``PRAGMA wal_checkpoint`` cannot truncate under an open read), so they run on a connection
in autocommit mode while this process's writer lock is held. ``vacuum`` and ``reindex``
rewrite most of the file, so they take a backup first (``db.backup("pre-vacuum")``); every
real run leaves an audit row. ``dry_run`` reports what would run without touching anything.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

from sqlalchemy import text

from inventory_core.audit.trail import Operation, append
from inventory_core.errors import translate_db_errors
from inventory_core.models import metadata
from inventory_core.obs.context import current_user

if TYPE_CHECKING:
    from inventory_core.db.uow import UnitOfWork
    from inventory_core.opening.database import Database

Action = Literal["analyze", "reindex", "vacuum", "optimize", "checkpoint"]
ACTIONS: tuple[Action, ...] = ("analyze", "reindex", "vacuum", "optimize", "checkpoint")
BACKUP_FIRST: frozenset[str] = frozenset({"vacuum", "reindex"})

_SQLITE: dict[str, tuple[str, ...]] = {
    "analyze": ("ANALYZE",),
    "reindex": ("REINDEX",),
    # The rewritten pages land in the WAL first; the checkpoint moves them into the file so
    # the size after is the file's real size.
    "vacuum": ("VACUUM", "PRAGMA wal_checkpoint(TRUNCATE)"),
    "optimize": ("PRAGMA optimize",),
    "checkpoint": ("PRAGMA wal_checkpoint(TRUNCATE)",),
}
_POSTGRESQL: dict[str, tuple[str, ...]] = {
    "analyze": ("ANALYZE",),
    "reindex": tuple(f"REINDEX TABLE {name}" for name in sorted(metadata.tables)),
    "vacuum": ("VACUUM",),
    "optimize": ("VACUUM (ANALYZE)",),
    "checkpoint": ("CHECKPOINT",),
}


@dataclass(frozen=True)
class MaintenanceResult:
    """What a maintenance action did (or, with ``dry_run``, would do)."""

    action: str
    dry_run: bool
    statements: tuple[str, ...]
    backup_first: bool
    backup: Path | None
    size_before: int
    size_after: int | None
    elapsed_ms: float
    output: tuple[tuple[Any, ...], ...] = ()

    def to_dict(self) -> dict[str, Any]:
        """A JSON-friendly view."""
        return {
            "action": self.action,
            "dry_run": self.dry_run,
            "statements": list(self.statements),
            "backup_first": self.backup_first,
            "backup": str(self.backup) if self.backup else None,
            "size_before": self.size_before,
            "size_after": self.size_after,
            "elapsed_ms": self.elapsed_ms,
            "output": [list(row) for row in self.output],
        }


def statements_for(db: Database, action: Action) -> tuple[str, ...]:
    """The SQL ``action`` runs on ``db``'s dialect."""
    table = _POSTGRESQL if db.dialect == "postgresql" else _SQLITE
    return table[action]


def database_size(db: Database) -> int:
    """Bytes used: the SQLite file plus its WAL, or ``pg_database_size`` on PostgreSQL."""
    if db.path is not None:
        wal = db.path.with_name(db.path.name + "-wal")
        return sum(p.stat().st_size for p in (db.path, wal) if p.exists())
    with db.read() as uow:
        return int(uow.scalar(text("SELECT pg_database_size(current_database())")))


def _execute_outside_transaction(
    db: Database, statements: tuple[str, ...]
) -> list[tuple[Any, ...]]:
    output: list[tuple[Any, ...]] = []
    db.writer_lock.acquire()
    try:
        with translate_db_errors(**db.error_context()):
            if db.path is not None:
                raw = db.engine.raw_connection()
                try:
                    cursor = raw.driver_connection.cursor()  # type: ignore[union-attr]
                    for statement in statements:
                        output.extend(tuple(row) for row in cursor.execute(statement).fetchall())
                finally:
                    raw.close()
            else:
                with db.engine.connect() as conn:
                    conn = conn.execution_options(isolation_level="AUTOCOMMIT")
                    for statement in statements:
                        conn.exec_driver_sql(statement)
    finally:
        db.writer_lock.release()
    return output


def run(db: Database, action: Action, *, dry_run: bool = False) -> MaintenanceResult:
    """Run one maintenance action on ``db``.

    Args:
        db: the open database.
        action: one of :data:`ACTIONS`.
        dry_run: only report the statements, the size and whether a backup would be taken.

    Returns:
        The statements, sizes before and after, the backup path and any output rows
        (``wal_checkpoint`` returns ``busy, log pages, checkpointed pages``).
    """
    started = time.perf_counter()
    statements = statements_for(db, action)
    backup_first = action in BACKUP_FIRST
    size_before = database_size(db)
    if dry_run:
        return MaintenanceResult(
            action, True, statements, backup_first, None, size_before, None, 0.0
        )
    backup = db.backup(f"pre-{action}") if backup_first else None
    output = _execute_outside_transaction(db, statements)
    size_after = database_size(db)
    elapsed = round((time.perf_counter() - started) * 1000, 3)
    details: dict[str, Any] = {
        "action": action,
        "size_before": size_before,
        "size_after": size_after,
    }
    if backup is not None:
        details["backup"] = str(backup)

    def record(uow: UnitOfWork) -> None:
        append(
            uow, Operation.MAINTENANCE, user=current_user(), details=details, duration_ms=elapsed
        )

    db.run(record, operation="maintenance")
    return MaintenanceResult(
        action, False, statements, backup_first, backup, size_before, size_after, elapsed,
        tuple(output),
    )  # fmt: skip


def action_runner(action: Action) -> Callable[..., MaintenanceResult]:
    """``run`` bound to one action: ``vacuum(db, dry_run=True)``."""

    def bound(db: Database, *, dry_run: bool = False) -> MaintenanceResult:
        return run(db, action, dry_run=dry_run)

    bound.__name__ = action
    bound.__doc__ = f"Run {action} on ``db`` (see :func:`run`)."
    return bound


analyze = action_runner("analyze")
reindex = action_runner("reindex")
vacuum = action_runner("vacuum")
optimize = action_runner("optimize")
checkpoint = action_runner("checkpoint")

__all__ = [
    "ACTIONS",
    "BACKUP_FIRST",
    "MaintenanceResult",
    "analyze",
    "checkpoint",
    "database_size",
    "optimize",
    "reindex",
    "run",
    "statements_for",
    "vacuum",
]
