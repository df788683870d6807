"""Application settings stored in the database (``settings``): a key and a JSON value."""

from __future__ import annotations

from sqlalchemy import String, Text
from sqlalchemy.orm import Mapped, mapped_column

from inventory_core.models.base import Base, utc_now_iso


class SettingRow(Base):
    """One stored setting of the application using the ledger."""

    __tablename__ = "settings"

    key: Mapped[str] = mapped_column(String(100), primary_key=True)
    value: Mapped[str] = mapped_column(Text)
    updated_at: Mapped[str] = mapped_column(String(32), default=utc_now_iso)
