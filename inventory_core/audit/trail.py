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
import math
from typing import Any

from sqlalchemy import bindparam, insert, select, text

from inventory_core.audit.context import current_run_id
from inventory_core.audit.logs import get_logger
from inventory_core.db.prepared import Prepared
from inventory_core.db.uow import UnitOfWork
from inventory_core.models import AuditLog, utc_now_iso

GENESIS_HASH = "0" * 64
PG_AUDIT_LOCK_KEY = 7_312_694_517  # constant advisory-lock key of the audit chain head

log = get_logger("inventory_core.audit")


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


_CANONICAL = json.JSONEncoder(
    sort_keys=True, separators=(",", ":"), ensure_ascii=False, default=str
)


def canonical_json(value: Any) -> str:
    """JSON with sorted keys and no spaces: the same text for the same content, always.

    One encoder is built once and reused: ``verify`` hashes a million rows through here.
    """
    return _CANONICAL.encode(value)


_quote = json.encoder.encode_basestring  # the quoting JSONEncoder(ensure_ascii=False) uses


def chain_hash(
    prev_hash: str,
    timestamp: str,
    operation: str,
    user: str,
    details: str,
    run_id: str,
    duration_ms: float,
) -> str:
    """The chain hash of one row from its hashed fields: ``sha256(prev_hash + canonical)``.

    The canonical JSON of the six hashed fields is spelled out in sorted key order instead
    of going through :func:`canonical_json`: the text is identical (a property test checks
    it), and ``verify`` over a million rows runs several times faster.
    """
    duration = round(float(duration_ms), 3)
    number = repr(duration) if math.isfinite(duration) else canonical_json(duration)
    payload = (
        f'{{"details":{_quote(details)},"duration_ms":{number},'
        f'"operation":{_quote(operation)},"run_id":{_quote(run_id)},'
        f'"timestamp":{_quote(timestamp)},"user":{_quote(user)}}}'
    )
    return hashlib.sha256((prev_hash + payload).encode("utf-8")).hexdigest()


def row_hash(prev_hash: str, row: dict[str, Any]) -> str:
    """The chain hash of one row given the hash before it.

    ``sku`` is part of ``details``, not of the hashed columns: the foreign key may set the
    ``sku`` column to NULL when a SKU without history is deleted, and that must not break
    the chain.
    """
    return chain_hash(
        prev_hash,
        row["timestamp"],
        row["operation"],
        row["user"],
        row["details"],
        row["run_id"],
        row["duration_ms"],
    )


# Built once: a write pays only for executing them (their compiled forms are cached).
_HEAD = Prepared(select(AuditLog.hash).order_by(AuditLog.audit_id.desc()).limit(1))
_ROW_COLUMNS = (*HASHED_FIELDS, "sku", "prev_hash", "hash")
_INSERT = Prepared(insert(AuditLog).values({name: bindparam(name) for name in _ROW_COLUMNS}))
_PG_LOCK = text("SELECT pg_advisory_xact_lock(:key)")


def head_hash(uow: UnitOfWork) -> str:
    """The hash of the newest audit row, or the genesis hash of an empty trail."""
    row = uow.run_prepared(_HEAD, {}).fetchone()
    return (row[0] if row else None) or GENESIS_HASH


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

    The row commits or rolls back with the change it describes. The ``audit_appended`` log
    event (operation, user, sku, run id and the new head hash) is scheduled on
    ``uow.after_commit``: a rolled-back unit logs nothing for its row, and a retried unit
    logs only the attempt that committed. The head hash in the log stream is a copy of the
    chain's head outside the database, which is what lets a rewritten chain be caught.
    """
    if uow.dialect == "postgresql":
        uow.execute(_PG_LOCK, {"key": PG_AUDIT_LOCK_KEY})
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
    uow.run_prepared(_INSERT, {**row, "sku": sku, "prev_hash": prev, "hash": digest})
    uow.info["audit_head"] = digest

    def _log_committed() -> None:
        log.info(
            "audit_appended",
            operation=row["operation"],
            user=user,
            sku=sku,
            run_id=row["run_id"],
            head_hash=digest,
        )

    uow.after_commit.append(_log_committed)
    return digest
