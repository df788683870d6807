"""lot_draws: which lots each decrease took from, so that a reversal gives them back.

Revision ID: 0003_lot_draws
Revises: 0002_stock_positions
Create Date: 2026-11-24

An insert-only table, guarded by append-only triggers like the ledger's. A lot holds what
it received less its counted draws (see ``inventory_core.models.lots.LotDraw``). Draws
made before this revision were never recorded and cannot be reconstructed: the migration
writes one *opening* row per lot that had lost units (no transaction, the difference
between received and remaining), so every lot's equation holds from here on, and a
reverted decrease that was written before this revision gives nothing back.
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa

from alembic import op

revision: str = "0003_lot_draws"
down_revision: str | Sequence[str] | None = "0002_stock_positions"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# The append-only triggers of lot_draws, frozen as they were at this revision (see
# inventory_core/models/triggers.py). On PostgreSQL they call the function of 0001.
SQLITE_TRIGGERS = [
    "CREATE TRIGGER trg_lot_draws_no_update BEFORE UPDATE ON lot_draws BEGIN SELECT "
    "RAISE(ABORT, 'lot_draws is append-only: UPDATE refused'); END",
    "CREATE TRIGGER trg_lot_draws_no_delete BEFORE DELETE ON lot_draws BEGIN SELECT "
    "RAISE(ABORT, 'lot_draws is append-only: DELETE refused'); END",
]
POSTGRESQL_TRIGGERS = [
    "CREATE TRIGGER trg_lot_draws_append_only BEFORE UPDATE OR DELETE ON lot_draws FOR EACH "
    "ROW EXECUTE FUNCTION inventory_core_append_only()",
    "CREATE TRIGGER trg_lot_draws_no_truncate BEFORE TRUNCATE ON lot_draws FOR EACH "
    "STATEMENT EXECUTE FUNCTION inventory_core_append_only()",
]

OPENING_DRAWS = (
    "INSERT INTO lot_draws (lot_id, qty) "
    "SELECT lot_id, qty_received - qty_remaining FROM lots "
    "WHERE qty_remaining < qty_received ORDER BY lot_id"
)

# Starting planner statistics in the spirit of 0001's: about one draw per transaction,
# a few dozen per lot.
SQLITE_PLANNER_STATS = [
    "INSERT INTO sqlite_stat1 (tbl, idx, stat) "
    f"SELECT 'lot_draws', '{index}', '{stat}' "
    "WHERE EXISTS (SELECT 1 FROM sqlite_stat1 WHERE tbl = 'transactions') "
    f"AND NOT EXISTS (SELECT 1 FROM sqlite_stat1 WHERE idx = '{index}')"
    for index, stat in (
        ("ix_lot_draws_transaction_id", "100000 1"),
        ("ix_lot_draws_lot_id", "100000 30"),
    )
]


def upgrade() -> None:
    """Apply this revision."""
    op.create_table(
        "lot_draws",
        sa.Column("draw_id", sa.Integer(), nullable=False),
        sa.Column("lot_id", sa.Integer(), nullable=False),
        sa.Column("transaction_id", sa.Integer(), nullable=True),
        sa.Column("reversal_id", sa.Integer(), nullable=True),
        sa.Column("qty", sa.Integer(), nullable=False),
        sa.CheckConstraint("qty > 0", name=op.f("ck_lot_draws_qty_positive")),
        sa.CheckConstraint(
            "reversal_id IS NULL OR transaction_id IS NOT NULL",
            name=op.f("ck_lot_draws_reversal_names_its_transaction"),
        ),
        sa.ForeignKeyConstraint(
            ["lot_id"],
            ["lots.lot_id"],
            name=op.f("fk_lot_draws_lot_id_lots"),
            onupdate="RESTRICT",
            ondelete="RESTRICT",
        ),
        sa.ForeignKeyConstraint(
            ["reversal_id"],
            ["transaction_reversals.reversal_id"],
            name=op.f("fk_lot_draws_reversal_id_transaction_reversals"),
            onupdate="RESTRICT",
            ondelete="RESTRICT",
        ),
        sa.ForeignKeyConstraint(
            ["transaction_id"],
            ["transactions.transaction_id"],
            name=op.f("fk_lot_draws_transaction_id_transactions"),
            onupdate="RESTRICT",
            ondelete="RESTRICT",
        ),
        sa.PrimaryKeyConstraint("draw_id", name=op.f("pk_lot_draws")),
    )
    op.create_index("ix_lot_draws_lot_id", "lot_draws", ["lot_id"], unique=False)
    op.create_index("ix_lot_draws_transaction_id", "lot_draws", ["transaction_id"], unique=False)
    op.execute(OPENING_DRAWS)
    sqlite = op.get_bind().dialect.name == "sqlite"
    for statement in SQLITE_TRIGGERS if sqlite else POSTGRESQL_TRIGGERS:
        op.execute(statement)
    if sqlite:
        for statement in SQLITE_PLANNER_STATS:
            op.execute(statement)


def downgrade() -> None:
    """Revert this revision (the draws are lost; the lots keep what they hold)."""
    # Dropping the table drops its triggers and its planner statistics too.
    op.drop_index("ix_lot_draws_transaction_id", table_name="lot_draws")
    op.drop_index("ix_lot_draws_lot_id", table_name="lot_draws")
    op.drop_table("lot_draws")
