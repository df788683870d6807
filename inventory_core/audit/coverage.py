"""Ledger coverage: every ledger row is sealed by the audit row of the unit of work that wrote it.

The hash chain proves that no audit row was edited, inserted or deleted; on its own it says
nothing about the ledger the audit rows describe. So each audit row also carries, in its
hashed ``ledger`` field, the ids and a digest of every covered row its unit of work wrote:

- insert-only tables (``transactions``, ``transaction_reversals``, ``receiving_logs``,
  ``order_receipts``) as runs of consecutive ids ``[first, last, digest]``, the digest
  taken over the rows of the run in id order;
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
is its own: SQLite's write lock excludes other writers, and a PostgreSQL transaction does
not see rows committed after its snapshot). :func:`collect`, called by
:func:`inventory_core.audit.trail.append`, reads those rows back and builds the field.
"""

from __future__ import annotations

import hashlib
import json
from array import array
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import Date, String, Table, bindparam, cast, func, select

from inventory_core.db.prepared import Prepared
from inventory_core.db.uow import UnitOfWork
from inventory_core.models import metadata

DIGEST_HEX = 32  # 128 bits of SHA-256: far beyond forging, half the text of a full digest
SAMPLE_FINDINGS = 20
STREAM_BATCH = 10_000
_INFO_NOTED = "coverage_noted"
_INFO_MARKS = "coverage_marks"


@dataclass(frozen=True)
class Covered:
    """One covered table: its id column, the columns its digest covers, whether rows change."""

    name: str
    id_column: str
    columns: tuple[str, ...]
    changes: bool = False

    @property
    def table(self) -> Table:
        return metadata.tables[self.name]

    def rows_statement(self) -> Any:
        """``SELECT`` of the digested columns, dates as text (the same on both backends)."""
        table = self.table
        return select(
            *(
                cast(table.c[name], String)
                if isinstance(table.c[name].type, Date)
                else table.c[name]
                for name in self.columns
            )
        )


# The columns are frozen here, not read from the models: a later migration that adds a
# column must not change the digest of rows sealed before it.
COVERED: tuple[Covered, ...] = (
    Covered(
        "transactions",
        "transaction_id",
        (
            "transaction_id",
            "date",
            "sku",
            "event",
            "qty",
            "priority",
            "document_id",
            "note",
            "created_at",
        ),
    ),
    Covered(
        "transaction_reversals",
        "reversal_id",
        ("reversal_id", "transaction_id", "reason", "user", "created_at"),
    ),
    Covered(
        "receiving_logs",
        "receiving_id",
        (
            "receiving_id",
            "document_id",
            "sku",
            "receipt_date",
            "qty_received",
            "document_hash",
            "created_at",
        ),
    ),
    Covered(
        "order_receipts",
        "order_receipt_id",
        ("order_receipt_id", "order_id", "transaction_id", "document_id", "qty"),
    ),
    Covered(
        "order_logs",
        "order_id",
        (
            "order_id",
            "sku",
            "order_date",
            "expected_date",
            "qty_ordered",
            "qty_received",
            "status",
            "transaction_id",
            "created_at",
            "updated_at",
        ),
        changes=True,
    ),
    Covered(
        "lots",
        "lot_id",
        (
            "lot_id",
            "sku",
            "transaction_id",
            "document_id",
            "received_date",
            "expiry_date",
            "qty_received",
            "qty_remaining",
            "created_at",
        ),
        changes=True,
    ),
)
BY_NAME = {spec.name: spec for spec in COVERED}


def _between(spec: Covered) -> Prepared:
    id_column = spec.table.c[spec.id_column]
    return Prepared(
        spec.rows_statement()
        .where(id_column >= bindparam("lo"), id_column <= bindparam("hi"))
        .order_by(id_column)
    )


def _above(spec: Covered) -> Prepared:
    id_column = spec.table.c[spec.id_column]
    return Prepared(spec.rows_statement().where(id_column > bindparam("lo")).order_by(id_column))


_BETWEEN = {spec.name: _between(spec) for spec in COVERED}
_ABOVE = {spec.name: _above(spec) for spec in COVERED}
_MAX_ID = {
    spec.name: Prepared(select(func.coalesce(func.max(spec.table.c[spec.id_column]), 0)))
    for spec in COVERED
}


# -- digests ----------------------------------------------------------------------------


def row_text(row: Sequence[Any]) -> str:
    """The canonical text of one stored row: ``repr`` of its values (ints, text, None)."""
    return repr(tuple(row))


def digest_of(texts: Iterable[str]) -> str:
    """The digest of rows given their canonical texts, in id order."""
    h = hashlib.sha256()
    for text in texts:
        h.update(text.encode("utf-8", "surrogatepass"))
        h.update(b"\n")
    return h.hexdigest()[:DIGEST_HEX]


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
    """Record that this unit of work wrote (inserted or changed) these rows of ``table``."""
    noted: dict[str, set[int]] = uow.info.setdefault(_INFO_NOTED, {})
    noted.setdefault(table, set()).update(ids)


def mark(uow: UnitOfWork, table: str) -> None:
    """Before a bulk insert into ``table``: every row above its current largest id that this
    unit of work sees when it appends its audit row is one it wrote."""
    marks: dict[str, int] = uow.info.setdefault(_INFO_MARKS, {})
    if table not in marks:
        marks[table] = int(uow.run_prepared(_MAX_ID[table], {}).fetchone()[0])


def discard(uow: UnitOfWork) -> None:
    """Forget what this unit of work noted (rows already covered by copied audit rows)."""
    uow.info.pop(_INFO_NOTED, None)
    uow.info.pop(_INFO_MARKS, None)


def collect(uow: UnitOfWork) -> str:
    """The ``ledger`` field of the audit row this unit of work appends now (``"{}"`` when it
    wrote no covered row), read back from the database so the digest is of what is stored."""
    noted: dict[str, set[int]] = uow.info.pop(_INFO_NOTED, {})
    marks: dict[str, int] = uow.info.pop(_INFO_MARKS, {})
    if not noted and not marks:
        return "{}"
    body: dict[str, list[list[Any]]] = {}
    for spec in COVERED:
        rows: dict[int, str] = {}
        if spec.name in marks:
            found = uow.run_prepared(_ABOVE[spec.name], {"lo": marks[spec.name]}).fetchall()
            rows.update((int(r[0]), row_text(r)) for r in found)
        wanted = {i for i in noted.get(spec.name, ()) if i not in rows}
        for lo, hi in _windows(wanted):
            found = uow.run_prepared(_BETWEEN[spec.name], {"lo": lo, "hi": hi}).fetchall()
            rows.update((int(r[0]), row_text(r)) for r in found if int(r[0]) in wanted)
        if rows:
            body[spec.name] = entries(spec, rows)
    return encode(body)


def entries(spec: Covered, rows: dict[int, str]) -> list[list[Any]]:
    """The coverage entries of ``rows`` (id -> canonical text) of one table."""
    if spec.changes:
        return [[rid, digest_of((rows[rid],))] for rid in sorted(rows)]
    return [[lo, hi, digest_of(rows[i] for i in range(lo, hi + 1))] for lo, hi in _runs(rows)]


def encode(body: dict[str, list[list[Any]]]) -> str:
    """The canonical JSON text of a ``ledger`` field."""
    return json.dumps(body, sort_keys=True, separators=(",", ":"))


def seal_all(uow_or_connection: Any) -> str:
    """A ``ledger`` field covering every row of every covered table as it is now.

    Used once, by the migration that introduced coverage, to seal the rows written before
    it: what that seal proves is that those rows have not changed since the migration ran.
    """
    body: dict[str, list[list[Any]]] = {}
    execute = uow_or_connection.execute
    for spec in COVERED:
        id_column = spec.table.c[spec.id_column]
        rows = {int(r[0]): row_text(r) for r in execute(spec.rows_statement().order_by(id_column))}
        if rows:
            body[spec.name] = entries(spec, rows)
    return encode(body)


# -- the check --------------------------------------------------------------------------


@dataclass
class CoverageReport:
    """The outcome of :func:`check`: ok, rows checked, and what was found wrong."""

    ok: bool = True
    rows_checked: int = 0
    findings: int = 0
    sample: list[str] = field(default_factory=list)

    def add(self, finding: str) -> None:
        self.ok = False
        self.findings += 1
        if len(self.sample) < SAMPLE_FINDINGS:
            self.sample.append(finding)

    @property
    def reason(self) -> str:
        """The findings in one line ("" when ok)."""
        more = self.findings - len(self.sample)
        tail = f"; and {more} more" if more > 0 else ""
        return "; ".join(self.sample) + tail


class _Runs:
    """The runs of one insert-only table, packed: ids in arrays, digests in one buffer."""

    def __init__(self) -> None:
        self.first = array("q")
        self.last = array("q")
        self.audit = array("q")
        self.digests = bytearray()

    def add(self, audit_id: int, first: int, last: int, digest: str) -> None:
        self.first.append(first)
        self.last.append(last)
        self.audit.append(audit_id)
        self.digests += bytes.fromhex(digest.ljust(DIGEST_HEX, "0")[:DIGEST_HEX])

    def ordered(self) -> list[int]:
        """Run indexes by first id (already in order when ids grew with the chain)."""
        first = self.first
        if all(first[i] < first[i + 1] for i in range(len(first) - 1)):
            return list(range(len(first)))
        return sorted(range(len(first)), key=first.__getitem__)


Latest = dict[int, tuple[int, str]]
"""Row id -> (audit id, digest) of the newest audit row naming a changing row."""


def _audit_entries(uow: UnitOfWork) -> tuple[dict[str, _Runs], dict[str, Latest], list[str]]:
    """Every coverage entry of the trail: runs of insert-only tables, the newest entry of
    each changing row, and entries that cannot be read."""
    from inventory_core.models import AuditLog

    runs = {spec.name: _Runs() for spec in COVERED if not spec.changes}
    latest: dict[str, Latest] = {spec.name: {} for spec in COVERED if spec.changes}
    bad: list[str] = []
    stmt = (
        select(AuditLog.audit_id, AuditLog.ledger)
        .where(AuditLog.ledger.is_not(None), AuditLog.ledger != "{}")
        .order_by(AuditLog.audit_id)
    )
    found: Any = uow.execute(stmt)
    for audit_id, text in found:
        try:
            body = json.loads(text)
            for name, items in body.items():
                if name in runs:
                    add = runs[name].add
                    for first, last, digest in items:
                        add(audit_id, int(first), int(last), str(digest))
                elif name in latest:
                    rows = latest[name]
                    for rid, digest in items:
                        rows[int(rid)] = (audit_id, str(digest))
                else:
                    bad.append(f"audit row {audit_id} covers an unknown table {name!r}")
        except (ValueError, TypeError, AttributeError) as exc:
            bad.append(f"audit row {audit_id} has an unreadable ledger field ({exc})")
    return runs, latest, bad


def check(uow: UnitOfWork) -> CoverageReport:
    """Prove that every covered row is sealed by exactly one audit entry whose digest matches.

    Runs in ``uow``'s transaction (one snapshot: call it in a read unit of work). Reads the
    trail's ``ledger`` fields, then streams each covered table once in id order.
    """
    report = CoverageReport()
    runs, latest, bad = _audit_entries(uow)
    for finding in bad:
        report.add(finding)
    for spec in COVERED:
        stmt = spec.rows_statement().order_by(spec.table.c[spec.id_column])
        rows = _stream(uow, stmt)
        if spec.changes:
            _check_changing(spec, rows, latest[spec.name], report)
        else:
            _check_runs(spec, rows, runs[spec.name], report)
    return report


def _stream(uow: UnitOfWork, stmt: Any) -> Iterator[Sequence[Any]]:
    if uow.dialect == "sqlite":
        result = uow.connection.execute(stmt)
        cursor = result.cursor
        yield from iter(lambda: cursor.fetchmany(STREAM_BATCH), [])
        return
    result = uow.connection.execution_options(yield_per=STREAM_BATCH).execute(stmt)
    yield from result.partitions()


def _check_runs(
    spec: Covered, batches: Iterator[Sequence[Any]], runs: _Runs, report: CoverageReport
) -> None:
    name = spec.name
    order = runs.ordered()
    first, last, audit, digests = runs.first, runs.last, runs.audit, runs.digests
    position = 0
    total = len(order)
    current = -1  # index of the run being filled
    h: Any = None
    seen = 0
    previous_last = None

    def close(index: int) -> None:
        expected = last[index] - first[index] + 1
        where = f"{name} rows {first[index]}..{last[index]} sealed by audit row {audit[index]}"
        if seen != expected:
            report.add(f"{where}: {expected - seen} of them are missing (deleted)")
        elif h.digest()[:16] != bytes(digests[16 * index : 16 * index + 16]):
            report.add(f"{where} no longer match its digest (edited)")

    checked = 0
    for batch in batches:
        for row in batch:
            checked += 1
            rid = row[0]
            while current >= 0 and rid > last[current]:
                close(current)
                current = -1
            if current < 0:
                while position < total and last[order[position]] < rid:
                    index = order[position]
                    seen, h = 0, None
                    report.add(
                        f"{name} rows {first[index]}..{last[index]} sealed by audit row "
                        f"{audit[index]} are missing (deleted)"
                    )
                    position += 1
                if position < total and first[order[position]] <= rid:
                    index = order[position]
                    if previous_last is not None and first[index] <= previous_last:
                        report.add(
                            f"{name} row {first[index]} is sealed twice (audit row "
                            f"{audit[index]} overlaps an earlier one)"
                        )
                    previous_last = last[index]
                    current, seen, h = index, 0, hashlib.sha256()
                    position += 1
            if current >= 0:
                seen += 1
                h.update(repr(tuple(row)).encode("utf-8", "surrogatepass"))
                h.update(b"\n")
            else:
                report.add(
                    f"{name} row {rid} is sealed by no audit row: it was written behind "
                    "the library's back"
                )
    if current >= 0:
        close(current)
    while position < total:
        index = order[position]
        report.add(
            f"{name} rows {first[index]}..{last[index]} sealed by audit row {audit[index]} "
            "are missing (deleted)"
        )
        position += 1
    report.rows_checked += checked


def _check_changing(
    spec: Covered,
    batches: Iterator[Sequence[Any]],
    latest: Latest,
    report: CoverageReport,
) -> None:
    name = spec.name
    pending = dict(latest)
    checked = 0
    for batch in batches:
        for row in batch:
            checked += 1
            rid = int(row[0])
            entry = pending.pop(rid, None)
            if entry is None:
                report.add(
                    f"{name} row {rid} is sealed by no audit row: it was written behind "
                    "the library's back"
                )
            elif digest_of((row_text(row),)) != entry[1]:
                report.add(
                    f"{name} row {rid} differs from the state audit row {entry[0]} sealed (edited)"
                )
    for rid, (audit_id, _digest) in sorted(pending.items()):
        report.add(f"{name} row {rid} sealed by audit row {audit_id} is missing (deleted)")
    report.rows_checked += checked


__all__ = [
    "COVERED",
    "CoverageReport",
    "Covered",
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
