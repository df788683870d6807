"""Lots (``lots``): received quantities with an expiry, consumed first-expiry-first-out."""

from __future__ import annotations

from datetime import date

from sqlalchemy import CheckConstraint, Date, ForeignKey, Index, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from inventory_core.models.base import Base, utc_now_iso


class Lot(Base):
    """What is left of one received lot; the sum of a SKU's lots never exceeds its on_hand."""

    __tablename__ = "lots"
    __table_args__ = (
        CheckConstraint("qty_received > 0", name="qty_received_positive"),
        CheckConstraint("qty_remaining >= 0", name="qty_remaining_not_negative"),
        CheckConstraint("qty_remaining <= qty_received", name="remaining_not_above_received"),
        Index("ix_lots_sku_expiry_date", "sku", "expiry_date"),
        Index("ix_lots_transaction_id", "transaction_id"),
    )

    lot_id: Mapped[int] = mapped_column(Integer, primary_key=True)
    sku: Mapped[str] = mapped_column(
        String(64), ForeignKey("skus.sku", ondelete="RESTRICT", onupdate="RESTRICT")
    )
    transaction_id: Mapped[int] = mapped_column(
        Integer,
        ForeignKey("transactions.transaction_id", ondelete="RESTRICT", onupdate="RESTRICT"),
    )
    document_id: Mapped[str | None] = mapped_column(String(64), default=None)
    received_date: Mapped[date] = mapped_column(Date)
    expiry_date: Mapped[date | None] = mapped_column(Date, default=None)
    qty_received: Mapped[int] = mapped_column(Integer)
    qty_remaining: Mapped[int] = mapped_column(Integer)
    created_at: Mapped[str] = mapped_column(String(32), default=utc_now_iso)
