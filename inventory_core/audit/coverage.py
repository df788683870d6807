"""Ledger coverage: every ledger row is sealed by the audit row of the unit of work that wrote it.

The hash chain proves that no audit row was edited, inserted or deleted; on its own it says
nothing about the ledger the audit rows describe. So each audit row also carries, in its
hashed ``ledger`` field, the ids and a digest of every covered row its unit of work wrote:

- insert-only tables (``transactions``, ``transaction_reversals``, ``receiving_logs``,
  ``order_receipts``, ``lot_draws``, ``order_closures``) as runs of consecutive ids
  ``[first, last, digest]``,
  the digest taken over the rows of the run in id order;
- tables whose rows change later (``lots``: their remainder; ``order_logs``: quantity
  received and status) as ``[id, digest]`` per row, the state the unit left it in. A later
  unit that changes the row covers it again; the newest audit row that names a row is the
  one its current state must match.

:func:`check` proves, in one read transaction, that every row of every covered table is
covered by exactly one run (insert-only) or one newest entry (changing rows) whose digest
matches, and that every covered id still exists. A row inserted, deleted or edited behind
the library's back, a moved date or a deleted reversal is therefore found, on SQLite and
PostgreSQL alike: the digest is computed from the stored values (dates read as ISO text).

The library's write paths say what they wrote: :func:`note` for rows whose ids they know,
:func:`mark` before a bulk insert (every row above the mark that the unit of work can see
is its own: SQLite's write lock excludes other writers, and a SERIALIZABLE PostgreSQL
transaction does not see rows committed after its snapshot; a READ COMMITTED one, which
does, reads back only the rows whose ``xmin`` is its own transaction). :func:`collect`, called by
:func:`inventory_core.audit.trail.append`, reads those rows back and builds the field.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable, Iterator, Sequence
from typing import Any, NamedTuple

from sqlalchemy import bindparam, func, inspect, select
from sqlalchemy import text as sql_text

from inventory_core.audit.covered import BY_NAME, COVERED, Covered
from inventory_core.audit.seal_check import (
    DIGEST_HEX,
    STREAM_BATCH,
    CoverageReport,
    Seals,
    check_tables,
    digest_of,
    row_text,
)
from inventory_core.db.prepared import Prepared
from inventory_core.db.uow import UnitOfWork

_INFO_NOTED = "coverage_noted"
_INFO_MARKS = "coverage_marks"


def _between(spec: Covered) -> Prepared[Any]:
    id_column = spec.table.c[spec.id_column]
    return Prepared(
        spec.rows_statement()
        .where(id_column >= bindparam("lo"), id_column <= bindparam("hi"))
        .order_by(id_column)
    )


def own_rows(spec: Covered) -> Any:
    """PostgreSQL only: the rows of ``spec``'s table this transaction wrote (``xmin``, the
    inserting transaction, is the current one; 32 bits of the 64-bit id). What a READ
    COMMITTED unit reads back above a mark, where rows other units committed meanwhile
    are above it too."""
    return sql_text(
        f"{spec.table.name}.xmin = (pg_current_xact_id()::text::bigint % 4294967296)::text::xid"
    )


_BETWEEN = {spec.name: _between(spec) for spec in COVERED}


class _Top(NamedTuple):
    top: int


_MAX_ID = {
    spec.name: Prepared(
        select(func.coalesce(func.max(spec.table.c[spec.id_column]), 0).label("top")), _Top
    )
    for spec in COVERED
}


# -- digests ----------------------------------------------------------------------------


def _runs(ids: Iterable[int]) -> Iterator[tuple[int, int]]:
    """Consecutive runs ``(first, last)`` of sorted distinct ids."""
    first = last = None
    for value in sorted(set(ids)):
        if last is not None and value == last + 1:
            last = value
            continue
        if first is not None and last is not None:
            yield first, last
        first = last = value
    if first is not None and last is not None:
        yield first, last


WINDOW_GAP = 64  # ids apart that one range read still spans (rather than two reads)


def _windows(ids: set[int]) -> Iterator[tuple[int, int]]:
    """Ranges that hold ``ids``, merged across small gaps: a bulk unit that changed a
    thousand scattered lots reads them in a few statements, not a thousand."""
    lo = hi = None
    for first, last in _runs(ids):
        if hi is not None and first - hi <= WINDOW_GAP:
            hi = last
            continue
        if lo is not None and hi is not None:
            yield lo, hi
        lo, hi = first, last
    if lo is not None and hi is not None:
        yield lo, hi


# -- the write side ---------------------------------------------------------------------


def note(uow: UnitOfWork, table: str, *ids: int) -> None:
    """Record that this unit of work wrote (inserted or changed) these rows of ``table``;
    :func:`collect` reads them back."""
    noted: dict[str, dict[int, str | None]] = uow.info.setdefault(_INFO_NOTED, {})
    rows = noted.setdefault(table, {})
    for rid in ids:
        rows[rid] = None


def note_row(uow: UnitOfWork, table: str, rid: int, values: Sequence[Any]) -> None:
    """Record a row this unit of work inserted, with the values it stored (dates as ISO
    text), so :func:`collect` need not read it back: a sale's hot path. The values must be
    what the database returns for the row, which :func:`check` proves on every verify."""
    noted: dict[str, dict[int, str | None]] = uow.info.setdefault(_INFO_NOTED, {})
    noted.setdefault(table, {})[rid] = row_text(values)


def mark(uow: UnitOfWork, table: str) -> None:
    """Before a bulk insert into ``table``: every row above its current largest id that this
    unit of work sees when it appends its audit row is one it wrote."""
    marks: dict[str, int] = uow.info.setdefault(_INFO_MARKS, {})
    if table not in marks:
        found = uow.fetch_one(_MAX_ID[table])
        marks[table] = 0 if found is None else found.top


def discard(uow: UnitOfWork) -> None:
    """Forget what this unit of work noted (rows already covered by copied audit rows)."""
    uow.info.pop(_INFO_NOTED, None)
    uow.info.pop(_INFO_MARKS, None)


def collect(uow: UnitOfWork) -> str:
    """The ``ledger`` field of the audit row this unit of work appends now (``"{}"`` when it
    wrote no covered row), from what is stored: rows noted without their values are read
    back."""
    info = uow.info
    noted: dict[str, dict[int, str | None]] = info.pop(_INFO_NOTED, None) or {}
    marks: dict[str, int] = info.pop(_INFO_MARKS, None) or {}
    if not noted and not marks:
        return "{}"
    if not marks and len(noted) == 1 and "transactions" in noted:
        # A single write: one event whose stored values are known.
        (rid, text), *more = noted["transactions"].items()
        if not more and text is not None:
            return f'{{"transactions":[[{rid},{rid},"{digest_of((text,))}"]]}}'
    body: dict[str, list[list[Any]]] = {}
    for spec in COVERED:
        rows: dict[int, str] = {}
        if spec.name in marks:
            stream = _streamed_changes if spec.changes else _streamed_runs
            found_runs = stream(uow, spec, marks[spec.name], noted.get(spec.name, {}))
            if found_runs:
                body[spec.name] = found_runs
            continue
        given = noted.get(spec.name, {})
        rows.update((rid, text) for rid, text in given.items() if text is not None)
        wanted = {rid for rid in given if rid not in rows}
        for lo, hi in _windows(wanted):
            found = uow.fetch(_BETWEEN[spec.name], {"lo": lo, "hi": hi})
            ids = ((getattr(r, spec.id_column), r) for r in found)
            rows.update((rid, row_text(r)) for rid, r in ids if rid in wanted)
        if rows:
            body[spec.name] = entries(spec, rows)
    return encode(body)


def _streamed_runs(
    uow: UnitOfWork, spec: Covered, mark_id: int, given: dict[int, str | None]
) -> list[list[Any]]:
    """The runs of an insert-only table a bulk write marked: the rows above the mark are
    streamed in id order and hashed as they come (a bulk import of millions of rows never
    holds their texts at once); rows noted at or below the mark are read as :func:`collect`
    reads them. The entries are those :func:`entries` gives for the same rows."""
    below, above = _around_mark(uow, spec, mark_id, given)
    out: list[list[Any]] = []
    run: list[Any] | None = None
    digest = hashlib.sha256()
    for rid, text in _rows_by_id(uow, above, below):
        if run is None or rid != run[1] + 1:
            if run is not None:
                out.append([run[0], run[1], digest.hexdigest()[:DIGEST_HEX]])
            run, digest = [rid, rid], hashlib.sha256()
        run[1] = rid
        digest.update((text + "\n").encode("utf-8", "surrogatepass"))
    if run is not None:
        out.append([run[0], run[1], digest.hexdigest()[:DIGEST_HEX]])
    return out


def _around_mark(
    uow: UnitOfWork, spec: Covered, mark_id: int, given: dict[int, str | None]
) -> tuple[dict[int, str | None], Any]:
    """The rows noted at or below the mark, with their stored text, and the statement
    streaming the rows above it that this unit wrote, in id order."""
    below = {rid: text for rid, text in given.items() if rid <= mark_id}
    wanted = {rid for rid, text in below.items() if text is None}
    for lo, hi in _windows(wanted):
        for r in uow.fetch(_BETWEEN[spec.name], {"lo": lo, "hi": hi}):
            rid = getattr(r, spec.id_column)
            if rid in wanted:
                below[rid] = row_text(r)
    id_column = spec.table.c[spec.id_column]
    above = spec.rows_statement().where(id_column > mark_id).order_by(id_column)
    if uow.row_locks:
        above = above.where(own_rows(spec))
    return below, above


def _streamed_changes(
    uow: UnitOfWork, spec: Covered, mark_id: int, given: dict[int, str | None]
) -> list[list[Any]]:
    """The ``[id, digest]`` entries of a table whose rows change (``order_logs``, ``lots``)
    that a bulk write marked, as the rows stream in id order: the state the unit left each
    row in, as :func:`entries` gives it, without holding every row's text at once."""
    below, above = _around_mark(uow, spec, mark_id, given)
    return [[rid, digest_of((text,))] for rid, text in _rows_by_id(uow, above, below)]


def _rows_by_id(
    uow: UnitOfWork, above: Any, below: dict[int, str | None]
) -> Iterator[tuple[int, str]]:
    """``(id, text)`` of the rows noted at or below the mark, then of the rows ``above``
    streams (every id above the mark is greater than every id at or below it)."""
    yield from sorted((rid, text) for rid, text in below.items() if text is not None)
    for batch in _stream(uow, above):
        for r in batch:
            yield int(r[0]), repr(tuple(r))  # row_text, inlined: millions of rows


def entries(spec: Covered, rows: dict[int, str]) -> list[list[Any]]:
    """The coverage entries of ``rows`` (id -> canonical text) of one table."""
    if spec.changes:
        return [[rid, digest_of((rows[rid],))] for rid in sorted(rows)]
    return [[lo, hi, digest_of(rows[i] for i in range(lo, hi + 1))] for lo, hi in _runs(rows)]


def encode(body: dict[str, list[list[Any]]]) -> str:
    """The canonical JSON text of a ``ledger`` field (sorted keys, no spaces)."""
    return json.dumps(body, sort_keys=True, separators=(",", ":"))


def seal_all(uow_or_connection: Any, tables: Iterable[str] | None = None) -> str:
    """A ``ledger`` field covering every row of every covered table as it is now.

    Used once, by the migration that introduced coverage, to seal the rows written before
    it: what that seal proves is that those rows have not changed since the migration ran.
    ``tables`` names the covered tables that existed then (default: all of them); a table
    created by a later migration has no row to seal.
    """
    body: dict[str, list[list[Any]]] = {}
    execute = uow_or_connection.execute
    wanted = None if tables is None else set(tables)
    for spec in COVERED:
        if wanted is not None and spec.name not in wanted:
            continue
        id_column = spec.table.c[spec.id_column]
        rows = {int(r[0]): row_text(r) for r in execute(spec.rows_statement().order_by(id_column))}
        if rows:
            body[spec.name] = entries(spec, rows)
    return encode(body)


# -- the check --------------------------------------------------------------------------


def seals_statement() -> Any:
    """``SELECT audit_id, ledger`` of every audit row that seals something, in trail order."""
    from inventory_core.models import AuditLog

    return (
        select(AuditLog.audit_id, AuditLog.ledger)
        .where(AuditLog.ledger.is_not(None), AuditLog.ledger != "{}")
        .order_by(AuditLog.audit_id)
    )


def read_seals(uow: UnitOfWork, *, quick: bool = True) -> Seals:
    """Every seal of the trail, read in ``uow``'s transaction (``quick=False``: every one
    parsed, for the exact check)."""
    seals = Seals(quick=quick)
    add = seals.add
    for batch in _stream(uow, seals_statement()):
        for audit_id, text in batch:
            add(audit_id, text)
    return seals


def check(uow: UnitOfWork, seals: Seals | None = None) -> CoverageReport:
    """Prove that every covered row is sealed by exactly one audit entry whose digest matches.

    Runs in ``uow``'s transaction (one snapshot: call it in a read unit of work). Reads the
    trail's seals (unless the chain walk gathered them: ``seals``), then streams each
    covered table once in id order (:func:`inventory_core.audit.seal_check.check_tables`).
    A covered table the database does not hold (a backup taken at a revision before the
    table existed) has no rows: any seal naming one of its rows is reported missing.
    """
    present = set(inspect(uow.connection).get_table_names())
    return check_tables(
        lambda name: _stream(uow, rows_statement(name)) if name in present else iter(()),
        read_seals(uow) if seals is None else seals,
        lambda: read_seals(uow, quick=False),
    )


def rows_statement(name: str) -> Any:
    """The rows of covered table ``name`` as their digest reads them, in id order."""
    spec = BY_NAME[name]
    return spec.rows_statement().order_by(spec.table.c[spec.id_column])


def _stream(uow: UnitOfWork, stmt: Any) -> Iterator[Sequence[Any]]:
    """Batches of plain tuples of the values as stored (see ``UnitOfWork.stream``)."""
    return uow.stream(stmt, STREAM_BATCH, raw=True)


__all__ = [
    "COVERED",
    "DIGEST_HEX",
    "STREAM_BATCH",
    "CoverageReport",
    "Covered",
    "Seals",
    "check",
    "collect",
    "digest_of",
    "discard",
    "entries",
    "mark",
    "note",
    "row_text",
    "seal_all",
]
