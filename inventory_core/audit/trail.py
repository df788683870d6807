"""Appending to the hash-chained audit trail, inside the writer's transaction.

Each row's ``hash`` is ``sha256(prev_hash + canonical_json(row))`` where the canonical JSON
has sorted keys, no spaces and UTF-8 text. Appends are serialised: on SQLite the write
transaction (``BEGIN IMMEDIATE``) already excludes other writers; on PostgreSQL a
transaction-level advisory lock is taken before reading the chain head, so two writers can
never both extend the same head.
"""

from __future__ import annotations

import enum
import hashlib
import json
from typing import Any

from sqlalchemy import insert, select, text

from inventory_core.audit.context import current_run_id
from inventory_core.db.uow import UnitOfWork
from inventory_core.models import AuditLog, utc_now_iso

GENESIS_HASH = "0" * 64
PG_AUDIT_LOCK_KEY = 7_312_694_517  # constant advisory-lock key of the audit chain head


class Operation(enum.StrEnum):
    """Every kind of write the audit trail records."""

    ADD_SKU = "add_sku"
    UPDATE_SKU = "update_sku"
    SNAPSHOT = "snapshot"
    ORDER = "order"
    RECEIVE = "receive"
    SELL = "sell"
    WASTE = "waste"
    ADJUST = "adjust"
    UNFULFILLED = "unfulfilled"
    REVERT = "revert"
    BULK_IMPORT = "bulk_import"
    BACKUP = "backup"
    RESTORE = "restore"
    RETENTION = "retention"
    EXPORT = "export"
    IMPORT = "import"
    MAINTENANCE = "maintenance"
    MIGRATION = "migration"


HASHED_FIELDS = ("timestamp", "operation", "user", "details", "run_id", "duration_ms")


def canonical_json(value: Any) -> str:
    """JSON with sorted keys and no spaces: the same text for the same content, always."""
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False, default=str)


def row_hash(prev_hash: str, row: dict[str, Any]) -> str:
    """The chain hash of one row given the hash before it.

    ``sku`` is part of ``details``, not of the hashed columns: the foreign key may set the
    ``sku`` column to NULL when a SKU without history is deleted, and that must not break
    the chain.
    """
    payload = {field: row[field] for field in HASHED_FIELDS}
    payload["duration_ms"] = round(float(payload["duration_ms"]), 3)
    return hashlib.sha256((prev_hash + canonical_json(payload)).encode("utf-8")).hexdigest()


def head_hash(uow: UnitOfWork) -> str:
    """The hash of the newest audit row, or the genesis hash of an empty trail."""
    value = uow.execute(
        select(AuditLog.hash).order_by(AuditLog.audit_id.desc()).limit(1)
    ).scalar_one_or_none()
    return value or GENESIS_HASH


def append(
    uow: UnitOfWork,
    operation: Operation | str,
    *,
    user: str,
    sku: str | None = None,
    details: dict[str, Any] | None = None,
    duration_ms: float = 0.0,
) -> str:
    """Append one audit row in ``uow``'s transaction and return its hash.

    The row commits or rolls back with the change it describes; the after-commit log event
    is scheduled on the unit of work.
    """
    if uow.dialect == "postgresql":
        uow.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": PG_AUDIT_LOCK_KEY})
    prev = head_hash(uow)
    body = dict(details or {})
    if sku is not None:
        body.setdefault("sku", sku)
    row: dict[str, Any] = {
        "timestamp": utc_now_iso(),
        "operation": str(Operation(operation).value),
        "user": user,
        "details": canonical_json(body),
        "run_id": current_run_id(),
        "duration_ms": round(float(duration_ms), 3),
    }
    digest = row_hash(prev, row)
    uow.execute(insert(AuditLog).values(**row, sku=sku, prev_hash=prev, hash=digest))
    uow.info["audit_head"] = digest
    return digest
