"""The legacy order id of an adopted order.

Revision ID: 0008_legacy_order_ids
Revises: 0007_browse_views
Create Date: 2026-12-04

Adds ``order_logs.legacy_order_id`` (NULL for every order this library placed), with an
index: an adopted store's order keeps the id the old application gave it
("ORD-20260209-BIRRA"), so the owner can find it by that id. Before, the import's audit
record listed the map of every legacy id to its order; a decade of weekly orders made it a
record of half a million entries. The import's audit record now states how many orders
carry a legacy id and the sha256 of their (order id, legacy id) pairs, so a changed id is
still found (docs/adopt.md).

On SQLite the column is added in place (``ALTER TABLE ... ADD COLUMN``) and dropped the
same way: a batch rebuild would drop a table ``order_receipts`` and ``order_closures``
reference.
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa

from alembic import op

revision: str = "0008_legacy_order_ids"
down_revision: str | Sequence[str] | None = "0007_browse_views"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

INDEX = "ix_order_logs_legacy_order_id"


def upgrade() -> None:
    """Apply this revision."""
    op.add_column("order_logs", sa.Column("legacy_order_id", sa.String(64), nullable=True))
    op.create_index(INDEX, "order_logs", ["legacy_order_id"], unique=False)


def downgrade() -> None:
    """Revert this revision (the legacy order ids are lost)."""
    op.drop_index(INDEX, table_name="order_logs")
    if op.get_bind().dialect.name == "sqlite":
        op.execute("ALTER TABLE order_logs DROP COLUMN legacy_order_id")
    else:
        op.drop_column("order_logs", "legacy_order_id")
