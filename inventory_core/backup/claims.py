"""Checking a SQLite backup against every claim of its manifest, by reading the file itself.

A checksum only proves that the bytes are the ones the manifest was computed over, and
whoever can edit a backup can recompute it. So ``verify`` and ``restore`` also read the
file and compare, claim by claim: size, schema revision, rows per table, the audit chain's
head hash and length, and the database identity. They walk the backup's own audit chain
with the same walk as ``inventory-core audit verify`` (:func:`inventory_core.audit.verify.verify`,
on a read-only connection to the file), so an audit row edited inside the backup is found
even when its manifest was rewritten to match. What they show the operator (the rows per
table a restore brings back) is what the file holds, never what the manifest says.

The identity check stops the other mistake: restoring shop A's backup over shop B. Each
database carries a UUID (``database_identity``); a backup whose UUID differs from the live
database's is refused unless the caller passes ``allow_other_database``. A backup taken
before identities existed is matched by its audit chain instead: two databases share no
first audit row.
"""

from __future__ import annotations

import sqlite3
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from sqlalchemy import create_engine, func, inspect, select
from sqlalchemy.pool import NullPool

from inventory_core.backup.manifest import FORMAT, Manifest, sqlite_facts
from inventory_core.backup.sqlite_copy import open_readonly
from inventory_core.errors import (
    InventoryError,
    RestoreAuditChainError,
    RestoreError,
    RestoreManifestMismatchError,
    RestoreOtherDatabaseError,
)

if TYPE_CHECKING:
    from inventory_core.db.database import Database
    from inventory_core.db.uow import UnitOfWork


@dataclass(frozen=True)
class FileFacts:
    """What a backup file holds, read from the file (never from its manifest)."""

    schema_revision: str | None
    row_counts: dict[str, int]
    audit_head_hash: str | None
    audit_rows: int
    database_id: str | None
    first_audit_hash: str | None


@dataclass(frozen=True)
class Identity:
    """Who a database is: its UUID (None before ``0004``) and its first audit row's hash."""

    database_id: str | None
    first_audit_hash: str | None


class BackupFile:
    """A SQLite backup opened read-only, readable by code written for a :class:`Database`.

    Every connection is ``mode=ro``: nothing is ever written next to the backup, not even
    a ``-wal`` or ``-shm``.
    """

    dialect = "sqlite"

    def __init__(self, path: Path) -> None:
        self.path: Path | None = path
        self._file = path
        self.display_url = str(path)
        self.engine = create_engine(
            "sqlite://", creator=lambda: open_readonly(self._file), poolclass=NullPool
        )

    def read(self) -> UnitOfWork:
        """A read-only unit of work on the backup."""
        from inventory_core.db.uow import UnitOfWork

        return UnitOfWork(self.engine, write=False, context={"path": str(self._file)})

    def close(self) -> None:
        """Release the engine."""
        self.engine.dispose()


def read_facts(conn: sqlite3.Connection) -> FileFacts:
    """The facts of the SQLite file behind ``conn`` (a read-only connection)."""
    facts = sqlite_facts(conn)
    first = None
    if "audit_log" in facts["row_counts"]:
        row = conn.execute("SELECT hash FROM audit_log ORDER BY audit_id LIMIT 1").fetchone()
        first = None if row is None else str(row[0])
    return FileFacts(
        schema_revision=facts["schema_revision"],
        row_counts=facts["row_counts"],
        audit_head_hash=facts["audit_head_hash"],
        audit_rows=facts["audit_rows"],
        database_id=facts["database_id"],
        first_audit_hash=first,
    )


def claim_errors(
    path: Path, manifest: Manifest, facts: FileFacts, *, size: int, dialect: str = "sqlite"
) -> list[RestoreError]:
    """Every manifest claim the file contradicts (the sha256 is checked by the caller).

    ``reason``, ``run_id``, ``created_at``, ``method`` and the versions describe how the
    backup was taken: nothing in the file can confirm or deny them.
    """
    wrong: list[str] = []
    if manifest.format != FORMAT:
        wrong.append(f"format {manifest.format} is not {FORMAT}")
    if manifest.file != path.name:
        wrong.append(f"it describes the file {manifest.file!r}")
    if manifest.dialect != dialect:
        wrong.append(f"dialect {manifest.dialect!r}, the file is {dialect}")
    if manifest.size != size:
        wrong.append(f"size {manifest.size}, the file has {size} bytes")
    if manifest.schema_revision != facts.schema_revision:
        wrong.append(
            f"schema revision {manifest.schema_revision}, the file is at {facts.schema_revision}"
        )
    for table in sorted(set(manifest.row_counts) | set(facts.row_counts)):
        claimed, found = manifest.row_counts.get(table), facts.row_counts.get(table)
        if claimed != found:
            wrong.append(f"{table}: {claimed} rows claimed, {found} in the file")
    if manifest.audit_head_hash != facts.audit_head_hash:
        wrong.append(
            f"audit head {manifest.audit_head_hash}, the file's is {facts.audit_head_hash}"
        )
    if manifest.audit_rows != facts.audit_rows:
        wrong.append(f"{manifest.audit_rows} audit rows claimed, {facts.audit_rows} in the file")
    if manifest.database_id != facts.database_id:
        wrong.append(f"database {manifest.database_id}, the file is {facts.database_id}")
    return [RestoreManifestMismatchError("; ".join(wrong), path=str(path))] if wrong else []


def chain_error(path: Path, manifest: Manifest, source: Path | None = None) -> RestoreError | None:
    """Why the backup's own audit chain does not verify (against its manifest), or None.

    Args:
        path: the backup, as named in the error.
        manifest: its manifest; the chain must end at its head, at its row count.
        source: the file to read when it is not ``path`` (the staged copy of a restore).
    """
    from inventory_core.audit.verify import verify

    backup = BackupFile(source or path)
    try:
        report = verify(backup, against=manifest.model_dump())
    except InventoryError as exc:
        return RestoreAuditChainError(exc.message, path=str(path))
    finally:
        backup.close()
    if report.ok:
        return None
    where = "" if report.first_broken_id is None else f" (audit_id {report.first_broken_id})"
    return RestoreAuditChainError(report.reason + where, path=str(path))


def dump_file_facts(path: Path) -> FileFacts:
    """The facts of a ``pg_dump`` archive, read from its data."""
    from inventory_core.backup.postgres import dump_facts

    found = dump_facts(path)
    return FileFacts(
        schema_revision=found.schema_revision,
        row_counts=found.row_counts,
        audit_head_hash=found.audit_last[1] if found.audit_last else None,
        audit_rows=found.row_counts.get("audit_log", 0),
        database_id=found.database_id,
        first_audit_hash=found.audit_first[1] if found.audit_first else None,
    )


def server_facts(db: Database) -> FileFacts:
    """The same facts, read from an open database (one read transaction).

    Only the tables that exist are counted: a database just restored from a dump of an
    older revision lacks the newer ones until it is upgraded.
    """
    from inventory_core.db import migrations
    from inventory_core.models import AuditLog, DatabaseIdentity, metadata

    with db.read() as uow:
        present = set(inspect(uow.connection).get_table_names())
        counts = {
            name: int(uow.scalar(select(func.count()).select_from(table)))
            for name, table in sorted(metadata.tables.items())
            if name in present
        }
        head = uow.scalar(select(AuditLog.hash).order_by(AuditLog.audit_id.desc()).limit(1))
        first = uow.scalar(select(AuditLog.hash).order_by(AuditLog.audit_id).limit(1))
        revision = migrations.current_revision(uow.connection)
        database_id = None
        if DatabaseIdentity.__tablename__ in present:
            database_id = uow.scalar(
                select(DatabaseIdentity.database_id).where(DatabaseIdentity.id == 1)
            )
    return FileFacts(revision, counts, head, counts.get("audit_log", 0), database_id, first)


def chain_error_live(db: Database, path: Path, manifest: Manifest) -> RestoreError | None:
    """Why the chain of a database just restored from ``path`` does not verify, or None."""
    from inventory_core.audit.verify import verify

    try:
        report = verify(db, against=manifest.model_dump())
    except InventoryError as exc:
        return RestoreAuditChainError(exc.message, path=str(path))
    if report.ok:
        return None
    return RestoreAuditChainError(report.reason, path=str(path))


def live_identity(db: Database) -> Identity:
    """The live database's identity (its UUID and first audit row)."""
    from inventory_core.models import AuditLog, DatabaseIdentity

    with db.read() as uow:
        database_id = uow.scalar(
            select(DatabaseIdentity.database_id).where(DatabaseIdentity.id == 1)
        )
        first = uow.scalar(select(AuditLog.hash).order_by(AuditLog.audit_id).limit(1))
    return Identity(database_id, first)


def identity_error(
    path: Path, facts: FileFacts, live: Identity, *, allow_other_database: bool
) -> RestoreError | None:
    """A :class:`RestoreOtherDatabaseError` when the backup is of another database."""
    if allow_other_database:
        return None
    if facts.database_id is not None and live.database_id is not None:
        if facts.database_id == live.database_id:
            return None
        return RestoreOtherDatabaseError(
            path=str(path), found=facts.database_id, expected=live.database_id
        )
    ours, theirs = live.first_audit_hash, facts.first_audit_hash
    if ours is None or theirs is None or ours == theirs:
        return None
    return RestoreOtherDatabaseError(
        path=str(path),
        found=f"(no identity; audit chain starting {theirs[:12]})",
        expected=live.database_id or f"(audit chain starting {ours[:12]})",
    )
