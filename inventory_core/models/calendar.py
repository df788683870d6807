"""Calendars that shape demand: ``promo_calendar``, ``holidays``, ``event_uplift_rules``."""

from __future__ import annotations

from datetime import date

from sqlalchemy import CheckConstraint, Date, Float, ForeignKey, Index, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from inventory_core.models.base import Base


class PromoCalendar(Base):
    """A promotion of one SKU between two dates (inclusive)."""

    __tablename__ = "promo_calendar"
    __table_args__ = (
        CheckConstraint("end_date >= start_date", name="date_range"),
        Index("ix_promo_calendar_sku_start_date", "sku", "start_date"),
    )

    promo_id: Mapped[int] = mapped_column(Integer, primary_key=True)
    sku: Mapped[str] = mapped_column(
        String(64), ForeignKey("skus.sku", ondelete="RESTRICT", onupdate="RESTRICT")
    )
    start_date: Mapped[date] = mapped_column(Date)
    end_date: Mapped[date] = mapped_column(Date)
    description: Mapped[str] = mapped_column(String(200), default="", server_default="")


class Holiday(Base):
    """A closing or holiday period (inclusive dates)."""

    __tablename__ = "holidays"
    __table_args__ = (CheckConstraint("end_date >= start_date", name="date_range"),)

    holiday_id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(100))
    start_date: Mapped[date] = mapped_column(Date)
    end_date: Mapped[date] = mapped_column(Date)
    closed: Mapped[bool] = mapped_column(default=False)


class EventUpliftRule(Base):
    """A demand multiplier for a period, for one SKU or (``sku`` NULL) for all."""

    __tablename__ = "event_uplift_rules"
    __table_args__ = (
        CheckConstraint("end_date >= start_date", name="date_range"),
        CheckConstraint("uplift > 0", name="uplift_positive"),
    )

    rule_id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(100))
    sku: Mapped[str | None] = mapped_column(
        String(64), ForeignKey("skus.sku", ondelete="RESTRICT", onupdate="RESTRICT"), default=None
    )
    start_date: Mapped[date] = mapped_column(Date)
    end_date: Mapped[date] = mapped_column(Date)
    uplift: Mapped[float] = mapped_column(Float, default=1.0)
