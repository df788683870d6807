"""The audit chain invariant, delegating to ``inventory_core.audit.verify`` when present.

The chain verifier belongs to the audit package; this check looks it up at run time, so
it becomes active as soon as the audit package ships ``verify(db) -> ChainReport`` and is
reported as skipped (with the reason) by an installation without it.
"""

from __future__ import annotations

import importlib
import time
from collections.abc import Callable
from dataclasses import dataclass
from types import ModuleType
from typing import Any, ClassVar

from inventory_core.db.uow import UnitOfWork
from inventory_core.errors import InventoryError, translate_db_errors
from inventory_core.invariants.base import BaseInvariant, InvariantResult, jsonable, skipped

DATABASE_KEY = "database"  # uow.info key: the Database the checks run against


def find_verifier() -> Callable[..., Any] | None:
    """``inventory_core.audit.verify`` (a function or a module holding one), or None."""
    try:
        audit = importlib.import_module("inventory_core.audit")
    except ImportError:
        return None
    verify = getattr(audit, "verify", None)
    if verify is None:
        try:
            verify = importlib.import_module("inventory_core.audit.verify")
        except ImportError:
            return None
    if isinstance(verify, ModuleType):
        verify = getattr(verify, "verify", None)
    return verify if callable(verify) else None


@dataclass(frozen=True)
class AuditChainIntact(BaseInvariant):
    """No audit row was edited, inserted or deleted behind the library's back."""

    name: ClassVar[str] = "audit_chain"
    description: ClassVar[str] = (
        "Every audit_log row's hash chains to the one before it (audit.verify)."
    )
    recovery_steps: ClassVar[tuple[str, ...]] = (
        "Run 'inventory-core audit verify' to see the first broken row.",
        "Compare with the head hash in the newest backup manifest; restore that backup "
        "if the trail was tampered with.",
    )

    def check(self, uow: UnitOfWork) -> InvariantResult:
        """Walk the chain inside ``uow``, so it sees exactly the rows the other checks see.

        In a CSV import that is the import's own uncommitted transaction.
        """
        started = time.perf_counter()
        verify = find_verifier()
        if verify is None:
            return skipped(self, "inventory_core.audit.verify is not installed", started)
        try:
            with translate_db_errors():
                # The ledger's coverage is the ledger_coverage invariant's own check.
                report = verify(uow, ledger=False)
        except InventoryError as exc:
            return self.failed(exc, started)
        if bool(getattr(report, "ok", False)):
            return self.result(ok=True, started=started, sql="audit.verify(uow)")
        sample = {
            key: jsonable(getattr(report, key, None))
            for key in ("first_broken_id", "reason", "rows_checked", "head_hash")
        }
        return self.result(
            ok=False, count=1, sample=(sample,), started=started, sql="audit.verify(uow)"
        )


__all__ = ["DATABASE_KEY", "AuditChainIntact", "find_verifier"]
