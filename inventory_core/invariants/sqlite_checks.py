"""SQLite's own consistency checks: ``quick_check`` / ``integrity_check`` and foreign keys.

``PRAGMA quick_check`` reads every page (O(N)) but skips matching index entries to table
rows; ``integrity_check`` also does that and is what ``--full`` runs. Both are SQLite-only:
on PostgreSQL they are reported as skipped (the server checks its own pages).
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import ClassVar

from sqlalchemy import text

from inventory_core.db.uow import UnitOfWork
from inventory_core.errors import InventoryError
from inventory_core.invariants.base import BaseInvariant, InvariantResult, fetch, skipped

FULL_KEY = "full"  # uow.info key: True when check_all was asked for the full check


@dataclass(frozen=True)
class SqliteIntegrity(BaseInvariant):
    """The SQLite file's pages, b-trees (and, in full mode, indices) are sound."""

    name: ClassVar[str] = "sqlite_integrity"
    description: ClassVar[str] = "PRAGMA quick_check (or integrity_check with --full) returns 'ok'."
    recovery_steps: ClassVar[tuple[str, ...]] = (
        "Stop every program writing to the database.",
        "Restore the newest good backup: 'inventory-core restore PATH'.",
        "If the damage is only in an index, 'inventory-core maintenance reindex' rebuilds it.",
    )

    def check(self, uow: UnitOfWork) -> InvariantResult:
        started = time.perf_counter()
        if uow.dialect != "sqlite":
            return skipped(self, "SQLite only", started)
        pragma = "integrity_check" if uow.info.get(FULL_KEY) else "quick_check"
        sql = f"PRAGMA {pragma}"
        try:
            lines = [str(row[0]) for row in fetch(uow, text(sql))]
        except InventoryError as exc:
            return self.failed(exc, started)
        problems = tuple({"message": line} for line in lines if line != "ok")
        return self.result(
            ok=not problems, count=len(problems), sample=problems[:10], started=started, sql=sql
        )


@dataclass(frozen=True)
class ForeignKeyCheck(BaseInvariant):
    """``PRAGMA foreign_key_check`` finds no row whose parent is missing."""

    name: ClassVar[str] = "foreign_key_check"
    description: ClassVar[str] = "PRAGMA foreign_key_check returns no row."
    recovery_steps: ClassVar[tuple[str, ...]] = (
        "See referential_integrity for the rows and their missing parents; restore the "
        "newest good backup or re-create the parents.",
    )

    def check(self, uow: UnitOfWork) -> InvariantResult:
        started = time.perf_counter()
        if uow.dialect != "sqlite":
            return skipped(self, "SQLite only (PostgreSQL enforces foreign keys itself)", started)
        sql = "PRAGMA foreign_key_check"
        try:
            rows = fetch(uow, text(sql))
        except InventoryError as exc:
            return self.failed(exc, started)
        problems = tuple(
            {"table_name": row[0], "rowid": row[1], "parent": row[2], "fkid": row[3]}
            for row in rows
        )
        return self.result(
            ok=not problems, count=len(problems), sample=problems[:10], started=started, sql=sql
        )


__all__ = ["FULL_KEY", "ForeignKeyCheck", "SqliteIntegrity"]
