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
from dataclasses import replace
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol

from sqlalchemy import func, select

from inventory_core.audit import coverage, ledger_pass
from inventory_core.audit.chain_walk import ChainReport, Walk
from inventory_core.audit.trail import GENESIS_HASH
from inventory_core.db.uow import UnitOfWork
from inventory_core.errors import (
    AuditManifestError,
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
            report = _walk(uow, stmt, Walk(expected_head, expected_rows, seals), progress)
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
        reason=_("the ledger does not match the audit trail: {findings}").format(
            findings=sealed.reason
        ),
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
    uow: UnitOfWork, stmt: Any, walk: Walk, progress: Callable[[int], None] | None
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


__all__ = [
    "ChainReport",
    "ChainSource",
    "Manifest",
    "db_context",
    "head",
    "load_manifest",
    "verify",
]
