"""Lots (``lots``) and what each ledger event drew from them (``lot_draws``)."""

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


class LotDraw(Base):
    """Units one ledger event took from one lot; insert-only, like the ledger.

    A lot holds what it received less its *counted* draws, and nothing once its own
    RECEIPT is reverted. A draw counts while its transaction stands: reverting the
    transaction gives the units back to the lot. Three kinds of row:

    - ``transaction_id`` only: the event's own draw (a sale, waste, a negative
      adjustment, a lower count, or the trim of the lots to on_hand after its write);
    - ``transaction_id`` and ``reversal_id``: drawn by *reverting* that transaction (a
      reversal that lowers stock takes from the lots); a reversal is never reverted, so
      this draw always counts;
    - neither: the opening row of a lot that existed before draws were recorded (migration
      ``0003_lot_draws``), what it had lost by then to draws no one can name any more.
    """

    __tablename__ = "lot_draws"
    __table_args__ = (
        CheckConstraint("qty > 0", name="qty_positive"),
        CheckConstraint(
            "reversal_id IS NULL OR transaction_id IS NOT NULL",
            name="reversal_names_its_transaction",
        ),
        Index("ix_lot_draws_transaction_id", "transaction_id"),
        Index("ix_lot_draws_lot_id", "lot_id"),
    )

    draw_id: Mapped[int] = mapped_column(Integer, primary_key=True)
    lot_id: Mapped[int] = mapped_column(
        Integer, ForeignKey("lots.lot_id", ondelete="RESTRICT", onupdate="RESTRICT")
    )
    transaction_id: Mapped[int | None] = mapped_column(
        Integer,
        ForeignKey("transactions.transaction_id", ondelete="RESTRICT", onupdate="RESTRICT"),
        default=None,
    )
    reversal_id: Mapped[int | None] = mapped_column(
        Integer,
        ForeignKey("transaction_reversals.reversal_id", ondelete="RESTRICT", onupdate="RESTRICT"),
        default=None,
    )
    qty: Mapped[int] = mapped_column(Integer)
