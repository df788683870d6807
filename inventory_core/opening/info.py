"""A description of an open database for ``inventory-core info`` and debug bundles."""

from __future__ import annotations

import sqlite3
from typing import Any

from sqlalchemy import func, select, text

from inventory_core.db import migrations
from inventory_core.db.database import Database
from inventory_core.models import metadata
from inventory_core.version import __version__

PRAGMAS = (
    "journal_mode",
    "foreign_keys",
    "synchronous",
    "busy_timeout",
    "cache_size",
    "temp_store",
    "journal_size_limit",
    "page_size",
    "page_count",
)


def describe(db: Database) -> dict[str, Any]:
    """Facts about ``db``: where it is, how it was opened, its size, revision, versions,
    PRAGMAs in effect and where its backups go.

    A read-only open reports its way (``read-only (immutable)`` reports
    ``journal_mode=delete`` whatever the file's mode: SQLite then ignores journals).
    """
    facts: dict[str, Any] = {
        "url": db.display_url,
        "access": db.access.value,
        "backup_dir": str(db.backup_dir),
        "dialect": db.dialect,
        "inventory_core": __version__,
        "schema_revision": None,
        "head_revision": migrations.head_revision(),
    }
    with db.read() as uow:
        revision = migrations.current_revision(uow.connection)
        facts["schema_revision"] = revision
        if db.path is not None:
            facts["path"] = str(db.path)
            facts["size_bytes"] = db.path.stat().st_size if db.path.exists() else 0
            wal = db.path.with_name(db.path.name + "-wal")
            facts["wal_bytes"] = wal.stat().st_size if wal.exists() else 0
            facts["sqlite_version"] = sqlite3.sqlite_version
            facts["pragmas"] = {name: uow.scalar(text(f"PRAGMA {name}")) for name in PRAGMAS}
        else:
            facts["server_version"] = uow.scalar(text("SHOW server_version"))
            facts["store_schema"] = uow.scalar(text("SELECT current_schema()"))
        if revision is not None:
            facts["rows"] = {
                name: uow.scalar(select(func.count()).select_from(table))
                for name, table in sorted(metadata.tables.items())
            }
    return facts
