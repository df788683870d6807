"""The SKU master data (``skus``)."""

from __future__ import annotations

from sqlalchemy import Boolean, CheckConstraint, Index, Integer, String, Text, true
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
        # The planning fields (revision 0006): NULL means "not set".
        CheckConstraint(
            "category IS NULL OR length(category) BETWEEN 1 AND 64", name="category_length"
        ),
        CheckConstraint(
            "shelf_life_days IS NULL OR shelf_life_days >= 1", name="shelf_life_positive"
        ),
        CheckConstraint(
            "reorder_point IS NULL OR reorder_point >= 0", name="reorder_point_not_negative"
        ),
        CheckConstraint(
            "safety_stock IS NULL OR safety_stock >= 0", name="safety_stock_not_negative"
        ),
        CheckConstraint("max_stock IS NULL OR max_stock >= 0", name="max_stock_not_negative"),
        CheckConstraint(
            "max_stock IS NULL OR reorder_point IS NULL OR max_stock >= reorder_point",
            name="max_stock_not_below_reorder_point",
        ),
        Index("ix_skus_category", "category"),
    )

    sku: Mapped[str] = mapped_column(String(64), primary_key=True)
    description: Mapped[str] = mapped_column(String(200), default="", server_default="")
    ean: Mapped[str | None] = mapped_column(String(13), default=None)
    pack_size: Mapped[int] = mapped_column(Integer, default=1, server_default="1")
    moq: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    lead_time_days: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    active: Mapped[bool] = mapped_column(Boolean, default=True, server_default=true())
    category: Mapped[str | None] = mapped_column(String(64), default=None)
    shelf_life_days: Mapped[int | None] = mapped_column(Integer, default=None)
    reorder_point: Mapped[int | None] = mapped_column(Integer, default=None)
    safety_stock: Mapped[int | None] = mapped_column(Integer, default=None)
    max_stock: Mapped[int | None] = mapped_column(Integer, default=None)
    attributes: Mapped[str | None] = mapped_column(Text, default=None)
    """A JSON object (canonical text: sorted keys, no spaces); NULL when empty."""
    created_at: Mapped[str] = mapped_column(String(32), default=utc_now_iso)
    updated_at: Mapped[str] = mapped_column(String(32), default=utc_now_iso)
