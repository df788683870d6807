"""The JSON manifest written next to every backup, and the facts it records.

The manifest is what makes a backup checkable later: its sha256 proves the bytes did not
change, its row counts and audit-chain head prove *what* was saved (the head hash, stored
outside the database, also catches a rewritten audit chain), and ``database_id`` says which
database it is a backup of. ``verify`` compares every one of these claims with the file
(:mod:`inventory_core.backup.claims`); manifests written before ``database_id`` existed
read it as None.
"""

from __future__ import annotations

import json
import platform
import sqlite3
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict

from inventory_core.backup.private import PrivateFile, remove_stale
from inventory_core.version import __version__

FORMAT = 1
SQLITE_TABLE_SQL = "SELECT name FROM sqlite_master WHERE type='table' AND name NOT LIKE 'sqlite_%'"


class Manifest(BaseModel):
    """What a backup holds and how to prove it (written as ``<backup>.manifest.json``)."""

    model_config = ConfigDict(frozen=True)

    format: int = FORMAT
    file: str
    sha256: str
    size: int
    dialect: str
    method: str
    schema_revision: str | None
    row_counts: dict[str, int]
    audit_head_hash: str | None
    audit_rows: int
    database_id: str | None = None
    reason: str
    run_id: str
    created_at: str
    verified: bool
    library_version: str
    sqlite_version: str
    python_version: str = platform.python_version()


def manifest_path(backup: Path) -> Path:
    """``<backup>.manifest.json``, next to the backup."""
    return backup.with_name(backup.name + ".manifest.json")


def write_manifest(manifest: Manifest, backup: Path) -> Path:
    """Write the manifest atomically (private temp file, fsync, rename, fsync the folder).

    The temp file is created exclusively with mode 0600 (a leftover or a planted link at
    its name is removed first, a link itself, never its target); the rename replaces
    whatever has the final name, a link itself too.
    """
    target = manifest_path(backup)
    tmp = target.with_name(f".{target.name}.tmp")
    remove_stale(tmp)
    with PrivateFile(tmp) as out:
        with out.open("w", encoding="utf-8") as handle:
            json.dump(manifest.model_dump(), handle, indent=2, sort_keys=True)
            handle.write("\n")
        out.publish(target, replace=True)
    return target


def read_manifest(backup: Path) -> Manifest | None:
    """The manifest of ``backup``, or None when it is missing or unreadable."""
    path = manifest_path(backup)
    try:
        return Manifest.model_validate_json(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None


def library_version() -> str:
    """The installed inventory_core version."""
    return __version__


def sqlite_facts(conn: sqlite3.Connection) -> dict[str, Any]:
    """Schema revision, row counts per table, the audit-chain head and the database identity
    of an SQLite file."""
    tables = sorted(str(row[0]) for row in conn.execute(SQLITE_TABLE_SQL))
    counts = {
        name: int(conn.execute(f'SELECT count(*) FROM "{name}"').fetchone()[0]) for name in tables
    }
    revision = None
    if "alembic_version" in tables:
        row = conn.execute("SELECT version_num FROM alembic_version").fetchone()
        revision = None if row is None else str(row[0])
    head = None
    if "audit_log" in tables:
        row = conn.execute("SELECT hash FROM audit_log ORDER BY audit_id DESC LIMIT 1").fetchone()
        head = None if row is None else str(row[0])
    database_id = None
    if "database_identity" in tables:
        row = conn.execute("SELECT database_id FROM database_identity WHERE id = 1").fetchone()
        database_id = None if row is None else str(row[0])
    counts.pop("alembic_version", None)
    return {
        "schema_revision": revision,
        "row_counts": counts,
        "audit_head_hash": head,
        "audit_rows": counts.get("audit_log", 0),
        "database_id": database_id,
    }
