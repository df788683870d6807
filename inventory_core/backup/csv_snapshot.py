"""CSV snapshots: every table to UTF-8 CSV files (with BOM) and back, on SQLite and PostgreSQL.

A snapshot is a folder (or a zip of one) holding ``<table>.csv`` per table, ``manifest.json``
(schema revision, row count and sha256 per file) and ``README.txt``. The BOM makes Excel read
UTF-8 without its import wizard.

Text cells a spreadsheet would run as a formula (leading ``=``, ``+``, ``-``, ``@``, tab, CR)
get a leading ``'``; a genuine leading ``'`` and the empty string get one too, so that on
import *every* text cell starting with ``'`` loses exactly one and the round trip is exact.
An empty cell is NULL. Only text columns are touched: numbers stay numbers.

Each value has exactly one written form, which is what lets the import
(:mod:`inventory_core.backup.csv_import`) accept that form only and refuse any other.
"""

from __future__ import annotations

import contextlib
import csv
import hashlib
import json
import os
import shutil
import tempfile
import zipfile
from collections.abc import Callable
from datetime import UTC, date, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from sqlalchemy import Boolean, Date, Float, Integer, Numeric, Table, select, text

from inventory_core.backup.manifest import library_version
from inventory_core.backup.private import PrivateFile, remove_stale, resolved_parent
from inventory_core.db import migrations
from inventory_core.db.uow import UnitOfWork
from inventory_core.errors import SnapshotError
from inventory_core.errors.i18n import gettext as _

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
- Editing a file breaks its sha256 and the import refuses the snapshot. A forger who
  recomputes the sha256 gains nothing: numbers, dates and quoted text are read only in
  the exact form written here, and the import runs the full check and the audit chain
  walk before it commits, so edited data is refused and nothing is imported.
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

    Nothing is left behind when it fails: the files are written into a hidden folder inside
    the target and moved into place (``manifest.json`` last) only once all are written, and
    a folder the export created is removed again.

    Args:
        db: the database (SQLite or PostgreSQL).
        folder: the target folder (created; must be empty), or the zip file with ``zip``.
        zip: write one ``.zip`` instead of a folder.
        progress: called with ``(table, rows written)`` after each table.

    Every file (each CSV, the manifest, the README, the zip) is created exclusively with
    mode 0600, never through a link: a snapshot holds the whole database.

    Returns:
        The folder or zip file written.

    Raises:
        UnsafeFileError: a file or link appeared at one of the snapshot's names.
    """
    target = resolved_parent(Path(folder))
    if zip:
        target = target if target.suffix == ".zip" else target.with_name(target.name + ".zip")
        tmp = target.with_name(f".{target.name}.tmp")
        remove_stale(tmp)
        with tempfile.TemporaryDirectory(dir=target.parent, prefix=f".{target.name}.") as work:
            _write_folder(db, Path(work), progress)  # mkdtemp: a private folder (0700)
            with PrivateFile(tmp) as out:
                with (
                    out.open("w+b") as handle,
                    zipfile.ZipFile(handle, "w", compression=zipfile.ZIP_DEFLATED) as archive,
                ):
                    for item in sorted(Path(work).iterdir()):
                        archive.write(item, item.name)
                out.publish(target, replace=True)
        return target
    created = [p for p in (target, *target.parents) if not p.exists()]
    target.mkdir(mode=0o700, parents=True, exist_ok=True)
    if any(target.iterdir()):
        raise SnapshotError(_("the folder is not empty"), path=str(target))
    staging = Path(tempfile.mkdtemp(prefix=".export-", dir=target))
    moved: list[Path] = []
    try:
        _write_folder(db, staging, progress)
        for name in sorted(os.listdir(staging), key=lambda name: name == "manifest.json"):
            os.replace(staging / name, target / name)
            moved.append(target / name)
        staging.rmdir()
    except BaseException:
        for path in moved:
            path.unlink(missing_ok=True)
        shutil.rmtree(staging, ignore_errors=True)
        for path in created:
            with contextlib.suppress(OSError):
                path.rmdir()
        raise
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
    _write_text(folder / "manifest.json", json.dumps(manifest, indent=2))
    _write_text(folder / "README.txt", README)


def _write_text(path: Path, content: str) -> None:
    with PrivateFile(path) as out, out.open("w", encoding="utf-8") as handle:
        handle.write(content)


def _write_table(uow: UnitOfWork, table: Table, path: Path) -> int:
    text_columns = [_is_text(c.type) for c in table.columns]
    order = list(table.primary_key.columns)
    count = 0
    with PrivateFile(path) as out, out.open("w", encoding=ENCODING, newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow([c.name for c in table.columns])
        for rows in uow.stream(select(table).order_by(*order), BATCH):
            for row in rows:
                writer.writerow([encode_cell(v, t) for v, t in zip(row, text_columns, strict=True)])
            count += len(rows)
    return count


def _sha(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()
