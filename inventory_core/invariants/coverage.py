"""The ledger coverage invariant: every ledger row is what the audit trail sealed.

The audit chain proves the trail was not rewritten; this check proves the ledger it
describes was not either (see :mod:`inventory_core.audit.coverage`): a row inserted straight
into ``transactions``, a sale's quantity or date changed, a reversal deleted, a lot's
remainder edited are each found, whatever else was recomputed to match.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import ClassVar

from inventory_core.audit import coverage
from inventory_core.db.uow import UnitOfWork
from inventory_core.errors import InventoryError, translate_db_errors
from inventory_core.invariants.base import BaseInvariant, InvariantResult


@dataclass(frozen=True)
class LedgerCovered(BaseInvariant):
    """Every ledger row is sealed by exactly one audit row whose digest matches it."""

    name: ClassVar[str] = "ledger_coverage"
    description: ClassVar[str] = (
        "Every row of transactions, transaction_reversals, receiving_logs, order_receipts, "
        "lot_draws, order_logs and lots is sealed by exactly one audit row whose digest matches it."
    )
    recovery_steps: ClassVar[tuple[str, ...]] = (
        "Run 'inventory-core audit verify' to list the rows that differ from the trail.",
        "The ledger was changed behind the library's back: restore the newest backup that "
        "verifies, then re-enter what happened since with the library.",
    )

    def check(self, uow: UnitOfWork) -> InvariantResult:
        started = time.perf_counter()
        try:
            with translate_db_errors():
                report = coverage.check(uow)
        except InventoryError as exc:
            return self.failed(exc, started)
        sample = tuple({"finding": finding} for finding in report.sample)
        return self.result(
            ok=report.ok,
            count=report.findings,
            sample=sample,
            started=started,
            sql="audit.coverage.check(uow)",
        )


__all__ = ["LedgerCovered"]
