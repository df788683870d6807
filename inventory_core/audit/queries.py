"""Reading the audit trail: the newest rows, one run, one SKU.

Each query is shaped to use its index: ``tail`` walks ``ix_audit_log_timestamp`` backwards
and stops after ``n`` rows (with ``since``, a range SEARCH of that index); ``by_run`` and
``by_sku`` search ``ix_audit_log_run_id`` and ``ix_audit_log_sku``. Because ``audit_id`` is
the rowid (SQLite) and the last key of each index entry, ordering by it needs no extra sort.
Rows come back as frozen :class:`AuditEntry` values, oldest first.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from sqlalchemy import Select, select

from inventory_core.models import AuditLog

if TYPE_CHECKING:
    from inventory_core.db.database import Database


@dataclass(frozen=True)
class AuditEntry:
    """One audit row, as read back: who did what, when, in which run."""

    audit_id: int
    timestamp: str
    operation: str
    user: str
    sku: str | None
    details: dict[str, Any]
    run_id: str
    duration_ms: float
    prev_hash: str
    hash: str
    ledger: str | None = None
    """The ledger rows the row sealed (:mod:`inventory_core.audit.coverage`), as JSON text."""

    def to_dict(self) -> dict[str, Any]:
        """A JSON-friendly view."""
        return {name: getattr(self, name) for name in self.__dataclass_fields__}


def _entries(db: Database, stmt: Select[Any]) -> list[AuditEntry]:
    with db.read() as uow:
        rows = uow.execute(stmt).all()
    return [
        AuditEntry(
            audit_id=row.audit_id,
            timestamp=row.timestamp,
            operation=row.operation,
            user=row.user,
            sku=row.sku,
            details=json.loads(row.details),
            run_id=row.run_id,
            duration_ms=row.duration_ms,
            prev_hash=row.prev_hash,
            hash=row.hash,
            ledger=row.ledger,
        )
        for row in rows
    ]


def _columns() -> Select[Any]:
    return select(*AuditLog.__table__.columns)


def tail_query(n: int, since: str | None = None) -> Select[Any]:
    """The newest ``n`` rows (at or after ``since``), newest first, via the timestamp index."""
    stmt = _columns()
    if since is not None:
        stmt = stmt.where(AuditLog.timestamp >= since)
    return stmt.order_by(AuditLog.timestamp.desc(), AuditLog.audit_id.desc()).limit(max(n, 0))


def run_query(run_id: str) -> Select[Any]:
    """Every row of one run, through the run_id index."""
    return _columns().where(AuditLog.run_id == run_id).order_by(AuditLog.audit_id)


def sku_query(sku: str) -> Select[Any]:
    """Every row about one SKU, through the sku index."""
    return _columns().where(AuditLog.sku == sku).order_by(AuditLog.audit_id)


def tail(db: Database, n: int = 20, *, since: str | None = None) -> list[AuditEntry]:
    """The newest ``n`` audit rows, oldest of them first (as a log tail reads).

    Args:
        db: the database to read.
        n: how many rows at most.
        since: only rows whose UTC ISO-8601 timestamp is at or after this (a prefix such as
            ``2026-02-12`` works: timestamps compare as text).
    """
    return list(reversed(_entries(db, tail_query(n, since))))


def by_run(db: Database, run_id: str) -> list[AuditEntry]:
    """Every audit row written in run ``run_id``, in chain order."""
    return _entries(db, run_query(run_id))


def by_sku(db: Database, sku: str) -> list[AuditEntry]:
    """Every audit row about ``sku``, in chain order."""
    return _entries(db, sku_query(sku))
