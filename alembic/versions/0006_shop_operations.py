"""Shop operations: the SKU planning fields.

Revision ID: 0006_shop_operations
Revises: 0005_database_identity
Create Date: 2026-12-03

Adds to ``skus`` the planning fields ``category``, ``shelf_life_days``, ``reorder_point``,
``safety_stock``, ``max_stock`` (NULL: not set) and ``attributes`` (a JSON object as text),
with their CHECK constraints and an index on ``category``.

On SQLite the columns are added in place (``ALTER TABLE ... ADD COLUMN`` with a named column
CHECK, which SQLite tests against the existing rows): a batch rebuild of ``skus`` would have
to drop a table that every ledger table references with ``ON DELETE RESTRICT``.
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa

from alembic import op

revision: str = "0006_shop_operations"
down_revision: str | Sequence[str] | None = "0005_database_identity"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# (column, type, CHECK name, CHECK expression), frozen as at this revision.
PLANNING_COLUMNS: tuple[tuple[str, sa.types.TypeEngine[object], str, str], ...] = (
    (
        "category",
        sa.String(length=64),
        "ck_skus_category_length",
        "category IS NULL OR length(category) BETWEEN 1 AND 64",
    ),
    (
        "shelf_life_days",
        sa.Integer(),
        "ck_skus_shelf_life_positive",
        "shelf_life_days IS NULL OR shelf_life_days >= 1",
    ),
    (
        "reorder_point",
        sa.Integer(),
        "ck_skus_reorder_point_not_negative",
        "reorder_point IS NULL OR reorder_point >= 0",
    ),
    (
        "safety_stock",
        sa.Integer(),
        "ck_skus_safety_stock_not_negative",
        "safety_stock IS NULL OR safety_stock >= 0",
    ),
    (
        "max_stock",
        sa.Integer(),
        "ck_skus_max_stock_not_negative",
        "max_stock IS NULL OR max_stock >= 0",
    ),
)
MAX_NOT_BELOW_REORDER = (
    "ck_skus_max_stock_not_below_reorder_point",
    "max_stock IS NULL OR reorder_point IS NULL OR max_stock >= reorder_point",
)
_SQLITE_TYPES = {"category": "VARCHAR(64)"}


def upgrade() -> None:
    """Apply this revision."""
    sqlite = op.get_bind().dialect.name == "sqlite"
    for name, kind, check_name, check in PLANNING_COLUMNS:
        if sqlite:
            extra = ""
            if name == "max_stock":  # SQLite lets a column CHECK name another column
                extra = f" CONSTRAINT {MAX_NOT_BELOW_REORDER[0]} CHECK ({MAX_NOT_BELOW_REORDER[1]})"
            op.execute(
                f"ALTER TABLE skus ADD COLUMN {name} {_SQLITE_TYPES.get(name, 'INTEGER')} "
                f"CONSTRAINT {check_name} CHECK ({check}){extra}"
            )
        else:
            op.add_column("skus", sa.Column(name, kind, nullable=True))
            op.create_check_constraint(op.f(check_name), "skus", check)
    if not sqlite:
        op.create_check_constraint(op.f(MAX_NOT_BELOW_REORDER[0]), "skus", MAX_NOT_BELOW_REORDER[1])
    op.add_column("skus", sa.Column("attributes", sa.Text(), nullable=True))
    op.create_index("ix_skus_category", "skus", ["category"], unique=False)


def downgrade() -> None:
    """Revert this revision (the planning fields are lost)."""
    op.drop_index("ix_skus_category", table_name="skus")
    op.drop_column("skus", "attributes")
    sqlite = op.get_bind().dialect.name == "sqlite"
    if not sqlite:
        op.drop_constraint(op.f(MAX_NOT_BELOW_REORDER[0]), "skus", type_="check")
    # max_stock's CHECK names reorder_point: SQLite drops max_stock first.
    for name, _kind, _check_name, _check in reversed(PLANNING_COLUMNS):
        if sqlite:
            op.execute(f"ALTER TABLE skus DROP COLUMN {name}")
        else:
            op.drop_column("skus", name)
