"""CSV snapshots: every table to UTF-8 CSV files (with BOM) and back, on SQLite and PostgreSQL.

A snapshot is a folder (or a zip of one) holding ``<table>.csv`` per table, ``manifest.json``
(schema revision, row count and sha256 per file) and ``README.txt``. The BOM makes Excel read
UTF-8 without its import wizard.

Text cells a spreadsheet would run as a formula (leading ``=``, ``+``, ``-``, ``@``, tab, CR)
get a leading ``'``; a genuine leading ``'`` and the empty string get one too, so that on
import *every* text cell starting with ``'`` loses exactly one and the round trip is exact.
An empty cell is NULL. Only text columns are touched: numbers stay numbers.
"""

from __future__ import annotations

import csv
import hashlib
import io
import json
import os
import tempfile
import zipfile
from collections.abc import Callable, Iterator
from datetime import UTC, date, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from sqlalchemy import Boolean, Date, Float, Integer, Numeric, Table, func, insert, select, text

from inventory_core.audit.context import current_user
from inventory_core.audit.trail import Operation, append
from inventory_core.backup.manifest import library_version
from inventory_core.db import migrations
from inventory_core.db.uow import UnitOfWork
from inventory_core.errors import (
    SnapshotError,
    SnapshotMismatchError,
    SnapshotTargetNotEmptyError,
)

if TYPE_CHECKING:
    from inventory_core.db.database import Database

FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r", "'")
ENCODING = "utf-8-sig"
BATCH = 5000
Progress = Callable[[str, int], None]

README = """inventory_core CSV snapshot
===========================

One CSV file per table, UTF-8 with BOM, comma-separated, first row = column names.
manifest.json lists the schema revision, the row count and the sha256 of every file.

- An empty cell is NULL.
- Text that starts with = + - @ ' a tab or a carriage return, and empty text, is written
  with one leading ' so spreadsheets never run it as a formula; the import removes it.
- Import only into an empty, migrated database: inventory-core --db NEW.db init, then
  inventory-core --db NEW.db import THIS_FOLDER_OR_ZIP.
- Editing a file breaks its sha256 and the import refuses the snapshot.
"""


DERIVED_TABLES = frozenset({"stock_positions"})
"""Caches the library rebuilds from the ledger on the next write: not part of a snapshot."""
FILE_TABLES = frozenset({"database_identity"})
"""Facts of the database file itself (its identity): an imported database keeps its own."""


def _tables() -> list[Table]:
    from inventory_core.models import metadata

    skipped = DERIVED_TABLES | FILE_TABLES
    return [t for t in metadata.sorted_tables if t.name not in skipped]


def encode_cell(value: Any, is_text: bool) -> str:
    """One value as CSV text (see the module docstring for the rules)."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "1" if value else "0"
    if isinstance(value, float):
        return repr(value)
    if isinstance(value, date | datetime):
        return value.isoformat()
    cell = str(value)
    if is_text and (cell == "" or cell.startswith(FORMULA_STARTS)):
        return "'" + cell
    return cell


def decode_cell(cell: str, column_type: Any) -> Any:
    """The value a cell written by :func:`encode_cell` stands for."""
    if cell == "":
        return None
    if isinstance(column_type, Boolean):
        return cell == "1"
    if isinstance(column_type, Integer):
        return int(cell)
    if isinstance(column_type, Float | Numeric):
        return float(cell)
    if isinstance(column_type, Date):
        return date.fromisoformat(cell)
    return cell[1:] if cell.startswith("'") else cell


def _is_text(column_type: Any) -> bool:
    return not isinstance(column_type, Boolean | Integer | Float | Numeric | Date)


def export_csv(
    db: Database,
    folder: str | os.PathLike[str],
    zip: bool = False,
    *,
    progress: Progress | None = None,
) -> Path:
    """Export every table as CSV from one consistent read transaction.

    Args:
        db: the database (SQLite or PostgreSQL).
        folder: the target folder (created; must be empty), or the zip file with ``zip``.
        zip: write one ``.zip`` instead of a folder.
        progress: called with ``(table, rows written)`` after each table.

    Returns:
        The folder or zip file written.
    """
    target = Path(folder).expanduser().resolve()
    if zip:
        target = target if target.suffix == ".zip" else target.with_name(target.name + ".zip")
        with tempfile.TemporaryDirectory(dir=target.parent) as work:
            _write_folder(db, Path(work), progress)
            tmp = target.with_name(f".{target.name}.tmp")
            with zipfile.ZipFile(tmp, "w", compression=zipfile.ZIP_DEFLATED) as archive:
                for item in sorted(Path(work).iterdir()):
                    archive.write(item, item.name)
            os.replace(tmp, target)
        return target
    target.mkdir(parents=True, exist_ok=True)
    if any(target.iterdir()):
        raise SnapshotError("the folder is not empty", path=str(target))
    _write_folder(db, target, progress)
    return target


def _write_folder(db: Database, folder: Path, progress: Progress | None) -> None:
    files: dict[str, Any] = {}
    with db.read() as uow:
        if uow.dialect == "postgresql":
            uow.execute(text("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ, READ ONLY"))
        revision = migrations.current_revision(uow.connection)
        for table in _tables():
            path = folder / f"{table.name}.csv"
            rows = _write_table(uow, table, path)
            files[table.name] = {
                "file": path.name,
                "rows": rows,
                "sha256": _sha(path),
                "columns": [c.name for c in table.columns],
            }
            if progress is not None:
                progress(table.name, rows)
    manifest = {
        "format": 1,
        "schema_revision": revision,
        "dialect": db.dialect,
        "created_at": datetime.now(UTC).isoformat(),
        "library_version": library_version(),
        "tables": files,
    }
    (folder / "manifest.json").write_text(json.dumps(manifest, indent=2), encoding="utf-8")
    (folder / "README.txt").write_text(README, encoding="utf-8")


def _write_table(uow: UnitOfWork, table: Table, path: Path) -> int:
    text_columns = [_is_text(c.type) for c in table.columns]
    order = list(table.primary_key.columns)
    count = 0
    with path.open("w", encoding=ENCODING, newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow([c.name for c in table.columns])
        result = uow.connection.execution_options(yield_per=BATCH).execute(
            select(table).order_by(*order)
        )
        for row in result:
            writer.writerow([encode_cell(v, t) for v, t in zip(row, text_columns, strict=True)])
            count += 1
    return count


def _sha(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


class _Source:
    """A snapshot folder or zip, read the same way."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.archive = zipfile.ZipFile(path) if path.is_file() else None

    def read(self, name: str) -> bytes:
        try:
            if self.archive is not None:
                return self.archive.read(name)
            return (self.path / name).read_bytes()
        except (KeyError, OSError) as exc:
            raise SnapshotMismatchError(f"{name} is missing", path=str(self.path)) from exc

    def close(self) -> None:
        if self.archive is not None:
            self.archive.close()


def import_csv(
    db: Database, path: str | os.PathLike[str], *, progress: Progress | None = None
) -> dict[str, int]:
    """Load a snapshot into an empty, migrated database, in one transaction.

    The manifest is checked first (schema revision, every file's sha256), then the rows are
    inserted in foreign-key order; a row count that differs from the manifest rolls the
    whole import back. One IMPORT audit row is appended on top of the imported chain.

    Returns:
        Rows imported per table.

    Raises:
        SnapshotError: not a snapshot, or a different schema revision.
        SnapshotMismatchError: a file is missing or differs from the manifest.
        SnapshotTargetNotEmptyError: the database already holds rows.
    """
    source_path = Path(path).expanduser().resolve()
    if not source_path.exists():
        raise SnapshotError("it does not exist", path=str(source_path))
    try:
        source = _Source(source_path)
    except zipfile.BadZipFile as exc:
        raise SnapshotError("not a folder or a zip file", path=str(source_path)) from exc
    try:
        manifest = _checked_manifest(db, source)
        payloads = {name: source.read(entry["file"]) for name, entry in manifest["tables"].items()}
    finally:
        source.close()
    for name, entry in manifest["tables"].items():
        if hashlib.sha256(payloads[name]).hexdigest() != entry["sha256"]:
            raise SnapshotMismatchError(f"{entry['file']} was changed", path=str(source_path))

    def load(uow: UnitOfWork) -> dict[str, int]:
        _require_empty(uow)
        counts: dict[str, int] = {}
        for table in _tables():
            counts[table.name] = _load_table(uow, table, payloads[table.name])
            expected = manifest["tables"][table.name]["rows"]
            if counts[table.name] != expected:
                raise SnapshotMismatchError(
                    f"{table.name}: {counts[table.name]} rows, the manifest says {expected}",
                    path=str(source_path),
                )
            if progress is not None:
                progress(table.name, counts[table.name])
        if uow.dialect == "postgresql":
            _reset_sequences(uow)
        append(
            uow,
            Operation.IMPORT,
            user=current_user(),
            details={"snapshot": source_path.name, "rows": sum(counts.values())},
        )
        return counts

    return db.run(load, operation="import")


def _checked_manifest(db: Database, source: _Source) -> dict[str, Any]:
    try:
        manifest: dict[str, Any] = json.loads(source.read("manifest.json"))
        tables = manifest["tables"]
    except (ValueError, KeyError, TypeError) as exc:
        raise SnapshotError("manifest.json is unreadable", path=str(source.path)) from exc
    expected = {t.name for t in _tables()}
    if set(tables) != expected:
        raise SnapshotMismatchError(
            f"tables {sorted(set(tables) ^ expected)} differ from the schema",
            path=str(source.path),
        )
    revision = db.revision()
    if manifest.get("schema_revision") != revision:
        raise SnapshotError(
            f"schema revision {manifest.get('schema_revision')} differs from the database's "
            f"{revision}; migrate both to the same revision first",
            path=str(source.path),
        )
    return manifest


def _require_empty(uow: UnitOfWork) -> None:
    busy = []
    for table in _tables():
        rows = int(uow.execute(select(func.count()).select_from(table)).scalar_one())
        if rows:
            busy.append(f"{table.name}: {rows} rows")
    if busy:
        raise SnapshotTargetNotEmptyError(", ".join(busy))


def _rows(table: Table, payload: bytes) -> Iterator[dict[str, Any]]:
    reader = csv.reader(io.StringIO(payload.decode(ENCODING), newline=""))
    header = next(reader, None)
    columns = [c.name for c in table.columns]
    if header != columns:
        raise SnapshotMismatchError(f"{table.name}: columns {header} differ from {columns}")
    types = [c.type for c in table.columns]
    for cells in reader:
        yield {
            name: decode_cell(cell, kind)
            for name, cell, kind in zip(columns, cells, types, strict=True)
        }


def _load_table(uow: UnitOfWork, table: Table, payload: bytes) -> int:
    count = 0
    batch: list[dict[str, Any]] = []
    for row in _rows(table, payload):
        batch.append(row)
        if len(batch) >= BATCH:
            uow.execute(insert(table), batch)
            count, batch = count + len(batch), []
    if batch:
        uow.execute(insert(table), batch)
        count += len(batch)
    return count


def _reset_sequences(uow: UnitOfWork) -> None:
    """Move PostgreSQL's id sequences past the imported ids."""
    for table in _tables():
        keys = list(table.primary_key.columns)
        if len(keys) != 1 or not isinstance(keys[0].type, Integer):
            continue
        column = keys[0].name
        uow.execute(
            text(
                f"SELECT setval(pg_get_serial_sequence('{table.name}', '{column}'), "
                f"COALESCE((SELECT max({column}) FROM {table.name}), 0) + 1, false) "
                f"WHERE pg_get_serial_sequence('{table.name}', '{column}') IS NOT NULL"
            )
        )
