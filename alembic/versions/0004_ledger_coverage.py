"""Ledger coverage: audit rows seal the ledger rows their unit of work wrote.

Revision ID: 0004_ledger_coverage
Revises: 0003_lot_draws
Create Date: 2026-12-03

Adds ``audit_log.ledger`` (see ``inventory_core.audit.coverage``), puts it under the
append-only trigger on SQLite (PostgreSQL's trigger already compares whole rows), and seals
the ledger as it stands: one ``ledger_seal`` audit row covering every row written before
this revision. That seal proves those rows have not changed since the upgrade; it cannot
prove anything about what happened to them before it (docs/audit.md).
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

import sqlalchemy as sa

from alembic import op

revision: str = "0004_ledger_coverage"
down_revision: str | Sequence[str] | None = "0003_lot_draws"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_AUDIT_COLUMNS = (
    "audit_id",
    "timestamp",
    "operation",
    "user",
    "details",
    "run_id",
    "duration_ms",
    "prev_hash",
    "hash",
)

# The covered tables as at this revision (later revisions add tables with no rows to seal).
SEALED_TABLES = (
    "transactions",
    "transaction_reversals",
    "receiving_logs",
    "order_receipts",
    "lot_draws",
    "order_logs",
    "lots",
)


def _sqlite_update_trigger(columns: Sequence[str]) -> str:
    changed = " OR ".join(f'NEW."{c}" IS NOT OLD."{c}"' for c in columns)
    return (
        "CREATE TRIGGER trg_audit_log_no_update BEFORE UPDATE ON audit_log "
        f"WHEN NEW.sku IS NOT NULL OR {changed} "
        "BEGIN SELECT RAISE(ABORT, 'audit_log is append-only: UPDATE refused'); END"
    )


def upgrade() -> None:
    """Apply this revision."""
    bind = op.get_bind()
    if bind.dialect.name == "sqlite":
        # ADD COLUMN in place: a batch rebuild would copy the trail and drop its triggers.
        op.execute("DROP TRIGGER IF EXISTS trg_audit_log_no_update")
        op.execute("ALTER TABLE audit_log ADD COLUMN ledger TEXT")
        op.execute(_sqlite_update_trigger((*_AUDIT_COLUMNS[:7], "ledger", *_AUDIT_COLUMNS[7:])))
    else:
        op.add_column("audit_log", sa.Column("ledger", sa.Text(), nullable=True))
    _seal(bind)


def _seal(bind: Any) -> None:
    """Append one audit row sealing every ledger row that exists now (none: no row)."""
    from inventory_core.audit import coverage
    from inventory_core.audit.trail import GENESIS_HASH, Operation, chain_hash
    from inventory_core.models import utc_now_iso
    from inventory_core.obs.context import current_run_id

    ledger = coverage.seal_all(bind, tables=SEALED_TABLES)
    if ledger == "{}":
        return
    counts = {
        name: sum(
            (int(entry[1]) - int(entry[0]) + 1) if len(entry) == 3 else 1 for entry in entries
        )
        for name, entries in json.loads(ledger).items()
    }
    if bind.dialect.name == "postgresql":
        bind.execute(sa.text("LOCK TABLE audit_log IN EXCLUSIVE MODE"))
    head = bind.execute(
        sa.text("SELECT hash FROM audit_log ORDER BY audit_id DESC LIMIT 1")
    ).scalar_one_or_none()
    prev = head or GENESIS_HASH
    row = {
        "timestamp": utc_now_iso(),
        "operation": Operation.LEDGER_SEAL.value,
        "user": "system",
        "details": json.dumps(
            {"reason": "ledger coverage introduced", "rows": counts},
            sort_keys=True,
            separators=(",", ":"),
        ),
        "run_id": current_run_id(),
        "duration_ms": 0.0,
        "sku": None,
        "ledger": ledger,
    }
    digest = chain_hash(
        prev,
        row["timestamp"],
        row["operation"],
        row["user"],
        row["details"],
        row["run_id"],
        row["duration_ms"],
        None,
        ledger,
    )
    bind.execute(
        sa.text(
            'INSERT INTO audit_log (timestamp, operation, "user", sku, details, run_id, '
            "duration_ms, ledger, prev_hash, hash) VALUES (:timestamp, :operation, :user, "
            ":sku, :details, :run_id, :duration_ms, :ledger, :prev_hash, :hash)"
        ),
        {**row, "prev_hash": prev, "hash": digest},
    )


def downgrade() -> None:
    """Revert this revision (the seals stay readable as rows of the first form's trail only
    if no row carries one: a downgrade of a sealed trail breaks its chain, as it must)."""
    bind = op.get_bind()
    if bind.dialect.name == "sqlite":
        op.execute("DROP TRIGGER IF EXISTS trg_audit_log_no_update")
        op.execute("ALTER TABLE audit_log DROP COLUMN ledger")
        op.execute(_sqlite_update_trigger(_AUDIT_COLUMNS))
    else:
        op.drop_column("audit_log", "ledger")
