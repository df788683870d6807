"""What a restore would do and what it did, and what it needs of the backup service.

Shared by the SQLite restore (:mod:`inventory_core.backup.restore`) and the PostgreSQL one
(:mod:`inventory_core.backup.server_restore`); both take the service as a
:class:`RestoreTarget`, so neither imports :class:`~inventory_core.backup.BackupService`,
which calls them.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Protocol

from sqlalchemy import func, select

from inventory_core.backup.catalog import new_backup_path
from inventory_core.backup.checks import Checked
from inventory_core.backup.claims import Identity
from inventory_core.db import migrations
from inventory_core.db.database import Database
from inventory_core.models import metadata


class RestoreTarget(Protocol):
    """What a restore needs of :class:`~inventory_core.backup.BackupService`."""

    @property
    def db(self) -> Database:
        """The live database."""
        ...

    @property
    def directory(self) -> Path:
        """The backup folder."""
        ...

    @property
    def stem(self) -> str:
        """The prefix of the database's backup names."""
        ...

    def backup(self, reason: str = ..., *, record: bool = ..., quick_check: bool = ...) -> Path:
        """Take a verified backup (the safety backup)."""
        ...

    def apply_retention(self) -> object:
        """Apply the retention policy after the restore."""
        ...


@dataclass(frozen=True)
class TableDiff:
    """Row count of one table now and after the restore (read from the backup itself)."""

    table: str
    now: int
    after: int

    @property
    def delta(self) -> int:
        """Rows gained (positive) or lost (negative) by restoring."""
        return self.after - self.now


@dataclass(frozen=True)
class RestorePlan:
    """What a restore would do (``restore(path, dry_run=True)``); nothing was changed.

    ``tables`` counts the rows of the backup file itself (on PostgreSQL, where a dump
    cannot be read without restoring it, the manifest's counts, checked after the restore).
    ``sha256`` is the backup's: a restore given this plan refuses a backup that changed.
    """

    backup: Path
    revision_now: str | None
    revision_backup: str | None
    upgrade_after: bool
    tables: tuple[TableDiff, ...]
    safety_backup: Path
    sha256: str = ""
    database_now: str | None = None
    database_backup: str | None = None
    audit_rows_backup: int = 0

    @property
    def other_database(self) -> bool:
        """True when the backup carries another database's identity."""
        return (
            self.database_now is not None
            and self.database_backup is not None
            and self.database_now != self.database_backup
        )


@dataclass(frozen=True)
class RestoreResult:
    """What a completed restore did.

    ``writes_discarded`` counts the audit rows (one per write) of the database as it was
    that the restored one does not hold, and ``ledger_rows_discarded`` its ledger rows:
    they are in ``safety_backup``, and nowhere else.
    """

    backup: Path
    safety_backup: Path
    revision: str | None
    upgraded: bool
    tables: tuple[TableDiff, ...]
    writes_discarded: int = 0
    ledger_rows_discarded: int = 0
    locked_s: float = 0.0
    """How long the restore held the write lock (other writers waited that long)."""


def live_counts(db: Database) -> dict[str, int]:
    """Rows per table in the live database."""
    with db.read() as uow:
        return {
            name: int(uow.scalar(select(func.count()).select_from(table)))
            for name, table in sorted(metadata.tables.items())
        }


def plan_for(service: RestoreTarget, checked: Checked, identity: Identity) -> RestorePlan:
    counts = checked.facts.row_counts if checked.facts else checked.manifest.row_counts
    now = live_counts(service.db)
    tables = tuple(
        TableDiff(name, now.get(name, 0), counts.get(name, 0))
        for name in sorted(set(now) | set(counts))
    )
    suffix = ".db" if service.db.path is not None else ".dump"
    safety = new_backup_path(
        service.directory, service.stem, "pre-restore", suffix, datetime.now(UTC)
    )
    facts = checked.facts
    return RestorePlan(
        backup=checked.path,
        revision_now=service.db.revision(),
        revision_backup=facts.schema_revision if facts else checked.manifest.schema_revision,
        upgrade_after=checked.manifest.schema_revision != migrations.head_revision(),
        tables=tables,
        safety_backup=safety,
        sha256=checked.sha256,
        database_now=identity.database_id,
        database_backup=facts.database_id if facts else checked.manifest.database_id,
        audit_rows_backup=facts.audit_rows if facts else checked.manifest.audit_rows,
    )
