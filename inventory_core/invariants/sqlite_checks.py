"""SQLite's own consistency checks: ``quick_check`` / ``integrity_check`` and foreign keys.

``PRAGMA quick_check`` reads every page (O(N)) but skips matching index entries to table
rows; ``integrity_check`` also does that and is what ``--full`` runs. Both are SQLite-only:
on PostgreSQL they are reported as skipped (the server checks its own pages).
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import ClassVar, NamedTuple

from sqlalchemy import text

from inventory_core.db.prepared import Prepared
from inventory_core.db.uow import UnitOfWork
from inventory_core.errors import InventoryError
from inventory_core.invariants.base import BaseInvariant, InvariantResult, skipped

FULL_KEY = "full"  # uow.info key: True when check_all was asked for the full check


class _Line(NamedTuple):
    message: str


class _Orphan(NamedTuple):
    table_name: str
    rowid: int | None
    parent: str
    fkid: int


_CHECKS = {
    pragma: Prepared(text(f"PRAGMA {pragma}"), _Line)
    for pragma in ("quick_check", "integrity_check")
}
_FOREIGN_KEY_CHECK = Prepared(text("PRAGMA foreign_key_check"), _Orphan)


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
            # The fetch reads every page: a damaged one raises there, translated.
            lines = [str(row.message) for row in uow.fetch(_CHECKS[pragma])]
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
            rows = uow.fetch(_FOREIGN_KEY_CHECK)
        except InventoryError as exc:
            return self.failed(exc, started)
        problems = tuple(row._asdict() for row in rows)
        return self.result(
            ok=not problems, count=len(problems), sample=problems[:10], started=started, sql=sql
        )


__all__ = ["FULL_KEY", "ForeignKeyCheck", "SqliteIntegrity"]
