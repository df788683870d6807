"""Demand history (``sales``): units sold per SKU and day.

Written in the same transaction as the SALE event; the ledger alone defines stock, this
table feeds forecasting and reports.
"""

from __future__ import annotations

from datetime import date

from sqlalchemy import Boolean, CheckConstraint, Date, ForeignKey, Integer, String, false
from sqlalchemy.orm import Mapped, mapped_column

from inventory_core.models.base import Base


class Sale(Base):
    """Units of a SKU sold on a day (the sum of that day's unreversed SALE events)."""

    __tablename__ = "sales"
    __table_args__ = (CheckConstraint("qty_sold >= 0", name="qty_sold_not_negative"),)

    sku: Mapped[str] = mapped_column(
        String(64),
        ForeignKey("skus.sku", ondelete="RESTRICT", onupdate="RESTRICT"),
        primary_key=True,
    )
    date: Mapped[date] = mapped_column(Date, primary_key=True)
    qty_sold: Mapped[int] = mapped_column(Integer)
    promo_flag: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())
