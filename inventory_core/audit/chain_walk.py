"""One walk along the audit hash chain, fed in batches of rows, and what it reports.

:func:`inventory_core.audit.verify.verify` streams the rows (``uow.stream(raw=True)``) and
feeds them to a :class:`Walk`; the walk recomputes each row's hash from its predecessor,
checks the ledger seal a row carries against ledger coverage, and stops at the first row
that does not check out, with a reason an operator can act on (:class:`ChainReport`).
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass
from typing import Any

from inventory_core.audit import coverage
from inventory_core.audit.trail import GENESIS_HASH, chain_hash
from inventory_core.errors import AuditChainBrokenError, LedgerTamperedError
from inventory_core.errors.i18n import gettext as _


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


class Walk:
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
                _(
                    "hash mismatch: row {audit_id} was edited after it was written "
                    "(its content no longer matches its hash)"
                ).format(audit_id=audit_id),
            )
        sku, details, ledger = fields[6], fields[3], fields[7]
        if ledger is None and self.sealed:
            return self.broken(
                audit_id,
                _(
                    "row {audit_id} has no ledger seal although rows before it have one: its "
                    "seal was removed, or it was written behind the library's back"
                ).format(audit_id=audit_id),
            )
        if ledger is None and not _sku_in_details(sku, details):
            return self.broken(
                audit_id,
                _(
                    "row {audit_id}'s sku column ({sku}) differs from the SKU its hashed "
                    "details name: the column was edited (to hide the row from the per-SKU "
                    "view)"
                ).format(audit_id=audit_id, sku=repr(sku)),
            )
        if stored == self.expected_head:
            self.head_seen = True
            if self.expected_rows is not None and self.count != self.expected_rows:
                return self.broken(
                    audit_id,
                    _(
                        "the manifest's head hash is row {count} of the chain, but the "
                        "manifest recorded {rows} rows: rows were deleted or inserted before it"
                    ).format(count=self.count, rows=self.expected_rows),
                )
        elif self.count == self.expected_rows and not self.head_seen:
            return self.broken(
                audit_id,
                _(
                    "row {audit_id} is row {count} of the chain but its hash is not the "
                    "head hash recorded in the manifest: the chain was rewritten"
                ).format(audit_id=audit_id, count=self.count),
            )
        return None

    def _link_broken(self, audit_id: int, prev: str) -> ChainReport:
        if self.last_id is not None and prev == self.hash_before_last:
            return ChainReport(
                False,
                self.count,
                self.hash_before_last,
                self.last_id,
                _(
                    "row {inserted} was inserted: the next row ({audit_id}) chains to the row "
                    "before it"
                ).format(inserted=self.last_id, audit_id=audit_id),
            )
        if self.last_id is None:
            return self.broken(
                audit_id,
                _(
                    "prev_hash mismatch: row {audit_id} is the first row but does not start "
                    "the chain: rows before it were deleted, or it was inserted"
                ).format(audit_id=audit_id),
            )
        gap = audit_id - self.last_id - 1
        missing = _(" ({gap} audit_id values missing before it)").format(gap=gap) if gap > 0 else ""
        return self.broken(
            audit_id,
            _(
                "prev_hash mismatch: row {audit_id} does not chain to row {previous}{missing}: "
                "rows between them were deleted, or it was inserted"
            ).format(audit_id=audit_id, previous=self.last_id, missing=missing),
        )

    def finish(self) -> ChainReport:
        if not self.head_seen:
            return self.broken(
                None,
                _(
                    "the head hash recorded in the manifest is not in the chain (checked "
                    "{count} rows): the chain was rewritten or truncated"
                ).format(count=self.count),
            )
        return ChainReport(True, self.count, self.last_hash)


__all__ = ["ChainReport", "Walk"]
