"""Cheap structural checks: the schema revision and the presence of every schema object.

These read only the catalogue (``sqlite_master``, ``pg_catalog``) and ``alembic_version``,
never a data table, so they take the same few milliseconds on any ledger size: they are
what ``Database.open(check="quick")`` runs.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import ClassVar

from sqlalchemy import Index, text

from inventory_core.db import migrations
from inventory_core.db.uow import UnitOfWork
from inventory_core.errors import InventoryError, translate_db_errors
from inventory_core.invariants.base import BaseInvariant, InvariantResult, fetch
from inventory_core.models import metadata
from inventory_core.models.triggers import APPEND_ONLY_TABLES

_SQLITE_CATALOGUE = "SELECT type, name, sql FROM sqlite_master"
_PG_CATALOGUE = """
SELECT 'table' AS type, tablename AS name, '' AS sql
  FROM pg_catalog.pg_tables WHERE schemaname = current_schema()
UNION ALL
SELECT 'index', indexname, indexdef
  FROM pg_catalog.pg_indexes WHERE schemaname = current_schema()
UNION ALL
SELECT 'trigger', t.tgname, ''
  FROM pg_catalog.pg_trigger t JOIN pg_catalog.pg_class c ON c.oid = t.tgrelid
 WHERE NOT t.tgisinternal AND t.tgenabled <> 'D'
   AND c.relnamespace = current_schema()::regnamespace
"""


@dataclass(frozen=True)
class SchemaRevision(BaseInvariant):
    """The database is stamped with the revision this code was written for."""

    name: ClassVar[str] = "schema_revision"
    description: ClassVar[str] = "alembic_version holds the code's head revision."
    recovery_steps: ClassVar[tuple[str, ...]] = (
        "Behind: back up, then 'inventory-core upgrade'. Ahead: upgrade inventory_core.",
    )
    cheap: ClassVar[bool] = True

    def check(self, uow: UnitOfWork) -> InvariantResult:
        started = time.perf_counter()
        try:
            with translate_db_errors():
                found = migrations.current_revision(uow.connection)
        except InventoryError as exc:
            return self.failed(exc, started)
        expected = migrations.head_revision()
        sample = () if found == expected else ({"found": found, "expected": expected},)
        return self.result(
            ok=not sample,
            count=len(sample),
            sample=sample,
            started=started,
            sql="SELECT version_num FROM alembic_version",
        )


def expected_objects(dialect: str) -> dict[str, str]:
    """Every table, index and append-only trigger the code expects: name -> kind.

    Unique indices are ``unique index``: a unique index replaced by a plain one no longer
    guards idempotent receiving or single reversals.
    """
    expected = {name: "table" for name in metadata.tables}
    for table in metadata.tables.values():
        for index in table.indexes:
            assert isinstance(index, Index) and isinstance(index.name, str)
            expected[index.name] = "unique index" if index.unique else "index"
    for table_name in APPEND_ONLY_TABLES:
        suffixes = (
            ("append_only", "no_truncate")
            if dialect == "postgresql"
            else (
                "no_update",
                "no_delete",
            )
        )
        for suffix in suffixes:
            expected[f"trg_{table_name}_{suffix}"] = "trigger"
    return expected


@dataclass(frozen=True)
class SchemaObjects(BaseInvariant):
    """Every table, index and append-only trigger of the schema exists (and is enabled)."""

    name: ClassVar[str] = "schema_objects"
    description: ClassVar[str] = (
        "Every table, index (unique where declared) and append-only trigger is present."
    )
    recovery_steps: ClassVar[tuple[str, ...]] = (
        "Someone altered the schema by hand: restore the newest good backup, or re-create "
        "the listed object from the migration in alembic/versions.",
    )
    cheap: ClassVar[bool] = True

    def check(self, uow: UnitOfWork) -> InvariantResult:
        started = time.perf_counter()
        sql = _PG_CATALOGUE if uow.dialect == "postgresql" else _SQLITE_CATALOGUE
        try:
            rows = fetch(uow, text(sql))
        except InventoryError as exc:
            return self.failed(exc, started)
        present: dict[str, str] = {}
        for kind, name, definition in rows:
            if kind == "index" and "UNIQUE INDEX" in (definition or "").upper():
                kind = "unique index"
            present[str(name)] = str(kind)
        missing = tuple(
            {"object": name, "kind": kind, "found": present.get(name)}
            for name, kind in sorted(expected_objects(uow.dialect).items())
            if present.get(name) != kind
        )
        return self.result(
            ok=not missing, count=len(missing), sample=missing[:10], started=started, sql=sql
        )


__all__ = ["SchemaObjects", "SchemaRevision", "expected_objects"]
