"""initial schema

Revision ID: 0001_initial
Revises:
Create Date: 2026-11-21 22:23:47.554739
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa

from alembic import op

revision: str = "0001_initial"
down_revision: str | Sequence[str] | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


# The append-only triggers, frozen as they were at this revision (see
# inventory_core/models/triggers.py for what they do).
SQLITE_TRIGGERS = [
    "CREATE TRIGGER trg_transactions_no_update BEFORE UPDATE ON transactions BEGIN SELECT "
    "RAISE(ABORT, 'transactions is append-only: UPDATE refused'); END",
    "CREATE TRIGGER trg_transactions_no_delete BEFORE DELETE ON transactions BEGIN SELECT "
    "RAISE(ABORT, 'transactions is append-only: DELETE refused'); END",
    "CREATE TRIGGER trg_transaction_reversals_no_update BEFORE UPDATE ON transaction_reversals "
    "BEGIN SELECT RAISE(ABORT, 'transaction_reversals is append-only: UPDATE refused'); END",
    "CREATE TRIGGER trg_transaction_reversals_no_delete BEFORE DELETE ON transaction_reversals "
    "BEGIN SELECT RAISE(ABORT, 'transaction_reversals is append-only: DELETE refused'); END",
    "CREATE TRIGGER trg_audit_log_no_update BEFORE UPDATE ON audit_log WHEN NEW.sku IS NOT NULL "
    'OR NEW."audit_id" IS NOT OLD."audit_id" OR NEW."timestamp" IS NOT OLD."timestamp" OR '
    'NEW."operation" IS NOT OLD."operation" OR NEW."user" IS NOT OLD."user" OR NEW."details" IS '
    'NOT OLD."details" OR NEW."run_id" IS NOT OLD."run_id" OR NEW."duration_ms" IS NOT '
    'OLD."duration_ms" OR NEW."prev_hash" IS NOT OLD."prev_hash" OR NEW."hash" IS NOT OLD."hash" '
    "BEGIN SELECT RAISE(ABORT, 'audit_log is append-only: UPDATE refused'); END",
    "CREATE TRIGGER trg_audit_log_no_delete BEFORE DELETE ON audit_log BEGIN SELECT RAISE(ABORT, "
    "'audit_log is append-only: DELETE refused'); END",
]

POSTGRESQL_TRIGGERS = [
    "\n"
    "CREATE OR REPLACE FUNCTION inventory_core_append_only() RETURNS trigger AS $$\n"
    "BEGIN\n"
    "    IF TG_OP = 'UPDATE' AND TG_TABLE_NAME = 'audit_log' THEN\n"
    "        IF (to_jsonb(NEW) ->> 'sku') IS NULL\n"
    "           AND (to_jsonb(NEW) - 'sku') = (to_jsonb(OLD) - 'sku') THEN\n"
    "            RETURN NEW;\n"
    "        END IF;\n"
    "    END IF;\n"
    "    RAISE EXCEPTION '% is append-only: % refused', TG_TABLE_NAME, TG_OP\n"
    "        USING ERRCODE = 'P0001';\n"
    "END;\n"
    "$$ LANGUAGE plpgsql\n",
    "CREATE TRIGGER trg_transactions_append_only BEFORE UPDATE OR DELETE ON transactions FOR EACH "
    "ROW EXECUTE FUNCTION inventory_core_append_only()",
    "CREATE TRIGGER trg_transactions_no_truncate BEFORE TRUNCATE ON transactions FOR EACH "
    "STATEMENT EXECUTE FUNCTION inventory_core_append_only()",
    "CREATE TRIGGER trg_transaction_reversals_append_only BEFORE UPDATE OR DELETE ON "
    "transaction_reversals FOR EACH ROW EXECUTE FUNCTION inventory_core_append_only()",
    "CREATE TRIGGER trg_transaction_reversals_no_truncate BEFORE TRUNCATE ON "
    "transaction_reversals FOR EACH STATEMENT EXECUTE FUNCTION inventory_core_append_only()",
    "CREATE TRIGGER trg_audit_log_append_only BEFORE UPDATE OR DELETE ON audit_log FOR EACH ROW "
    "EXECUTE FUNCTION inventory_core_append_only()",
    "CREATE TRIGGER trg_audit_log_no_truncate BEFORE TRUNCATE ON audit_log FOR EACH STATEMENT "
    "EXECUTE FUNCTION inventory_core_append_only()",
]

SQLITE_DROP_TRIGGERS = [
    "DROP TRIGGER IF EXISTS trg_transactions_no_update",
    "DROP TRIGGER IF EXISTS trg_transactions_no_delete",
    "DROP TRIGGER IF EXISTS trg_transaction_reversals_no_update",
    "DROP TRIGGER IF EXISTS trg_transaction_reversals_no_delete",
    "DROP TRIGGER IF EXISTS trg_audit_log_no_update",
    "DROP TRIGGER IF EXISTS trg_audit_log_no_delete",
]

POSTGRESQL_DROP_TRIGGERS = [
    "DROP TRIGGER IF EXISTS trg_transactions_append_only ON transactions",
    "DROP TRIGGER IF EXISTS trg_transactions_no_truncate ON transactions",
    "DROP TRIGGER IF EXISTS trg_transaction_reversals_append_only ON transaction_reversals",
    "DROP TRIGGER IF EXISTS trg_transaction_reversals_no_truncate ON transaction_reversals",
    "DROP TRIGGER IF EXISTS trg_audit_log_append_only ON audit_log",
    "DROP TRIGGER IF EXISTS trg_audit_log_no_truncate ON audit_log",
    "DROP FUNCTION IF EXISTS inventory_core_append_only()",
]

# Starting statistics for SQLite's query planner. Without them a fresh database has no
# sqlite_stat1 rows and the planner cannot tell that the partial indices (one row per count,
# one per order/receipt) are far more selective than the per-SKU covering index, so the
# as-of stock query would walk every event of a SKU to find its last count. A later ANALYZE
# (``inventory-core maintenance analyze``, PRAGMA optimize) replaces them with measured ones.
SQLITE_PLANNER_STATS = [
    "ANALYZE sqlite_schema",
    "INSERT INTO sqlite_stat1 (tbl, idx, stat) VALUES "
    "('transactions', 'ix_transactions_sku_date', '1000000 1000 10 5 5 2'), "
    "('transactions', 'ix_transactions_snapshots', '10000 10 1 1'), "
    "('transactions', 'ix_transactions_flows', '100000 100 2 2 2 2')",
]


def upgrade() -> None:
    """Apply this revision."""
    # ### commands auto generated by Alembic - please adjust! ###
    op.create_table(
        "holidays",
        sa.Column("holiday_id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=100), nullable=False),
        sa.Column("start_date", sa.Date(), nullable=False),
        sa.Column("end_date", sa.Date(), nullable=False),
        sa.Column("closed", sa.Boolean(), nullable=False),
        sa.CheckConstraint("end_date >= start_date", name=op.f("ck_holidays_date_range")),
        sa.PrimaryKeyConstraint("holiday_id", name=op.f("pk_holidays")),
    )
    op.create_table(
        "settings",
        sa.Column("key", sa.String(length=100), nullable=False),
        sa.Column("value", sa.Text(), nullable=False),
        sa.Column("updated_at", sa.String(length=32), nullable=False),
        sa.PrimaryKeyConstraint("key", name=op.f("pk_settings")),
    )
    op.create_table(
        "skus",
        sa.Column("sku", sa.String(length=64), nullable=False),
        sa.Column("description", sa.String(length=200), server_default="", nullable=False),
        sa.Column("ean", sa.String(length=13), nullable=True),
        sa.Column("pack_size", sa.Integer(), server_default="1", nullable=False),
        sa.Column("moq", sa.Integer(), server_default="0", nullable=False),
        sa.Column("lead_time_days", sa.Integer(), server_default="0", nullable=False),
        sa.Column("active", sa.Boolean(), server_default=sa.true(), nullable=False),
        sa.Column("created_at", sa.String(length=32), nullable=False),
        sa.Column("updated_at", sa.String(length=32), nullable=False),
        sa.CheckConstraint("ean IS NULL OR length(ean) = 13", name=op.f("ck_skus_ean_length")),
        sa.CheckConstraint("lead_time_days >= 0", name=op.f("ck_skus_lead_time_not_negative")),
        sa.CheckConstraint("length(sku) BETWEEN 1 AND 64", name=op.f("ck_skus_sku_length")),
        sa.CheckConstraint("moq >= 0", name=op.f("ck_skus_moq_not_negative")),
        sa.CheckConstraint("pack_size >= 1", name=op.f("ck_skus_pack_size_positive")),
        sa.PrimaryKeyConstraint("sku", name=op.f("pk_skus")),
    )
    op.create_table(
        "audit_log",
        sa.Column("audit_id", sa.Integer(), nullable=False),
        sa.Column("timestamp", sa.String(length=32), nullable=False),
        sa.Column("operation", sa.String(length=32), nullable=False),
        sa.Column("user", sa.String(length=64), nullable=False),
        sa.Column("sku", sa.String(length=64), nullable=True),
        sa.Column("details", sa.Text(), nullable=False),
        sa.Column("run_id", sa.String(length=36), nullable=False),
        sa.Column("duration_ms", sa.Float(), nullable=False),
        sa.Column("prev_hash", sa.String(length=64), nullable=False),
        sa.Column("hash", sa.String(length=64), nullable=False),
        sa.ForeignKeyConstraint(
            ["sku"],
            ["skus.sku"],
            name=op.f("fk_audit_log_sku_skus"),
            onupdate="RESTRICT",
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("audit_id", name=op.f("pk_audit_log")),
    )
    with op.batch_alter_table("audit_log", schema=None) as batch_op:
        batch_op.create_index("ix_audit_log_run_id", ["run_id"], unique=False)
        batch_op.create_index("ix_audit_log_sku", ["sku"], unique=False)
        batch_op.create_index("ix_audit_log_timestamp", ["timestamp"], unique=False)

    op.create_table(
        "event_uplift_rules",
        sa.Column("rule_id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=100), nullable=False),
        sa.Column("sku", sa.String(length=64), nullable=True),
        sa.Column("start_date", sa.Date(), nullable=False),
        sa.Column("end_date", sa.Date(), nullable=False),
        sa.Column("uplift", sa.Float(), nullable=False),
        sa.CheckConstraint("end_date >= start_date", name=op.f("ck_event_uplift_rules_date_range")),
        sa.CheckConstraint("uplift > 0", name=op.f("ck_event_uplift_rules_uplift_positive")),
        sa.ForeignKeyConstraint(
            ["sku"],
            ["skus.sku"],
            name=op.f("fk_event_uplift_rules_sku_skus"),
            onupdate="RESTRICT",
            ondelete="RESTRICT",
        ),
        sa.PrimaryKeyConstraint("rule_id", name=op.f("pk_event_uplift_rules")),
    )
    op.create_table(
        "kpi_daily",
        sa.Column("sku", sa.String(length=64), nullable=False),
        sa.Column("date", sa.Date(), nullable=False),
        sa.Column("on_hand", sa.Integer(), nullable=False),
        sa.Column("sold", sa.Integer(), nullable=False),
        sa.Column("wasted", sa.Integer(), nullable=False),
        sa.Column("unfulfilled", sa.Integer(), nullable=False),
        sa.Column("service_level", sa.Float(), nullable=True),
        sa.CheckConstraint(
            "service_level IS NULL OR (service_level >= 0 AND service_level <= 1)",
            name=op.f("ck_kpi_daily_service_level_range"),
        ),
        sa.CheckConstraint(
            "sold >= 0 AND wasted >= 0 AND unfulfilled >= 0",
            name=op.f("ck_kpi_daily_counts_positive"),
        ),
        sa.ForeignKeyConstraint(
            ["sku"],
            ["skus.sku"],
            name=op.f("fk_kpi_daily_sku_skus"),
            onupdate="RESTRICT",
            ondelete="RESTRICT",
        ),
        sa.PrimaryKeyConstraint("sku", "date", name=op.f("pk_kpi_daily")),
    )
    op.create_table(
        "promo_calendar",
        sa.Column("promo_id", sa.Integer(), nullable=False),
        sa.Column("sku", sa.String(length=64), nullable=False),
        sa.Column("start_date", sa.Date(), nullable=False),
        sa.Column("end_date", sa.Date(), nullable=False),
        sa.Column("description", sa.String(length=200), server_default="", nullable=False),
        sa.CheckConstraint("end_date >= start_date", name=op.f("ck_promo_calendar_date_range")),
        sa.ForeignKeyConstraint(
            ["sku"],
            ["skus.sku"],
            name=op.f("fk_promo_calendar_sku_skus"),
            onupdate="RESTRICT",
            ondelete="RESTRICT",
        ),
        sa.PrimaryKeyConstraint("promo_id", name=op.f("pk_promo_calendar")),
    )
    with op.batch_alter_table("promo_calendar", schema=None) as batch_op:
        batch_op.create_index(
            "ix_promo_calendar_sku_start_date", ["sku", "start_date"], unique=False
        )

    op.create_table(
        "receiving_logs",
        sa.Column("receiving_id", sa.Integer(), nullable=False),
        sa.Column("document_id", sa.String(length=64), nullable=False),
        sa.Column("sku", sa.String(length=64), nullable=False),
        sa.Column("receipt_date", sa.Date(), nullable=False),
        sa.Column("qty_received", sa.Integer(), nullable=False),
        sa.Column("document_hash", sa.String(length=64), nullable=False),
        sa.Column("created_at", sa.String(length=32), nullable=False),
        sa.CheckConstraint(
            "length(document_id) > 0", name=op.f("ck_receiving_logs_document_id_present")
        ),
        sa.CheckConstraint(
            "qty_received > 0", name=op.f("ck_receiving_logs_qty_received_positive")
        ),
        sa.ForeignKeyConstraint(
            ["sku"],
            ["skus.sku"],
            name=op.f("fk_receiving_logs_sku_skus"),
            onupdate="RESTRICT",
            ondelete="RESTRICT",
        ),
        sa.PrimaryKeyConstraint("receiving_id", name=op.f("pk_receiving_logs")),
    )
    with op.batch_alter_table("receiving_logs", schema=None) as batch_op:
        batch_op.create_index(
            "ix_receiving_logs_document_id_sku", ["document_id", "sku"], unique=True
        )
        batch_op.create_index("ix_receiving_logs_sku_date", ["sku", "receipt_date"], unique=False)

    op.create_table(
        "sales",
        sa.Column("sku", sa.String(length=64), nullable=False),
        sa.Column("date", sa.Date(), nullable=False),
        sa.Column("qty_sold", sa.Integer(), nullable=False),
        sa.Column("promo_flag", sa.Boolean(), server_default=sa.false(), nullable=False),
        sa.CheckConstraint("qty_sold >= 0", name=op.f("ck_sales_qty_sold_not_negative")),
        sa.ForeignKeyConstraint(
            ["sku"],
            ["skus.sku"],
            name=op.f("fk_sales_sku_skus"),
            onupdate="RESTRICT",
            ondelete="RESTRICT",
        ),
        sa.PrimaryKeyConstraint("sku", "date", name=op.f("pk_sales")),
    )
    op.create_table(
        "transactions",
        sa.Column("transaction_id", sa.Integer(), nullable=False),
        sa.Column("date", sa.Date(), nullable=False),
        sa.Column("sku", sa.String(length=64), nullable=False),
        sa.Column("event", sa.String(length=12), nullable=False),
        sa.Column("qty", sa.Integer(), nullable=False),
        sa.Column("priority", sa.SmallInteger(), nullable=False),
        sa.Column("document_id", sa.String(length=64), nullable=True),
        sa.Column("note", sa.String(length=500), nullable=True),
        sa.Column("created_at", sa.String(length=32), nullable=False),
        sa.CheckConstraint(
            "(event = 'SNAPSHOT' AND qty >= 0) OR (event = 'ADJUST' AND qty <> 0) OR (event IN ('ORDER', 'RECEIPT', 'SALE', 'WASTE', 'UNFULFILLED') AND qty > 0)",
            name=op.f("ck_transactions_qty_sign"),
        ),
        sa.CheckConstraint(
            "event IN ('SNAPSHOT', 'ORDER', 'RECEIPT', 'SALE', 'WASTE', 'ADJUST', 'UNFULFILLED')",
            name=op.f("ck_transactions_event_known"),
        ),
        sa.CheckConstraint(
            "priority = CASE event WHEN 'SNAPSHOT' THEN 0 WHEN 'ORDER' THEN 1 WHEN 'RECEIPT' THEN 1 WHEN 'SALE' THEN 2 WHEN 'WASTE' THEN 2 WHEN 'ADJUST' THEN 2 WHEN 'UNFULFILLED' THEN 3 END",
            name=op.f("ck_transactions_priority_matches"),
        ),
        sa.ForeignKeyConstraint(
            ["sku"],
            ["skus.sku"],
            name=op.f("fk_transactions_sku_skus"),
            onupdate="RESTRICT",
            ondelete="RESTRICT",
        ),
        sa.PrimaryKeyConstraint("transaction_id", name=op.f("pk_transactions")),
    )
    with op.batch_alter_table("transactions", schema=None) as batch_op:
        batch_op.create_index("ix_transactions_document_id", ["document_id"], unique=False)
        batch_op.create_index(
            "ix_transactions_flows",
            ["sku", "date", "priority", "event", "qty"],
            unique=False,
            sqlite_where=sa.text("event IN ('ORDER', 'RECEIPT', 'UNFULFILLED')"),
            postgresql_where=sa.text("event IN ('ORDER', 'RECEIPT', 'UNFULFILLED')"),
        )
        batch_op.create_index(
            "ix_transactions_sku_date", ["sku", "date", "priority", "event", "qty"], unique=False
        )
        batch_op.create_index(
            "ix_transactions_snapshots",
            ["sku", "date", "qty"],
            unique=False,
            sqlite_where=sa.text("event = 'SNAPSHOT'"),
            postgresql_where=sa.text("event = 'SNAPSHOT'"),
        )

    op.create_table(
        "lots",
        sa.Column("lot_id", sa.Integer(), nullable=False),
        sa.Column("sku", sa.String(length=64), nullable=False),
        sa.Column("transaction_id", sa.Integer(), nullable=False),
        sa.Column("document_id", sa.String(length=64), nullable=True),
        sa.Column("received_date", sa.Date(), nullable=False),
        sa.Column("expiry_date", sa.Date(), nullable=True),
        sa.Column("qty_received", sa.Integer(), nullable=False),
        sa.Column("qty_remaining", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.String(length=32), nullable=False),
        sa.CheckConstraint("qty_received > 0", name=op.f("ck_lots_qty_received_positive")),
        sa.CheckConstraint(
            "qty_remaining <= qty_received", name=op.f("ck_lots_remaining_not_above_received")
        ),
        sa.CheckConstraint("qty_remaining >= 0", name=op.f("ck_lots_qty_remaining_not_negative")),
        sa.ForeignKeyConstraint(
            ["sku"],
            ["skus.sku"],
            name=op.f("fk_lots_sku_skus"),
            onupdate="RESTRICT",
            ondelete="RESTRICT",
        ),
        sa.ForeignKeyConstraint(
            ["transaction_id"],
            ["transactions.transaction_id"],
            name=op.f("fk_lots_transaction_id_transactions"),
            onupdate="RESTRICT",
            ondelete="RESTRICT",
        ),
        sa.PrimaryKeyConstraint("lot_id", name=op.f("pk_lots")),
    )
    with op.batch_alter_table("lots", schema=None) as batch_op:
        batch_op.create_index("ix_lots_sku_expiry_date", ["sku", "expiry_date"], unique=False)
        batch_op.create_index("ix_lots_transaction_id", ["transaction_id"], unique=False)

    op.create_table(
        "order_logs",
        sa.Column("order_id", sa.Integer(), nullable=False),
        sa.Column("sku", sa.String(length=64), nullable=False),
        sa.Column("order_date", sa.Date(), nullable=False),
        sa.Column("expected_date", sa.Date(), nullable=True),
        sa.Column("qty_ordered", sa.Integer(), nullable=False),
        sa.Column("qty_received", sa.Integer(), server_default="0", nullable=False),
        sa.Column("status", sa.String(length=12), server_default="PENDING", nullable=False),
        sa.Column("transaction_id", sa.Integer(), nullable=True),
        sa.Column("created_at", sa.String(length=32), nullable=False),
        sa.Column("updated_at", sa.String(length=32), nullable=False),
        sa.CheckConstraint(
            "status IN ('PENDING', 'PARTIAL', 'RECEIVED', 'CANCELLED')",
            name=op.f("ck_order_logs_status_known"),
        ),
        sa.CheckConstraint(
            "expected_date IS NULL OR expected_date >= order_date",
            name=op.f("ck_order_logs_expected_after_order"),
        ),
        sa.CheckConstraint("qty_ordered > 0", name=op.f("ck_order_logs_qty_ordered_positive")),
        sa.CheckConstraint(
            "qty_received <= qty_ordered", name=op.f("ck_order_logs_received_not_above_ordered")
        ),
        sa.CheckConstraint(
            "qty_received >= 0", name=op.f("ck_order_logs_qty_received_not_negative")
        ),
        sa.ForeignKeyConstraint(
            ["sku"],
            ["skus.sku"],
            name=op.f("fk_order_logs_sku_skus"),
            onupdate="RESTRICT",
            ondelete="RESTRICT",
        ),
        sa.ForeignKeyConstraint(
            ["transaction_id"],
            ["transactions.transaction_id"],
            name=op.f("fk_order_logs_transaction_id_transactions"),
            onupdate="RESTRICT",
            ondelete="RESTRICT",
        ),
        sa.PrimaryKeyConstraint("order_id", name=op.f("pk_order_logs")),
    )
    with op.batch_alter_table("order_logs", schema=None) as batch_op:
        batch_op.create_index("ix_order_logs_sku_status", ["sku", "status"], unique=False)

    op.create_table(
        "transaction_reversals",
        sa.Column("reversal_id", sa.Integer(), nullable=False),
        sa.Column("transaction_id", sa.Integer(), nullable=False),
        sa.Column("reason", sa.String(length=500), nullable=False),
        sa.Column("user", sa.String(length=64), nullable=False),
        sa.Column("created_at", sa.String(length=32), nullable=False),
        sa.CheckConstraint(
            "length(reason) > 0", name=op.f("ck_transaction_reversals_reason_present")
        ),
        sa.ForeignKeyConstraint(
            ["transaction_id"],
            ["transactions.transaction_id"],
            name=op.f("fk_transaction_reversals_transaction_id_transactions"),
            onupdate="RESTRICT",
            ondelete="RESTRICT",
        ),
        sa.PrimaryKeyConstraint("reversal_id", name=op.f("pk_transaction_reversals")),
    )
    with op.batch_alter_table("transaction_reversals", schema=None) as batch_op:
        batch_op.create_index(
            "ix_transaction_reversals_transaction_id", ["transaction_id"], unique=True
        )

    op.create_table(
        "order_receipts",
        sa.Column("order_receipt_id", sa.Integer(), nullable=False),
        sa.Column("order_id", sa.Integer(), nullable=False),
        sa.Column("transaction_id", sa.Integer(), nullable=False),
        sa.Column("document_id", sa.String(length=64), nullable=False),
        sa.Column("qty", sa.Integer(), nullable=False),
        sa.CheckConstraint("qty > 0", name=op.f("ck_order_receipts_qty_positive")),
        sa.ForeignKeyConstraint(
            ["order_id"],
            ["order_logs.order_id"],
            name=op.f("fk_order_receipts_order_id_order_logs"),
            onupdate="RESTRICT",
            ondelete="RESTRICT",
        ),
        sa.ForeignKeyConstraint(
            ["transaction_id"],
            ["transactions.transaction_id"],
            name=op.f("fk_order_receipts_transaction_id_transactions"),
            onupdate="RESTRICT",
            ondelete="RESTRICT",
        ),
        sa.PrimaryKeyConstraint("order_receipt_id", name=op.f("pk_order_receipts")),
    )
    with op.batch_alter_table("order_receipts", schema=None) as batch_op:
        batch_op.create_index("ix_order_receipts_order_id", ["order_id"], unique=False)
        batch_op.create_index("ix_order_receipts_transaction_id", ["transaction_id"], unique=False)

    # ### end Alembic commands ###
    postgresql = op.get_bind().dialect.name == "postgresql"
    for statement in POSTGRESQL_TRIGGERS if postgresql else SQLITE_TRIGGERS:
        op.execute(statement)
    if not postgresql:
        for statement in SQLITE_PLANNER_STATS:
            op.execute(statement)


def downgrade() -> None:
    """Revert this revision."""
    postgresql = op.get_bind().dialect.name == "postgresql"
    for statement in POSTGRESQL_DROP_TRIGGERS if postgresql else SQLITE_DROP_TRIGGERS:
        op.execute(statement)
    # ### commands auto generated by Alembic - please adjust! ###
    with op.batch_alter_table("order_receipts", schema=None) as batch_op:
        batch_op.drop_index("ix_order_receipts_transaction_id")
        batch_op.drop_index("ix_order_receipts_order_id")

    op.drop_table("order_receipts")
    with op.batch_alter_table("transaction_reversals", schema=None) as batch_op:
        batch_op.drop_index("ix_transaction_reversals_transaction_id")

    op.drop_table("transaction_reversals")
    with op.batch_alter_table("order_logs", schema=None) as batch_op:
        batch_op.drop_index("ix_order_logs_sku_status")

    op.drop_table("order_logs")
    with op.batch_alter_table("lots", schema=None) as batch_op:
        batch_op.drop_index("ix_lots_transaction_id")
        batch_op.drop_index("ix_lots_sku_expiry_date")

    op.drop_table("lots")
    with op.batch_alter_table("transactions", schema=None) as batch_op:
        batch_op.drop_index(
            "ix_transactions_snapshots",
            sqlite_where=sa.text("event = 'SNAPSHOT'"),
            postgresql_where=sa.text("event = 'SNAPSHOT'"),
        )
        batch_op.drop_index("ix_transactions_sku_date")
        batch_op.drop_index(
            "ix_transactions_flows",
            sqlite_where=sa.text("event IN ('ORDER', 'RECEIPT', 'UNFULFILLED')"),
            postgresql_where=sa.text("event IN ('ORDER', 'RECEIPT', 'UNFULFILLED')"),
        )
        batch_op.drop_index("ix_transactions_document_id")

    op.drop_table("transactions")
    op.drop_table("sales")
    with op.batch_alter_table("receiving_logs", schema=None) as batch_op:
        batch_op.drop_index("ix_receiving_logs_sku_date")
        batch_op.drop_index("ix_receiving_logs_document_id_sku")

    op.drop_table("receiving_logs")
    with op.batch_alter_table("promo_calendar", schema=None) as batch_op:
        batch_op.drop_index("ix_promo_calendar_sku_start_date")

    op.drop_table("promo_calendar")
    op.drop_table("kpi_daily")
    op.drop_table("event_uplift_rules")
    with op.batch_alter_table("audit_log", schema=None) as batch_op:
        batch_op.drop_index("ix_audit_log_timestamp")
        batch_op.drop_index("ix_audit_log_sku")
        batch_op.drop_index("ix_audit_log_run_id")

    op.drop_table("audit_log")
    op.drop_table("skus")
    op.drop_table("settings")
    op.drop_table("holidays")
    # ### end Alembic commands ###
