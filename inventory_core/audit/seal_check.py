"""Checking ledger rows against the trail's seals, with the standard library only.

The algorithm of :func:`inventory_core.audit.coverage.check`, apart from the SQL that feeds
it: :class:`Seals` takes in the ``ledger`` fields of the audit rows, :func:`check_tables`
walks each covered table's rows (batches of plain tuples in id order) against them. It
imports nothing but the standard library so that ``audit verify`` can run it in a second
process beside the chain walk (:mod:`inventory_core.audit.ledger_pass`): that process starts
a bare interpreter that imports this file alone (:func:`main`) instead of the package,
whose imports (SQLAlchemy, pydantic) cost about a second of CPU.
"""

from __future__ import annotations

import hashlib
import json
import sqlite3
import sys
from array import array
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import asdict, dataclass, field
from typing import Any

DIGEST_HEX = 32  # 128 bits of SHA-256: far beyond forging, half the text of a full digest
SAMPLE_FINDINGS = 20
STREAM_BATCH = 10_000
TABLES: tuple[tuple[str, bool], ...] = (
    ("transactions", False),
    ("transaction_reversals", False),
    ("receiving_logs", False),
    ("order_receipts", False),
    ("lot_draws", False),
    ("order_closures", False),
    ("order_logs", True),
    ("lots", True),
)
"""The covered tables in check order, and whether their rows change later
(:data:`inventory_core.audit.coverage.COVERED` names the same, with their columns)."""

Batches = Iterator[Sequence[Any]]


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
        self.runs = {name: _Runs() for name, changes in TABLES if not changes}
        self.latest: dict[str, Latest] = {name: {} for name, changes in TABLES if changes}
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


def _check_runs(
    name: str, batches: Iterator[Sequence[Any]], runs: _Runs, report: CoverageReport
) -> None:
    """Walk the rows (id order) and the runs (first id order) side by side.

    A run of one row, a single write's, is checked with one hash call on the spot; a longer
    run (a bulk unit, a seal) is hashed as its rows stream by and checked when it ends.
    """
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
    name: str,
    batches: Iterator[Sequence[Any]],
    latest: Latest,
    report: CoverageReport,
) -> None:
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


def check_tables(
    rows: Callable[[str], Batches], seals: Seals, reread: Callable[[], Seals]
) -> CoverageReport:
    """Prove every covered row is sealed by exactly one entry of ``seals`` whose digest matches.

    Args:
        rows: the batches of one table's rows (its digested columns, dates as ISO text) in
            id order, all read in the snapshot ``seals`` was read in.
        seals: every seal of the trail.
        reread: the same seals with every one parsed (``Seals(quick=False)``), for the exact
            check when the quick one finds that something does not line up.
    """
    report = CoverageReport()
    for finding in seals.bad:
        report.add(finding)
    for name, changes in TABLES:
        if changes:
            _check_changing(name, rows(name), seals.latest[name], report)
            continue
        runs = seals.runs[name]
        if name == "transactions" and seals.quick is not None:
            checked = _quick_check(rows(name), runs, seals.quick)
            if checked is not None:
                report.rows_checked += checked
                continue
            # Something does not line up: find out exactly what, from every seal parsed.
            runs = reread().runs[name]
        _check_runs(name, rows(name), runs, report)
    return report


def stream(conn: sqlite3.Connection, sql: str) -> Batches:
    """Batches of a statement's rows on a plain ``sqlite3`` connection."""
    cursor = conn.execute(sql)
    yield from iter(lambda: cursor.fetchmany(STREAM_BATCH), [])


def read_seals(batches: Batches, *, quick: bool = True) -> Seals:
    """:class:`Seals` from batches of ``(audit_id, ledger)`` rows in ``audit_id`` order."""
    seals = Seals(quick=quick)
    add = seals.add
    for batch in batches:
        for audit_id, text in batch:
            add(audit_id, text)
    return seals


def main() -> None:
    """The second process of ``audit verify``: check the ledger in a snapshot of its own.

    Reads one JSON job from stdin (``uri``, ``top``, ``seals``, ``rows``: the SQL compiled
    by :mod:`inventory_core.audit.ledger_pass`), prints ``{"snapshot": top}`` as soon as its
    read transaction holds its snapshot, then the report as JSON, each on one line.
    """
    job = json.loads(sys.stdin.readline())
    conn = sqlite3.connect(job["uri"], uri=True, isolation_level=None)
    conn.execute("PRAGMA busy_timeout = 5000")
    conn.execute("BEGIN")
    top = conn.execute(job["top"]).fetchone()[0]
    print(json.dumps({"snapshot": top}), flush=True)
    report = check_tables(
        lambda name: stream(conn, job["rows"][name]),
        read_seals(stream(conn, job["seals"])),
        lambda: read_seals(stream(conn, job["seals"]), quick=False),
    )
    conn.execute("ROLLBACK")
    conn.close()
    print(json.dumps(asdict(report)), flush=True)


if __name__ == "__main__":
    main()
