"""Daily key figures per SKU (``kpi_daily``), derived from the ledger by reports."""

from __future__ import annotations

from datetime import date

from sqlalchemy import CheckConstraint, Date, Float, ForeignKey, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from inventory_core.models.base import Base


class KpiDaily(Base):
    """Stock, sales, waste and service level of a SKU on one day."""

    __tablename__ = "kpi_daily"
    __table_args__ = (
        CheckConstraint("sold >= 0 AND wasted >= 0 AND unfulfilled >= 0", name="counts_positive"),
        CheckConstraint(
            "service_level IS NULL OR (service_level >= 0 AND service_level <= 1)",
            name="service_level_range",
        ),
    )

    sku: Mapped[str] = mapped_column(
        String(64),
        ForeignKey("skus.sku", ondelete="RESTRICT", onupdate="RESTRICT"),
        primary_key=True,
    )
    date: Mapped[date] = mapped_column(Date, primary_key=True)
    on_hand: Mapped[int] = mapped_column(Integer)
    sold: Mapped[int] = mapped_column(Integer, default=0)
    wasted: Mapped[int] = mapped_column(Integer, default=0)
    unfulfilled: Mapped[int] = mapped_column(Integer, default=0)
    service_level: Mapped[float | None] = mapped_column(Float, default=None)
