"""The audit trail (``audit_log``): one hash-chained row per write, append-only."""

from __future__ import annotations

from sqlalchemy import Float, ForeignKey, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from inventory_core.models.base import Base, utc_now_iso


class AuditLog(Base):
    """Who did what, when, in which run; ``hash`` chains each row to the one before.

    ``ledger`` seals the ledger rows the row's unit of work wrote; rows that carry it hash
    ``sku`` and ``ledger`` too (the chain's second form, see :mod:`inventory_core.audit.trail`).
    """

    __tablename__ = "audit_log"
    __table_args__ = (
        Index("ix_audit_log_timestamp", "timestamp"),
        Index("ix_audit_log_run_id", "run_id"),
        Index("ix_audit_log_sku", "sku"),
    )

    audit_id: Mapped[int] = mapped_column(Integer, primary_key=True)
    timestamp: Mapped[str] = mapped_column(String(32), default=utc_now_iso)
    operation: Mapped[str] = mapped_column(String(32))
    user: Mapped[str] = mapped_column(String(64))
    sku: Mapped[str | None] = mapped_column(
        String(64), ForeignKey("skus.sku", ondelete="SET NULL", onupdate="RESTRICT"), default=None
    )
    details: Mapped[str] = mapped_column(Text, default="{}")
    # The ids and digests of the ledger rows the row's unit of work wrote (see
    # inventory_core.audit.coverage); NULL on rows older than ledger coverage.
    ledger: Mapped[str | None] = mapped_column(Text, default=None)
    run_id: Mapped[str] = mapped_column(String(36))
    duration_ms: Mapped[float] = mapped_column(Float, default=0.0)
    prev_hash: Mapped[str] = mapped_column(String(64))
    hash: Mapped[str] = mapped_column(String(64))
