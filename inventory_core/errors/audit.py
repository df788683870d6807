"""AUD_ and INV_: the audit trail, invariants and health checks."""

from __future__ import annotations

from inventory_core.errors.base import InventoryError
from inventory_core.errors.i18n import Steps, Text


class AuditError(InventoryError):
    """The audit trail is broken or could not be written."""

    code = "AUD_001"
    template = Text("Audit trail problem: {detail}")
    steps = Steps(
        Text("Run 'inventory-core audit verify' to find the first broken row."),
    )
    runbook = "runbook.md#audit-chain-broken"


class AuditChainBrokenError(AuditError):
    """The audit hash chain does not verify: a row was edited, deleted, inserted or rewritten."""

    code = "AUD_002"
    template = Text("The audit chain is broken at row {audit_id}: {reason}")
    steps = Steps(
        Text("Stop writing to the database and keep a copy of it as evidence."),
        Text(
            "Compare with the newest backup: 'inventory-core audit verify --against MANIFEST.json'."
        ),
        Text("Restore the newest backup whose chain verifies: 'inventory-core restore PATH'."),
    )
    runbook = "runbook.md#audit-chain-broken"


class LedgerTamperedError(AuditError):
    """The ledger differs from what the audit trail sealed: rows were changed behind its back."""

    code = "AUD_010"
    template = Text("The ledger does not match its audit trail ({findings} findings): {detail}")
    steps = Steps(
        Text("Stop writing to the database and keep a copy of it as evidence."),
        Text(
            "The rows named were inserted, edited or deleted without the library: find out "
            "who had access to the database file or server."
        ),
        Text(
            "Restore the newest backup that verifies ('inventory-core verify PATH', then "
            "'inventory-core restore PATH') and enter again what happened since."
        ),
    )
    runbook = "runbook.md#ledger-does-not-match-its-audit-trail"


class AuditManifestError(AuditError):
    """A backup manifest given to verify the audit chain cannot be read or has no head hash."""

    code = "AUD_003"
    template = Text("Cannot use '{path}' to verify the audit chain: {detail}")
    steps = Steps(
        Text(
            "Pass the JSON manifest written next to a backup (it holds audit_head_hash and "
            "audit_rows)."
        ),
    )
    runbook = "runbook.md#audit-chain-broken"


class HealthCheckError(InventoryError):
    """The database failed its start-up health check."""

    code = "INV_001"
    template = Text("The database failed its health check: {detail}")
    steps = Steps(
        Text("Run 'inventory-core check --full -v' to see every failing invariant."),
        Text("Restore the newest good backup if data is damaged: 'inventory-core restore PATH'."),
    )
    runbook = "runbook.md#corruption-detected"


__all__ = [
    "AuditChainBrokenError",
    "AuditError",
    "AuditManifestError",
    "HealthCheckError",
    "LedgerTamperedError",
]
