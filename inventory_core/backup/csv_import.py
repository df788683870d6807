"""Importing a CSV snapshot: all of it, checked like ``check --full``, or nothing.

Before the database is touched, the snapshot's own claims are checked: manifest shape,
schema revision, the file names (inside the snapshot only, see
:mod:`~inventory_core.backup.snapshot_source`) and each file's sha256. Then one write unit
of work requires an empty target, inserts every table in foreign-key order (each cell read
strictly, see :mod:`~inventory_core.backup.snapshot_cells`), appends the IMPORT audit row,
and runs every registered invariant and the audit chain walk on the rows it is about to
commit (:func:`~inventory_core.invariants.report.check_unit`). Any finding raises a
``BAK_`` error and the unit of work rolls back, so a refused import leaves the target as
it was: empty.

A sha256 only proves the files are the ones the manifest describes; whoever edits a file
can recompute it. The checks are what refuse a forged snapshot: stock below zero, an
audit row whose hash no longer matches, a demand row without its SALE event.

Each batch of rows is inserted inside a SAVEPOINT: when the database refuses a batch
(a duplicate key, a CHECK, a missing parent), its rows are inserted again one by one to
name the row and the column, and the error says where.
"""

from __future__ import annotations

import hashlib
import os
import re
from collections.abc import Iterable, Iterator
from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING, Any

from sqlalchemy import (
    CheckConstraint,
    Date,
    Integer,
    Table,
    func,
    insert,
    select,
    text,
)
from sqlalchemy.sql.schema import ColumnCollectionConstraint

from inventory_core.audit.trail import Operation, append
from inventory_core.backup.csv_snapshot import DERIVED_TABLES, Progress, _tables
from inventory_core.backup.snapshot_cells import NOWHERE, at, read_rows, show
from inventory_core.backup.snapshot_source import Manifest, SnapshotSource, read_manifest
from inventory_core.db.uow import UnitOfWork
from inventory_core.errors import (
    DuplicateError,
    ForeignKeyViolationError,
    InventoryError,
    SnapshotError,
    SnapshotMismatchError,
    SnapshotRowError,
    SnapshotTargetNotEmptyError,
    SnapshotUnhealthyError,
    is_retryable,
)
from inventory_core.errors.i18n import gettext, ngettext
from inventory_core.invariants.base import InvariantResult
from inventory_core.invariants.report import check_unit
from inventory_core.models import metadata
from inventory_core.obs.context import current_user

if TYPE_CHECKING:
    from inventory_core.db.database import Database

BATCH = 5000


def import_csv(
    db: Database, path: str | os.PathLike[str], *, progress: Progress | None = None
) -> dict[str, int]:
    """Load a snapshot into an empty, migrated database, in one checked transaction.

    Returns:
        Rows imported per table.

    Raises:
        SnapshotError: not a snapshot, or a different schema revision (``BAK_020``); its
            subclasses name the file, row and column of what is wrong: a malformed manifest
            (``BAK_040``), a file outside the snapshot (``BAK_041``), an unsafe zip
            (``BAK_042``), text that is not UTF-8 (``BAK_043``), a bad cell (``BAK_044``),
            a bad or refused row (``BAK_045``), a wrong header (``BAK_046``), data that
            fails the full check or the audit chain (``BAK_047``).
        SnapshotMismatchError: a file is missing or differs from the manifest.
        SnapshotTargetNotEmptyError: the database already holds rows.
    """
    source_path = Path(path).expanduser().resolve()
    where = str(source_path)
    with SnapshotSource(source_path) as source:
        manifest = read_manifest(source, _tables())
        revision = db.revision()
        if manifest.schema_revision != revision:
            raise SnapshotError(
                gettext(
                    "schema revision {schema_revision} differs from the database's {revision}; "
                    "migrate both to the same revision first"
                ).format(schema_revision=show(manifest.schema_revision), revision=revision),
                path=where,
                **at("manifest.json", NOWHERE, "schema_revision"),
            )
        payloads = {name: source.read(entry.file) for name, entry in manifest.tables.items()}
    for name, entry in manifest.tables.items():
        actual = hashlib.sha256(payloads[name]).hexdigest()
        if actual != entry.sha256:
            raise SnapshotMismatchError(
                gettext(
                    "{file} was changed: its sha256 is {actual}, the manifest says {sha256}"
                ).format(file=entry.file, actual=actual, sha256=entry.sha256),
                path=where,
                **at(entry.file),
            )

    def load(uow: UnitOfWork) -> dict[str, int]:
        _require_empty(uow, where)
        counts: dict[str, int] = {}
        for table in _tables():
            entry = manifest.tables[table.name]
            rows = read_rows(table, entry.file, payloads[table.name], uow.dialect, where)
            counts[table.name] = _insert_all(uow, table, entry.file, rows, where)
            if counts[table.name] != entry.rows:
                raise SnapshotMismatchError(
                    gettext("{name}: {counts} rows, the manifest says {rows}").format(
                        name=table.name, counts=counts[table.name], rows=entry.rows
                    ),
                    path=where,
                    **at(entry.file),
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
        _refuse_findings(uow, manifest, payloads, where)
        return counts

    return db.run(load, operation="import")


def _require_empty(uow: UnitOfWork, where: str) -> None:
    busy = []
    for table in [*_tables(), *(metadata.tables[name] for name in sorted(DERIVED_TABLES))]:
        rows = int(uow.scalar(select(func.count()).select_from(table)))
        if rows:
            busy.append(
                ngettext("{table}: {n} row", "{table}: {n} rows", rows).format(
                    table=table.name, n=rows
                )
            )
    if busy:
        raise SnapshotTargetNotEmptyError(", ".join(busy), path=where, **at(NOWHERE))


def _insert_all(
    uow: UnitOfWork,
    table: Table,
    file: str,
    rows: Iterator[tuple[int, dict[str, Any]]],
    where: str,
) -> int:
    count = 0
    batch: list[tuple[int, dict[str, Any]]] = []
    for row in rows:
        batch.append(row)
        if len(batch) >= BATCH:
            _insert(uow, table, file, batch, where)
            count, batch = count + len(batch), []
    if batch:
        _insert(uow, table, file, batch, where)
        count += len(batch)
    return count


def _insert(
    uow: UnitOfWork, table: Table, file: str, batch: list[tuple[int, dict[str, Any]]], where: str
) -> None:
    try:
        with uow.connection.begin_nested():
            uow.execute(insert(table), [values for _, values in batch])
    except InventoryError as exc:
        if is_retryable(exc):
            raise
        for number, values in batch:
            try:
                with uow.connection.begin_nested():
                    uow.execute(insert(table).values(values))
            except InventoryError as refused:
                if is_retryable(refused):
                    raise
                column = _column_of(uow, table, values, refused)
                raise SnapshotRowError(
                    _why(refused, column, values), path=where, **at(file, number, column)
                ) from refused
        raise SnapshotRowError(exc.detail, path=where, **at(file)) from exc


def _why(error: InventoryError, column: str, values: dict[str, Any]) -> str:
    shown = ", ".join(f"{name}={show(str(values.get(name)))}" for name in column.split(", "))
    if isinstance(error, DuplicateError):
        return f"another row of the file has the same key ({shown})"
    if isinstance(error, ForeignKeyViolationError):
        return f"{shown} refers to a row that is not in the snapshot"
    return f"the schema refuses the row ({error.detail})"


def _column_of(uow: UnitOfWork, table: Table, values: dict[str, Any], error: Exception) -> str:
    """The column(s) a refused row breaks, from the driver's message or the constraints."""
    orig = getattr(error.__cause__, "orig", None)
    diag = getattr(orig, "diag", None)
    names: list[str] = []
    if diag is not None and getattr(diag, "column_name", None):
        names = [str(diag.column_name)]
    elif diag is not None and getattr(diag, "constraint_name", None):
        names = _constraint_columns(table, str(diag.constraint_name))
    else:
        message = str(orig or error)
        found = re.search(r"constraint failed: (.+)$", message.splitlines()[0])
        if found:
            listed = [part.strip() for part in found.group(1).split(",")]
            names = [part.split(".")[-1] for part in listed if part.startswith(f"{table.name}.")]
            names = names or _constraint_columns(table, listed[0])
    if not names and isinstance(error, ForeignKeyViolationError):
        names = _missing_parent(uow, table, values)
    return ", ".join(names) or NOWHERE


def _constraint_columns(table: Table, name: str) -> list[str]:
    """The columns of the constraint or unique index called ``name`` (a CHECK: those it uses)."""
    for constraint in table.constraints:
        if constraint.name != name:
            continue
        if isinstance(constraint, CheckConstraint):
            unquoted = re.sub(r"'[^']*'", "", str(constraint.sqltext))
            words = set(re.findall(r"[A-Za-z_][A-Za-z0-9_]*", unquoted))
            return [c.name for c in table.columns if c.name in words]
        if isinstance(constraint, ColumnCollectionConstraint):
            return [c.name for c in constraint.columns]
    return next(([c.name for c in i.columns] for i in table.indexes if i.name == name), [])


def _missing_parent(uow: UnitOfWork, table: Table, values: dict[str, Any]) -> list[str]:
    for key in table.foreign_key_constraints:
        children = [element.parent for element in key.elements]
        if any(values.get(c.name) is None for c in children):
            continue
        parents = [element.column for element in key.elements]
        match = [p == values[c.name] for c, p in zip(children, parents, strict=True)]
        found = uow.scalar(select(func.count()).select_from(parents[0].table).where(*match))
        if not found:
            return [c.name for c in children]
    return []


def _refuse_findings(
    uow: UnitOfWork, manifest: Manifest, payloads: dict[str, bytes], where: str
) -> None:
    """Run the full check and the audit chain walk on the uncommitted import; refuse findings."""
    failures = [result for result in check_unit(uow, full=True) if not result.ok]
    if not failures:
        return
    detail = "; ".join(_finding(result) for result in failures)
    file, row = _locate(failures[0], manifest, payloads, uow.dialect)
    raise SnapshotUnhealthyError(
        detail,
        path=where,
        failures=", ".join(result.name for result in failures),
        **at(file, row),
    )


def _finding(result: InvariantResult) -> str:
    example = result.sample[0] if result.sample else {"detail": result.detail}
    shown = ", ".join(f"{k}={v}" for k, v in example.items() if v is not None)
    return f"{result.name} fails ({result.count} found; first: {shown[:200]})"


_ALIASES = {"first_broken_id": "audit_id"}
_TABLE_OF = {"demand_history": "sales"}
"""Checks whose sample does not start with a key of the table at fault."""


def _locate(
    result: InvariantResult, manifest: Manifest, payloads: dict[str, bytes], dialect: str
) -> tuple[str, Any]:
    """The file, and the row, of the first sample row of a failed check.

    A sample names the table at fault by its first key that is a table's own primary key
    (``transaction_id``, the audit walk's ``first_broken_id``...); the row is found by
    reading that table's file again, so it is right whatever order the rows are in.
    """
    samples = [{_ALIASES.get(k, k): v for k, v in s.items()} for s in result.sample]
    table = _table_of(result.name, samples[0]) if samples else None
    if table is None:
        return NOWHERE, NOWHERE
    file = manifest.tables[table.name].file
    columns = list(table.primary_key.columns)
    wanted = {_key(s, columns) for s in samples if all(s.get(c.name) is not None for c in columns)}
    for number, values in read_rows(table, file, payloads[table.name], dialect, ""):
        if tuple(values[c.name] for c in columns) in wanted:
            return file, number
    return file, NOWHERE


def _table_of(check: str, sample: dict[str, Any]) -> Table | None:
    tables = {table.name: table for table in _tables()}
    if check in _TABLE_OF:
        return tables[_TABLE_OF[check]]
    keyed = {
        table.primary_key.columns[0].name: table
        for table in tables.values()
        if len(table.primary_key.columns) == 1
    }
    return next((keyed[key] for key in sample if key in keyed), None)


def _key(sample: dict[str, Any], columns: Iterable[Any]) -> tuple[Any, ...]:
    values = []
    for column in columns:
        value = sample[column.name]
        if isinstance(column.type, Integer):
            value = int(value)
        elif isinstance(column.type, Date) and isinstance(value, str):
            value = date.fromisoformat(value)
        values.append(value)
    return tuple(values)


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


__all__ = ["import_csv"]
