"""The SKU master data (``skus``)."""

from __future__ import annotations

from sqlalchemy import Boolean, CheckConstraint, Integer, String, true
from sqlalchemy.orm import Mapped, mapped_column

from inventory_core.models.base import Base, utc_now_iso


class Sku(Base):
    """A stock-keeping unit: what is counted, ordered, received and sold."""

    __tablename__ = "skus"
    __table_args__ = (
        CheckConstraint("length(sku) BETWEEN 1 AND 64", name="sku_length"),
        CheckConstraint("ean IS NULL OR length(ean) = 13", name="ean_length"),
        CheckConstraint("pack_size >= 1", name="pack_size_positive"),
        CheckConstraint("moq >= 0", name="moq_not_negative"),
        CheckConstraint("lead_time_days >= 0", name="lead_time_not_negative"),
    )

    sku: Mapped[str] = mapped_column(String(64), primary_key=True)
    description: Mapped[str] = mapped_column(String(200), default="", server_default="")
    ean: Mapped[str | None] = mapped_column(String(13), default=None)
    pack_size: Mapped[int] = mapped_column(Integer, default=1, server_default="1")
    moq: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    lead_time_days: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    active: Mapped[bool] = mapped_column(Boolean, default=True, server_default=true())
    created_at: Mapped[str] = mapped_column(String(32), default=utc_now_iso)
    updated_at: Mapped[str] = mapped_column(String(32), default=utc_now_iso)
