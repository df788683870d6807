"""Purchase orders and their receipts: ``order_logs``, ``receiving_logs``, ``order_receipts``."""

from __future__ import annotations

from datetime import date
from typing import Any

from sqlalchemy import CheckConstraint, Date, ForeignKey, Index, Integer, String, select
from sqlalchemy.orm import Mapped, mapped_column

from inventory_core.models.base import Base, utc_now_iso


class OrderLog(Base):
    """A purchase order of one SKU; receipts fill it up to ``qty_ordered``."""

    __tablename__ = "order_logs"
    __table_args__ = (
        CheckConstraint("qty_ordered > 0", name="qty_ordered_positive"),
        CheckConstraint("qty_received >= 0", name="qty_received_not_negative"),
        CheckConstraint("qty_received <= qty_ordered", name="received_not_above_ordered"),
        CheckConstraint(
            "status IN ('PENDING', 'PARTIAL', 'RECEIVED', 'CANCELLED', 'CLOSED')",
            name="status_known",
        ),
        CheckConstraint(
            "expected_date IS NULL OR expected_date >= order_date", name="expected_after_order"
        ),
        Index("ix_order_logs_sku_status", "sku", "status"),
        Index("ix_order_logs_legacy_order_id", "legacy_order_id"),
    )

    order_id: Mapped[int] = mapped_column(Integer, primary_key=True)
    sku: Mapped[str] = mapped_column(
        String(64), ForeignKey("skus.sku", ondelete="RESTRICT", onupdate="RESTRICT")
    )
    order_date: Mapped[date] = mapped_column(Date)
    expected_date: Mapped[date | None] = mapped_column(Date, default=None)
    qty_ordered: Mapped[int] = mapped_column(Integer)
    qty_received: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    status: Mapped[str] = mapped_column(String(12), default="PENDING", server_default="PENDING")
    transaction_id: Mapped[int | None] = mapped_column(
        Integer,
        ForeignKey("transactions.transaction_id", ondelete="RESTRICT", onupdate="RESTRICT"),
        default=None,
    )
    created_at: Mapped[str] = mapped_column(String(32), default=utc_now_iso)
    updated_at: Mapped[str] = mapped_column(String(32), default=utc_now_iso)
    legacy_order_id: Mapped[str | None] = mapped_column(String(64), default=None)
    """The id an adopted order had in the application the store came from (NULL for an
    order placed here); not part of the changed-row seal: the import's audit record states
    the sha256 of these ids (docs/adopt.md)."""


class ReceivingLog(Base):
    """One SKU of a received document (a delivery note); the key of idempotent receiving."""

    __tablename__ = "receiving_logs"
    __table_args__ = (
        CheckConstraint("qty_received > 0", name="qty_received_positive"),
        CheckConstraint("length(document_id) > 0", name="document_id_present"),
        Index("ix_receiving_logs_document_id_sku", "document_id", "sku", unique=True),
        Index("ix_receiving_logs_sku_date", "sku", "receipt_date"),
    )

    receiving_id: Mapped[int] = mapped_column(Integer, primary_key=True)
    document_id: Mapped[str] = mapped_column(String(64))
    sku: Mapped[str] = mapped_column(
        String(64), ForeignKey("skus.sku", ondelete="RESTRICT", onupdate="RESTRICT")
    )
    receipt_date: Mapped[date] = mapped_column(Date)
    qty_received: Mapped[int] = mapped_column(Integer)
    document_hash: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[str] = mapped_column(String(32), default=utc_now_iso)


class OrderReceipt(Base):
    """How much of an order one RECEIPT transaction fulfilled."""

    __tablename__ = "order_receipts"
    __table_args__ = (
        CheckConstraint("qty > 0", name="qty_positive"),
        Index("ix_order_receipts_order_id", "order_id"),
        Index("ix_order_receipts_transaction_id", "transaction_id"),
    )

    order_receipt_id: Mapped[int] = mapped_column(Integer, primary_key=True)
    order_id: Mapped[int] = mapped_column(
        Integer, ForeignKey("order_logs.order_id", ondelete="RESTRICT", onupdate="RESTRICT")
    )
    transaction_id: Mapped[int] = mapped_column(
        Integer,
        ForeignKey("transactions.transaction_id", ondelete="RESTRICT", onupdate="RESTRICT"),
    )
    document_id: Mapped[str] = mapped_column(String(64))
    qty: Mapped[int] = mapped_column(Integer)


class OrderClosure(Base):
    """An order closed short, or (``reopens_id`` set) the reopening of such a closure.

    Insert-only, like the ledger. A closure whose ``closure_id`` no reopening names takes
    ``qty`` (the open remainder when it was closed) out of the SKU's on_order from ``date``
    on: as-of queries before that date still count it. A reopening cancels its closure
    altogether, as a reversal cancels a transaction.
    """

    __tablename__ = "order_closures"
    __table_args__ = (
        CheckConstraint("qty > 0", name="qty_positive"),
        CheckConstraint("length(reason) > 0", name="reason_present"),
        CheckConstraint("reopens_id IS NULL OR reopens_id < closure_id", name="reopens_earlier"),
        Index("ix_order_closures_sku_date", "sku", "date"),
        Index("ix_order_closures_order_id", "order_id"),
        Index("ix_order_closures_reopens_id", "reopens_id", unique=True),
    )

    closure_id: Mapped[int] = mapped_column(Integer, primary_key=True)
    order_id: Mapped[int] = mapped_column(
        Integer, ForeignKey("order_logs.order_id", ondelete="RESTRICT", onupdate="RESTRICT")
    )
    sku: Mapped[str] = mapped_column(
        String(64), ForeignKey("skus.sku", ondelete="RESTRICT", onupdate="RESTRICT")
    )
    date: Mapped[date] = mapped_column(Date)
    qty: Mapped[int] = mapped_column(Integer)
    reason: Mapped[str] = mapped_column(String(500))
    user: Mapped[str] = mapped_column(String(64))
    reopens_id: Mapped[int | None] = mapped_column(
        Integer,
        ForeignKey("order_closures.closure_id", ondelete="RESTRICT", onupdate="RESTRICT"),
        default=None,
    )
    created_at: Mapped[str] = mapped_column(String(32), default=utc_now_iso)


def closure_counts(table: Any) -> Any:
    """SQL truth value: the row of ``table`` (``order_closures`` or an alias) is a closure
    that counts, one that no reopening names."""
    reopening = OrderClosure.__table__.alias("reopening")
    return table.c.reopens_id.is_(None) & table.c.closure_id.not_in(
        select(reopening.c.reopens_id).where(reopening.c.reopens_id.is_not(None))
    )
