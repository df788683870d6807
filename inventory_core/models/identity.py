"""The one row that names a database (``database_identity``) and remembers its last restore.

``database_id`` is a UUID drawn when the schema is created (by migration
``0005_database_identity`` for databases that existed before), copied into every backup
manifest, and compared by ``verify``/``restore``: a backup of another database is refused
unless the caller says so. It belongs to the file, not to the shop's data, so CSV snapshots
leave it out and an imported database keeps its own.

``last_restore`` is the JSON record of the newest restore (the backup restored and the
safety backup taken, with their sha256), written in the restore's own transaction, so that
retention never deletes either file.
"""

from __future__ import annotations

from sqlalchemy import CheckConstraint, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from inventory_core.models.base import Base


class DatabaseIdentity(Base):
    """The identity of this database and the record of its last restore (one row)."""

    __tablename__ = "database_identity"
    __table_args__ = (CheckConstraint("id = 1", name="one_row"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    database_id: Mapped[str] = mapped_column(String(36))
    created_at: Mapped[str] = mapped_column(String(32))
    last_restore: Mapped[str | None] = mapped_column(Text)
