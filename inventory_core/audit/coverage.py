"""Ledger coverage: every ledger row is sealed by the audit row of the unit of work that wrote it.

The hash chain proves that no audit row was edited, inserted or deleted; on its own it says
nothing about the ledger the audit rows describe. So each audit row also carries, in its
hashed ``ledger`` field, the ids and a digest of every covered row its unit of work wrote:

- insert-only tables (``transactions``, ``transaction_reversals``, ``receiving_logs``,
  ``order_receipts``, ``lot_draws``) as runs of consecutive ids ``[first, last, digest]``,
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
from typing import Any, NamedTuple

from sqlalchemy import ColumnElement, Date, String, Table, bindparam, func, select
from sqlalchemy.ext.compiler import compiles

from inventory_core.db.prepared import Prepared
from inventory_core.db.uow import UnitOfWork
from inventory_core.models import metadata

DIGEST_HEX = 32  # 128 bits of SHA-256: far beyond forging, half the text of a full digest
SAMPLE_FINDINGS = 20
STREAM_BATCH = 10_000
_INFO_NOTED = "coverage_noted"
_INFO_MARKS = "coverage_marks"


class IsoDate(ColumnElement[str]):
    """A date column as ``YYYY-MM-DD`` text whatever the session's settings.

    SQLite stores it so; PostgreSQL's ``date::text`` follows ``DateStyle`` (``SQL, DMY``
    prints ``12/02/2026``), so ``to_char`` spells the format out.
    """

    inherit_cache = True
    type = String()

    def __init__(self, column: Any) -> None:
        self.column = column


@compiles(IsoDate)
def _iso_date_default(element: IsoDate, compiler: Any, **kw: Any) -> str:
    return f"CAST({compiler.process(element.column, **kw)} AS VARCHAR)"


@compiles(IsoDate, "postgresql")
def _iso_date_postgresql(element: IsoDate, compiler: Any, **kw: Any) -> str:
    return f"to_char({compiler.process(element.column, **kw)}, 'YYYY-MM-DD')"


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
        """``SELECT`` of the digested columns, dates as ISO text (the same on both backends)."""
        columns = [self.table.c[name] for name in self.columns]
        return select(*(IsoDate(c) if isinstance(c.type, Date) else c for c in columns))


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
        "lot_draws",
        "draw_id",
        ("draw_id", "lot_id", "transaction_id", "reversal_id", "qty"),
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


def _between(spec: Covered) -> Prepared[Any]:
    id_column = spec.table.c[spec.id_column]
    return Prepared(
        spec.rows_statement()
        .where(id_column >= bindparam("lo"), id_column <= bindparam("hi"))
        .order_by(id_column)
    )


def _above(spec: Covered) -> Prepared[Any]:
    id_column = spec.table.c[spec.id_column]
    return Prepared(spec.rows_statement().where(id_column > bindparam("lo")).order_by(id_column))


_BETWEEN = {spec.name: _between(spec) for spec in COVERED}
_ABOVE = {spec.name: _above(spec) for spec in COVERED}


class _Top(NamedTuple):
    top: int


_MAX_ID = {
    spec.name: Prepared(
        select(func.coalesce(func.max(spec.table.c[spec.id_column]), 0).label("top")), _Top
    )
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
            found = uow.fetch(_ABOVE[spec.name], {"lo": marks[spec.name]})
            rows.update((getattr(r, spec.id_column), row_text(r)) for r in found)
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


def entries(spec: Covered, rows: dict[int, str]) -> list[list[Any]]:
    """The coverage entries of ``rows`` (id -> canonical text) of one table."""
    if spec.changes:
        return [[rid, digest_of((rows[rid],))] for rid in sorted(rows)]
    return [[lo, hi, digest_of(rows[i] for i in range(lo, hi + 1))] for lo, hi in _runs(rows)]


def encode(body: dict[str, list[list[Any]]]) -> str:
    """The canonical JSON text of a ``ledger`` field (sorted keys, no spaces)."""
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

    def ordered(self) -> list[int]:
        """Run indexes by first id (already in order when ids grew with the chain)."""
        first = self.first
        if all(first[i] < first[i + 1] for i in range(len(first) - 1)):
            return list(range(len(first)))
        return sorted(range(len(first)), key=first.__getitem__)


Latest = dict[int, tuple[int, str]]
"""Row id -> (audit id, digest) of the newest audit row naming a changing row."""

_ONE_RUN = '{"transactions":[['
"""How the seal of a single write starts: ``{"transactions":[[id,id,"digest"]]}``."""


class Seals:
    """Every seal of the trail, gathered row by row (:meth:`add`), then checked (:func:`check`).

    The chain walk of :func:`inventory_core.audit.verify.verify` reads every audit row
    anyway, so it feeds this as it goes; the ``ledger_coverage`` invariant reads the
    ``ledger`` column on its own. A single write's seal is parsed without ``json``: a
    million of them are the common case.
    """

    def __init__(self, *, quick: bool = True) -> None:
        self.runs = {spec.name: _Runs() for spec in COVERED if not spec.changes}
        self.latest: dict[str, Latest] = {spec.name: {} for spec in COVERED if spec.changes}
        self.bad: list[str] = []
        self.quick = array("q") if quick else None
        """Python's (keyed, per-process) hash of each single write's seal text, in trail
        order: :func:`_quick_check` compares them with the seals the rows imply."""

    def add(self, audit_id: int, text: str) -> None:
        """Take in the ``ledger`` field of one audit row (not NULL, not ``"{}"``)."""
        quick = self.quick
        if (
            quick is not None
            and text.startswith(_ONE_RUN)
            and text.endswith('"]]}')
            and text.count("[") == 2
        ):
            quick.append(hash(text))
            return
        self._add_slowly(audit_id, text)

    def _add_slowly(self, audit_id: int, text: str) -> None:
        try:
            body = json.loads(text)
            for name, items in body.items():
                if name in self.runs:
                    runs = self.runs[name]
                    for first, last, digest in items:
                        packed = bytes.fromhex(str(digest))
                        if len(packed) != DIGEST_HEX // 2:
                            raise ValueError(f"digest {digest!r} is not {DIGEST_HEX} hex digits")
                        runs.first.append(int(first))
                        runs.last.append(int(last))
                        runs.audit.append(audit_id)
                        runs.digests += packed
                elif name in self.latest:
                    rows = self.latest[name]
                    for rid, digest in items:
                        rows[int(rid)] = (audit_id, str(digest))
                else:
                    self.bad.append(f"audit row {audit_id} seals an unknown table {name!r}")
        except (ValueError, TypeError, AttributeError) as exc:
            self.bad.append(f"audit row {audit_id} has an unreadable ledger seal ({exc})")


def read_seals(uow: UnitOfWork, *, quick: bool = True) -> Seals:
    """Every seal of the trail, read in ``uow``'s transaction (``quick=False``: every one
    parsed, for the exact check)."""
    from inventory_core.models import AuditLog

    seals = Seals(quick=quick)
    stmt = (
        select(AuditLog.audit_id, AuditLog.ledger)
        .where(AuditLog.ledger.is_not(None), AuditLog.ledger != "{}")
        .order_by(AuditLog.audit_id)
    )
    add = seals.add
    for batch in _stream(uow, stmt):
        for audit_id, text in batch:
            add(audit_id, text)
    return seals


def check(uow: UnitOfWork, seals: Seals | None = None) -> CoverageReport:
    """Prove that every covered row is sealed by exactly one audit entry whose digest matches.

    Runs in ``uow``'s transaction (one snapshot: call it in a read unit of work). Reads the
    trail's seals (unless the chain walk gathered them: ``seals``), then streams each
    covered table once in id order.
    """
    report = CoverageReport()
    if seals is None:
        seals = read_seals(uow)
    for finding in seals.bad:
        report.add(finding)
    for spec in COVERED:
        stmt = spec.rows_statement().order_by(spec.table.c[spec.id_column])
        if spec.changes:
            _check_changing(spec, _stream(uow, stmt), seals.latest[spec.name], report)
            continue
        runs = seals.runs[spec.name]
        if spec.name == "transactions" and seals.quick is not None:
            checked = _quick_check(_stream(uow, stmt), runs, seals.quick)
            if checked is not None:
                report.rows_checked += checked
                continue
            # Something does not line up: find out exactly what, from every seal parsed.
            runs = read_seals(uow, quick=False).runs[spec.name]
        _check_runs(spec, _stream(uow, stmt), runs, report)
    return report


def _quick_check(batches: Iterator[Sequence[Any]], runs: _Runs, quick: array[int]) -> int | None:
    """The rows checked when ``transactions`` is exactly what the trail sealed, else None.

    Single writes, the common case, seal one row each, in trail order, which on SQLite is
    also id order: each row then implies its own seal text, and only its keyed hash is
    compared with the one :class:`Seals` kept, in step. Rows of longer runs (bulk units,
    receipts, a migration's seal) are hashed run by run as in :func:`_check_runs`. Anything
    that does not line up (an edited, extra or missing row, seals out of id order) returns
    None, and :func:`check` runs the exact check, which names what is wrong.
    """
    order = runs.ordered()
    first = [runs.first[i] for i in order]
    last = [runs.last[i] for i in order]
    digest = [bytes(runs.digests[16 * i : 16 * i + 16]) for i in order]
    total, position, high = len(order), 0, -1
    sha256 = hashlib.sha256
    expected_quick, k = len(quick), 0
    open_last, seen, h = -1, 0, None
    run_first, run_digest = 0, b""
    checked = 0
    for batch in batches:
        checked += len(batch)
        for row in batch:
            rid = row[0]
            text = f"{row!r}\n".encode("utf-8", "surrogatepass")
            if h is not None:
                if rid <= open_last:
                    seen += 1
                    h.update(text)
                    continue
                if seen != open_last - run_first + 1 or h.digest()[:16] != run_digest:
                    return None
                h = None
            if position < total and first[position] <= rid:
                if first[position] != rid or rid <= high:
                    return None
                run_first, open_last, run_digest = rid, last[position], digest[position]
                high = open_last
                position += 1
                if open_last == rid:
                    if sha256(text).digest()[:16] != run_digest:
                        return None
                    continue
                seen, h = 1, sha256(text)
                continue
            sealed = sha256(text).hexdigest()[:DIGEST_HEX]
            if k >= expected_quick or hash(f'{_ONE_RUN}{rid},{rid},"{sealed}"]]}}') != quick[k]:
                return None
            k += 1
    if h is not None and (seen != open_last - run_first + 1 or h.digest()[:16] != run_digest):
        return None
    if position != total or k != expected_quick:
        return None
    return checked


def _stream(uow: UnitOfWork, stmt: Any) -> Iterator[Sequence[Any]]:
    """Batches of plain tuples (the driver's own on SQLite; a server-side cursor elsewhere)."""
    if uow.dialect == "sqlite":
        result = uow.connection.execute(stmt)
        cursor = result.cursor
        yield from iter(lambda: cursor.fetchmany(STREAM_BATCH), [])
        return
    # A statement option: a connection option would send the caller's later statements
    # (an import's, in the same unit of work) through server-side cursors too.
    result = uow.connection.execute(stmt.execution_options(yield_per=STREAM_BATCH))
    for batch in result.partitions():
        yield [tuple(row) for row in batch]


def _check_runs(
    spec: Covered, batches: Iterator[Sequence[Any]], runs: _Runs, report: CoverageReport
) -> None:
    """Walk the rows (id order) and the runs (first id order) side by side.

    A run of one row, a single write's, is checked with one hash call on the spot; a longer
    run (a bulk unit, a seal) is hashed as its rows stream by and checked when it ends.
    """
    name = spec.name
    order = runs.ordered()
    first = [runs.first[i] for i in order]
    last = [runs.last[i] for i in order]
    audit = [runs.audit[i] for i in order]
    digests = runs.digests
    offset = [16 * i for i in order]
    total = len(order)
    sha256 = hashlib.sha256
    position = 0  # the next run to start
    open_run = -1  # a run of several rows being hashed
    open_last = -1
    h: Any = None
    seen = 0
    high = -1  # the largest id sealed by a run started so far (overlap check)
    checked = 0

    def missing(index: int, count: int) -> None:
        report.add(
            f"{name} rows {first[index]}..{last[index]} sealed by audit row {audit[index]}: "
            f"{count} of them are missing (deleted)"
        )

    def close(index: int) -> None:
        expected = last[index] - first[index] + 1
        if seen != expected:
            missing(index, expected - seen)
        elif h.digest()[:16] != digests[offset[index] : offset[index] + 16]:
            report.add(
                f"{name} rows {first[index]}..{last[index]} sealed by audit row "
                f"{audit[index]} no longer match its digest (edited)"
            )

    for batch in batches:
        checked += len(batch)
        for row in batch:
            rid = row[0]
            if open_run >= 0:
                if rid <= open_last:
                    seen += 1
                    h.update(f"{row!r}\n".encode("utf-8", "surrogatepass"))
                    continue
                close(open_run)
                open_run = -1
            while position < total and last[position] < rid:
                missing(position, last[position] - first[position] + 1)
                position += 1
            if position < total and first[position] <= rid:
                index = position
                position += 1
                if first[index] <= high:
                    report.add(
                        f"{name} row {first[index]} is sealed twice (audit row "
                        f"{audit[index]} overlaps an earlier one)"
                    )
                high = max(high, last[index])
                text = f"{row!r}\n".encode("utf-8", "surrogatepass")
                if first[index] == last[index]:
                    if sha256(text).digest()[:16] != digests[offset[index] : offset[index] + 16]:
                        report.add(
                            f"{name} rows {rid}..{rid} sealed by audit row {audit[index]} "
                            "no longer match its digest (edited)"
                        )
                    continue
                open_run, open_last, seen, h = index, last[index], 1, sha256(text)
                continue
            report.add(
                f"{name} row {rid} is sealed by no audit row: it was written behind "
                "the library's back"
            )
    if open_run >= 0:
        close(open_run)
    while position < total:
        missing(position, last[position] - first[position] + 1)
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
