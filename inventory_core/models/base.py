"""Declarative base with a MetaData naming convention.

Every constraint and index gets a predictable name, so Alembic can find it again: batch
migrations on SQLite rebuild a table and must be able to refer to constraints by name.
"""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import MetaData
from sqlalchemy.orm import DeclarativeBase

NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class Base(DeclarativeBase):
    """Base of every inventory_core model."""

    metadata = MetaData(naming_convention=NAMING_CONVENTION)


def utc_now_iso() -> str:
    """The current UTC time as ISO-8601 text with microseconds and a ``Z`` suffix.

    Timestamps are stored as text so they read the same on SQLite and PostgreSQL and hash
    the same in the audit chain.
    """
    return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")
