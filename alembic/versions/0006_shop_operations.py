"""Shop operations: the SKU planning fields, and orders closed short.

Revision ID: 0006_shop_operations
Revises: 0005_database_identity
Create Date: 2026-12-03

Adds to ``skus`` the planning fields ``category``, ``shelf_life_days``, ``reorder_point``,
``safety_stock``, ``max_stock`` (NULL: not set) and ``attributes`` (a JSON object as text),
with their CHECK constraints and an index on ``category``.

On SQLite the columns are added in place (``ALTER TABLE ... ADD COLUMN`` with a named column
CHECK, which SQLite tests against the existing rows): a batch rebuild of ``skus`` would have
to drop a table that every ledger table references with ``ON DELETE RESTRICT``.

Adds the status CLOSED to ``order_logs`` and the insert-only ``order_closures`` (an order
closed short, or the reopening of a closure; see ``inventory_core.models.orders``) with its
append-only triggers. SQLite cannot alter a CHECK constraint, and rebuilding ``order_logs``
would drop a table ``order_receipts`` references; so the one CHECK that changes, widened to
accept one more status (no existing row can violate it), is rewritten in the stored schema
as SQLite documents for loosening a constraint (``writable_schema``, then a new
``schema_version`` so every connection reloads it), and ``integrity_check`` must pass.
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

OLD_STATUSES = "status IN ('PENDING', 'PARTIAL', 'RECEIVED', 'CANCELLED')"
NEW_STATUSES = "status IN ('PENDING', 'PARTIAL', 'RECEIVED', 'CANCELLED', 'CLOSED')"

# The append-only triggers of order_closures, frozen as at this revision.
SQLITE_TRIGGERS = [
    "CREATE TRIGGER trg_order_closures_no_update BEFORE UPDATE ON order_closures BEGIN SELECT "
    "RAISE(ABORT, 'order_closures is append-only: UPDATE refused'); END",
    "CREATE TRIGGER trg_order_closures_no_delete BEFORE DELETE ON order_closures BEGIN SELECT "
    "RAISE(ABORT, 'order_closures is append-only: DELETE refused'); END",
]
POSTGRESQL_TRIGGERS = [
    "CREATE TRIGGER trg_order_closures_append_only BEFORE UPDATE OR DELETE ON order_closures "
    "FOR EACH ROW EXECUTE FUNCTION inventory_core_append_only()",
    "CREATE TRIGGER trg_order_closures_no_truncate BEFORE TRUNCATE ON order_closures FOR EACH "
    "STATEMENT EXECUTE FUNCTION inventory_core_append_only()",
]


def _sqlite_rewrite_check(old: str, new: str) -> None:
    """Replace ``old`` by ``new`` in the stored CREATE TABLE of order_logs (see above)."""
    bind = op.get_bind()
    stored = bind.exec_driver_sql(
        "SELECT sql FROM sqlite_master WHERE type = 'table' AND name = 'order_logs'"
    ).scalar_one()
    if old not in stored:
        raise RuntimeError(f"order_logs has no CHECK ({old}) to rewrite: {stored}")
    version = bind.exec_driver_sql("PRAGMA schema_version").scalar_one()
    bind.exec_driver_sql("PRAGMA writable_schema = ON")
    try:
        bind.exec_driver_sql(
            "UPDATE sqlite_master SET sql = ? WHERE type = 'table' AND name = 'order_logs'",
            (stored.replace(old, new),),
        )
        bind.exec_driver_sql(f"PRAGMA schema_version = {int(version) + 1}")
    finally:
        bind.exec_driver_sql("PRAGMA writable_schema = OFF")
    result = bind.exec_driver_sql("PRAGMA integrity_check").scalar_one()
    if result != "ok":
        raise RuntimeError(f"integrity_check after rewriting order_logs: {result}")


def _set_statuses(old: str, new: str) -> None:
    if op.get_bind().dialect.name == "sqlite":
        _sqlite_rewrite_check(old, new)
    else:
        op.drop_constraint(op.f("ck_order_logs_status_known"), "order_logs", type_="check")
        op.create_check_constraint(op.f("ck_order_logs_status_known"), "order_logs", new)


def _create_closures() -> None:
    op.create_table(
        "order_closures",
        sa.Column("closure_id", sa.Integer(), nullable=False),
        sa.Column("order_id", sa.Integer(), nullable=False),
        sa.Column("sku", sa.String(length=64), nullable=False),
        sa.Column("date", sa.Date(), nullable=False),
        sa.Column("qty", sa.Integer(), nullable=False),
        sa.Column("reason", sa.String(length=500), nullable=False),
        sa.Column("user", sa.String(length=64), nullable=False),
        sa.Column("reopens_id", sa.Integer(), nullable=True),
        sa.Column("created_at", sa.String(length=32), nullable=False),
        sa.CheckConstraint("qty > 0", name=op.f("ck_order_closures_qty_positive")),
        sa.CheckConstraint("length(reason) > 0", name=op.f("ck_order_closures_reason_present")),
        sa.CheckConstraint(
            "reopens_id IS NULL OR reopens_id < closure_id",
            name=op.f("ck_order_closures_reopens_earlier"),
        ),
        sa.ForeignKeyConstraint(
            ["order_id"],
            ["order_logs.order_id"],
            name=op.f("fk_order_closures_order_id_order_logs"),
            onupdate="RESTRICT",
            ondelete="RESTRICT",
        ),
        sa.ForeignKeyConstraint(
            ["reopens_id"],
            ["order_closures.closure_id"],
            name=op.f("fk_order_closures_reopens_id_order_closures"),
            onupdate="RESTRICT",
            ondelete="RESTRICT",
        ),
        sa.ForeignKeyConstraint(
            ["sku"],
            ["skus.sku"],
            name=op.f("fk_order_closures_sku_skus"),
            onupdate="RESTRICT",
            ondelete="RESTRICT",
        ),
        sa.PrimaryKeyConstraint("closure_id", name=op.f("pk_order_closures")),
    )
    op.create_index("ix_order_closures_order_id", "order_closures", ["order_id"], unique=False)
    op.create_index("ix_order_closures_reopens_id", "order_closures", ["reopens_id"], unique=True)
    op.create_index("ix_order_closures_sku_date", "order_closures", ["sku", "date"], unique=False)
    sqlite = op.get_bind().dialect.name == "sqlite"
    for statement in SQLITE_TRIGGERS if sqlite else POSTGRESQL_TRIGGERS:
        op.execute(statement)


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
    _set_statuses(OLD_STATUSES, NEW_STATUSES)
    _create_closures()


def downgrade() -> None:
    """Revert this revision (the planning fields and the closures are lost; a CLOSED order
    goes back to the status its receipts give it, and counts in on_order again)."""
    op.drop_table("order_closures")  # with its indices and triggers
    op.execute(
        "UPDATE order_logs SET status = CASE WHEN qty_received = 0 THEN 'PENDING' "
        "ELSE 'PARTIAL' END WHERE status = 'CLOSED'"
    )
    _set_statuses(NEW_STATUSES, OLD_STATUSES)
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
