"""database_identity: a UUID naming the database, kept in backup manifests.

Revision ID: 0005_database_identity
Revises: 0004_ledger_coverage
Create Date: 2026-12-01

``verify`` and ``restore`` compare a backup's identity with the live database's and refuse
a backup of another database unless told otherwise. Existing databases get their UUID
here; the row also records the last restore, so retention keeps its two files.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence

import sqlalchemy as sa

from alembic import op
from inventory_core.models.base import utc_now_iso

revision: str = "0005_database_identity"
down_revision: str | Sequence[str] | None = "0004_ledger_coverage"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    """Apply this revision."""
    table = op.create_table(
        "database_identity",
        sa.Column("id", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("database_id", sa.String(length=36), nullable=False),
        sa.Column("created_at", sa.String(length=32), nullable=False),
        sa.Column("last_restore", sa.Text(), nullable=True),
        sa.CheckConstraint("id = 1", name=op.f("ck_database_identity_one_row")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_database_identity")),
    )
    op.bulk_insert(
        table,
        [{"id": 1, "database_id": str(uuid.uuid4()), "created_at": utc_now_iso()}],
    )


def downgrade() -> None:
    """Revert this revision."""
    op.drop_table("database_identity")
