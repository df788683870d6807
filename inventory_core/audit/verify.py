"""Walking the audit chain: :func:`verify` finds the first broken row, :func:`head` reads the tip.

Each row stores ``prev_hash`` (the hash of the row before it) and ``hash`` (SHA-256 of
``prev_hash`` and its canonical JSON). Walking the rows in ``audit_id`` order therefore tells
apart the ways history can be falsified:

- a row whose own hash does not match its content was **edited** after it was written;
- a row whose ``prev_hash`` is not the previous row's hash has lost a neighbour: rows were
  **deleted** before it, or it was **inserted**; when the next row chains *past* a row, that
  row is the inserted one;
- a chain rebuilt from scratch with fresh, valid hashes passes both checks, so
  ``against=`` compares it with a head hash kept outside the database (a backup manifest,
  the log stream): the head recorded then must still be in the chain, at the same position.

The rows are streamed (``yield_per``: a server-side cursor on PostgreSQL; SQLite's cursor
steps through the rows as they are fetched) inside one read transaction, so a million rows
never sit in memory and the walk sees one consistent snapshot while writers keep going.
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Callable, Iterator, Mapping
from contextlib import closing, contextmanager
from dataclasses import asdict, dataclass, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol

from sqlalchemy import func, select

from inventory_core.audit import coverage, ledger_pass
from inventory_core.audit.trail import GENESIS_HASH, chain_hash
from inventory_core.db.uow import UnitOfWork
from inventory_core.errors import (
    AuditChainBrokenError,
    AuditManifestError,
    LedgerTamperedError,
    translate_db_errors,
)
from inventory_core.errors.i18n import gettext as _
from inventory_core.models import AuditLog

if TYPE_CHECKING:
    from inventory_core.db.database import Database
    from inventory_core.db.uow import UnitOfWork

STREAM_BATCH = 10_000
Manifest = Mapping[str, Any] | str | Path


class ChainSource(Protocol):
    """What the walk reads from: an open :class:`Database`, or a backup file opened
    read-only (:class:`inventory_core.backup.claims.BackupFile`), so that a backup's
    chain is checked by the very same walk as the live one."""

    @property
    def dialect(self) -> str:
        """``sqlite`` or ``postgresql``."""
        ...

    @property
    def path(self) -> Path | None:
        """The SQLite file, or None for a server database."""
        ...

    @property
    def display_url(self) -> str:
        """Where the database is, without a password."""
        ...

    def read(self) -> UnitOfWork:
        """A read-only unit of work."""
        ...


@dataclass(frozen=True)
class ChainReport:
    """The outcome of :func:`verify`.

    Attributes:
        ok: True when every row checks out (and matches the manifest, if one was given).
        rows_checked: rows read before the walk stopped.
        head_hash: the hash of the last row that checked out (the genesis hash when none did).
        first_broken_id: ``audit_id`` of the first row found wrong, or None.
        reason: why that row is wrong, in words an operator can act on ("" when ok).
        ledger_rows_checked: ledger rows proven to be what the trail sealed.
        ledger_findings: ledger rows inserted, edited or deleted behind the library's back.
    """

    ok: bool
    rows_checked: int
    head_hash: str
    first_broken_id: int | None = None
    reason: str = ""
    ledger_rows_checked: int = 0
    ledger_findings: int = 0

    def to_dict(self) -> dict[str, Any]:
        """A JSON-friendly view."""
        return asdict(self)

    def raise_if_broken(self) -> None:
        """Raise unless the chain and the ledger check out.

        Raises:
            AuditChainBrokenError: an audit row was edited, deleted, inserted or rewritten.
            LedgerTamperedError: the ledger differs from what the trail sealed.
        """
        if not self.ok and self.ledger_findings:
            raise LedgerTamperedError(self.reason, findings=self.ledger_findings)
        if not self.ok:
            raise AuditChainBrokenError(
                self.reason,
                audit_id="?" if self.first_broken_id is None else self.first_broken_id,
                reason=self.reason,
                rows_checked=self.rows_checked,
            )


def head(db: Database) -> tuple[str, int]:
    """The chain's head hash and row count, read in one statement (one snapshot).

    Backup manifests store both as ``audit_head_hash`` and ``audit_rows`` so that a later
    ``verify(db, against=manifest)`` can tell whether the chain was rewritten.
    """
    newest = select(AuditLog.hash).order_by(AuditLog.audit_id.desc()).limit(1).scalar_subquery()
    rows = select(func.count()).select_from(AuditLog).scalar_subquery()
    with db.read() as uow:
        found = uow.fetch_one(select(newest.label("hash"), rows.label("rows")))
    assert found is not None  # an aggregate always gives one row
    return (found.hash or GENESIS_HASH), int(found.rows)


def load_manifest(against: Manifest) -> tuple[str, int | None]:
    """The ``(audit_head_hash, audit_rows)`` recorded in a backup manifest (path or dict).

    Raises:
        AuditManifestError: the file cannot be read, is not JSON, or has no head hash.
    """
    source = str(against) if not isinstance(against, Mapping) else "<manifest>"
    data: Any = against
    if not isinstance(against, Mapping):
        try:
            data = json.loads(Path(against).read_text(encoding="utf-8"))
        except (OSError, ValueError) as exc:
            raise AuditManifestError(str(exc), path=source) from exc
    if not isinstance(data, Mapping) or "audit_head_hash" not in data:
        raise AuditManifestError(_("it has no audit_head_hash"), path=source)
    expected, rows = data["audit_head_hash"], data.get("audit_rows")
    if expected is None and not rows:
        expected = GENESIS_HASH  # the backup was taken while the trail was empty
    if not isinstance(expected, str) or len(expected) != len(GENESIS_HASH):
        raise AuditManifestError(
            _("audit_head_hash {expected} is not a SHA-256").format(expected=repr(expected)),
            path=source,
        )
    return expected, int(rows) if rows is not None else None


def verify(
    db: ChainSource | UnitOfWork,
    against: Manifest | None = None,
    *,
    progress: Callable[[int], None] | None = None,
    ledger: bool = True,
    parallel: bool | None = None,
) -> ChainReport:
    """Walk the audit chain in ``audit_id`` order and report the first broken row and why.

    Then, in the same read transaction, prove that the ledger is what the trail sealed
    (:func:`inventory_core.audit.coverage.check`): every row of ``transactions``,
    ``transaction_reversals``, ``receiving_logs``, ``order_receipts``, ``order_logs`` and
    ``lots`` covered by exactly one audit row whose digest matches.

    Args:
        db: the database to check (walked in a read unit of work of its own), a backup
            file opened read-only, or a unit of work to walk in: a CSV import checks the
            rows it is about to commit, inside its own transaction, before the COMMIT.
        against: a backup manifest (path or dict) with ``audit_head_hash`` and, ideally,
            ``audit_rows``: the chain must still hold that head at that position.
        progress: called with the number of rows checked every 10,000 rows.
        ledger: also check the ledger coverage (the ``ledger_coverage`` invariant runs that
            check on its own, so the ``audit_chain`` invariant skips it).
        parallel: on a SQLite file, run the ledger check in a second process beside the
            walk (:mod:`inventory_core.audit.ledger_pass`): None decides by the trail's
            length and the CPUs, True and False force it either way. The result is the
            same; where the second process cannot prove it saw the walk's snapshot, the
            walk's own transaction runs the check.

    Returns:
        A :class:`ChainReport`; ``ok`` is False at the first row found wrong.

    Raises:
        AuditManifestError: ``against`` cannot be read or has no head hash.
    """
    expected_head, expected_rows = load_manifest(against) if against is not None else (None, None)
    columns = (
        AuditLog.audit_id,
        AuditLog.timestamp,
        AuditLog.operation,
        AuditLog.user,
        AuditLog.details,
        AuditLog.run_id,
        AuditLog.duration_ms,
        AuditLog.sku,
        AuditLog.ledger,
        AuditLog.prev_hash,
        AuditLog.hash,
    )
    stmt = select(*columns).order_by(AuditLog.audit_id)
    side: ledger_pass.LedgerPass | None = None
    with _reading(db) as uow, translate_db_errors(**db_context(db)):
        try:
            if ledger and parallel is not False and not isinstance(db, UnitOfWork):
                # Before the walk's transaction reads anything: see ledger_pass.
                side = _side_pass(db, uow)
            if side is not None:
                top = uow.scalar(ledger_pass.top_statement())
                if ledger_pass.wanted(parallel, top):
                    side.start(top)
                else:
                    side.close()
                    side = None
            seals = coverage.Seals() if ledger and side is None else None
            report = _walk(uow, stmt, _Walk(expected_head, expected_rows, seals), progress)
            if not report.ok or not ledger:
                return report
            sealed = side.result() if side is not None else None
            if sealed is None:
                sealed = coverage.check(uow, seals)
        finally:
            if side is not None:
                side.close()
    if sealed.ok:
        return replace(report, ledger_rows_checked=sealed.rows_checked)
    return replace(
        report,
        ok=False,
        reason=f"the ledger does not match the audit trail: {sealed.reason}",
        ledger_rows_checked=sealed.rows_checked,
        ledger_findings=sealed.findings,
    )


def _side_pass(db: ChainSource, uow: UnitOfWork) -> ledger_pass.LedgerPass | None:
    """The ledger pass beside the walk, where it can run: a SQLite file it can open.

    Never on a database opened read-only: that mode reads unwritable files as immutable,
    and a second, ordinary connection on them could leave a byte of the file changed.
    """
    if uow.dialect != "sqlite" or db.path is None or getattr(db, "read_only", False):
        return None
    try:
        return ledger_pass.LedgerPass(db.path)
    except sqlite3.Error:
        return None


def _walk(
    uow: UnitOfWork, stmt: Any, walk: _Walk, progress: Callable[[int], None] | None
) -> ChainReport:
    """Feed every audit row, in ``audit_id`` order, to ``walk`` (the columns are text and
    floats, which the walk hashes as stored: ``raw``)."""
    with closing(uow.stream(stmt, STREAM_BATCH, raw=True)) as batches:
        for batch in batches:
            report = walk.feed(batch)
            if report is not None:
                return report
            if progress is not None:
                progress(walk.count)
    return walk.finish()


def _sku_in_details(sku: str | None, details: str) -> bool:
    """Whether a row of the first form (SKU not hashed) has the SKU its hashed details name.

    The sealed form hashes the column itself; for older rows the column must agree with
    the ``sku`` key of the details, or the row would be hidden from ``audit sku``.
    """
    if sku is None and '"sku":' not in details:
        return True
    try:
        body = json.loads(details)
    except ValueError:
        return False
    return isinstance(body, dict) and body.get("sku") == sku


@contextmanager
def _reading(target: ChainSource | UnitOfWork) -> Iterator[UnitOfWork]:
    """``target`` itself when it is a unit of work, else a read unit of work on it."""
    if isinstance(target, UnitOfWork):
        yield target
        return
    with target.read() as uow:
        yield uow


def db_context(db: ChainSource | UnitOfWork) -> dict[str, Any]:
    """Facts to attach to a translated driver error: where the database is."""
    if isinstance(db, UnitOfWork):
        return {}
    return {"path": str(db.path) if db.path else db.display_url}


class _Walk:
    """The state of one walk along the chain, fed in batches of rows."""

    def __init__(
        self,
        expected_head: str | None,
        expected_rows: int | None,
        seals: coverage.Seals | None = None,
    ) -> None:
        self.seals = seals
        self.expected_head = expected_head
        self.expected_rows = expected_rows
        self.head_seen = expected_head is None or expected_head == GENESIS_HASH
        self.count = 0
        self.last_hash = GENESIS_HASH
        self.hash_before_last = GENESIS_HASH
        self.last_id: int | None = None
        self.sealed = False  # a row with a ledger seal was seen: every later one must have one

    def broken(self, audit_id: int | None, reason: str) -> ChainReport:
        return ChainReport(False, self.count, self.last_hash, audit_id, reason)

    def feed(self, rows: Any) -> ChainReport | None:
        """Check a batch of rows; return the report at the first broken one, else None.

        The loop keeps its state in local variables and leaves the rare cases (a broken
        row, the manifest's head) to :meth:`_special`: this loop runs a million times.
        """
        last_hash, before_last, last_id, count = (
            self.last_hash,
            self.hash_before_last,
            self.last_id,
            self.count,
        )
        expected_head, expected_rows = self.expected_head, self.expected_rows
        sealed = self.sealed
        seal = self.seals.add if self.seals is not None else None
        for (
            audit_id,
            timestamp,
            operation,
            user,
            details,
            run_id,
            duration,
            sku,
            ledger,
            prev,
            stored,
        ) in rows:
            count += 1
            if (
                prev != last_hash
                or stored == expected_head
                or count == expected_rows
                or (ledger is None and (sealed or not _sku_in_details(sku, details)))
                or chain_hash(
                    prev, timestamp, operation, user, details, run_id, duration, sku, ledger
                )
                != stored
            ):
                self.last_hash, self.hash_before_last, self.last_id, self.count = (
                    last_hash,
                    before_last,
                    last_id,
                    count,
                )
                fields = (timestamp, operation, user, details, run_id, duration, sku, ledger)
                report = self._special(audit_id, fields, prev, stored)
                if report is not None:
                    return report
            if ledger is not None:
                if not sealed:
                    sealed = self.sealed = True
                if seal is not None and ledger != "{}":
                    seal(audit_id, ledger)
            before_last, last_hash, last_id = last_hash, stored, audit_id
        self.last_hash, self.hash_before_last, self.last_id, self.count = (
            last_hash,
            before_last,
            last_id,
            count,
        )
        return None

    def _special(
        self, audit_id: int, fields: tuple[Any, ...], prev: str, stored: str
    ) -> ChainReport | None:
        """A row off the fast path: broken, or the one the manifest must match."""
        if prev != self.last_hash:
            return self._link_broken(audit_id, prev)
        if chain_hash(prev, *fields) != stored:
            return self.broken(
                audit_id,
                f"hash mismatch: row {audit_id} was edited after it was written "
                "(its content no longer matches its hash)",
            )
        sku, details, ledger = fields[6], fields[3], fields[7]
        if ledger is None and self.sealed:
            return self.broken(
                audit_id,
                f"row {audit_id} has no ledger seal although rows before it have one: its "
                "seal was removed, or it was written behind the library's back",
            )
        if ledger is None and not _sku_in_details(sku, details):
            return self.broken(
                audit_id,
                f"row {audit_id}'s sku column ({sku!r}) differs from the SKU its hashed "
                "details name: the column was edited (to hide the row from the per-SKU view)",
            )
        if stored == self.expected_head:
            self.head_seen = True
            if self.expected_rows is not None and self.count != self.expected_rows:
                return self.broken(
                    audit_id,
                    f"the manifest's head hash is row {self.count} of the chain, but the "
                    f"manifest recorded {self.expected_rows} rows: rows were deleted or "
                    "inserted before it",
                )
        elif self.count == self.expected_rows and not self.head_seen:
            return self.broken(
                audit_id,
                f"row {audit_id} is row {self.count} of the chain but its hash is not the "
                "head hash recorded in the manifest: the chain was rewritten",
            )
        return None

    def _link_broken(self, audit_id: int, prev: str) -> ChainReport:
        if self.last_id is not None and prev == self.hash_before_last:
            return ChainReport(
                False,
                self.count,
                self.hash_before_last,
                self.last_id,
                f"row {self.last_id} was inserted: the next row ({audit_id}) chains to the row "
                "before it",
            )
        if self.last_id is None:
            return self.broken(
                audit_id,
                f"prev_hash mismatch: row {audit_id} is the first row but does not start the "
                "chain: rows before it were deleted, or it was inserted",
            )
        gap = audit_id - self.last_id - 1
        missing = f" ({gap} audit_id values missing before it)" if gap > 0 else ""
        return self.broken(
            audit_id,
            f"prev_hash mismatch: row {audit_id} does not chain to row {self.last_id}{missing}: "
            "rows between them were deleted, or it was inserted",
        )

    def finish(self) -> ChainReport:
        if not self.head_seen:
            return self.broken(
                None,
                f"the head hash recorded in the manifest is not in the chain (checked "
                f"{self.count} rows): the chain was rewritten or truncated",
            )
        return ChainReport(True, self.count, self.last_hash)
