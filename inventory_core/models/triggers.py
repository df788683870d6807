"""Database triggers that make the ledger and the audit log append-only.

``transactions``, ``transaction_reversals``, ``lot_draws`` and ``order_closures`` refuse every
UPDATE and DELETE.
``audit_log`` refuses them too, except the one UPDATE its foreign key performs itself:
setting ``sku`` to NULL when a SKU without ledger history is deleted (``ON DELETE SET NULL``).

The statements are attached to the tables' ``after_create`` event (so ``create_all`` in tests
builds them); the migrations replay them as they were at their revision (``0001_initial``
for the ledger and the audit log, ``0003_lot_draws`` for ``lot_draws``,
``0006_shop_operations`` for ``order_closures``).
"""

from __future__ import annotations

from sqlalchemy import DDL, event

from inventory_core.models.base import Base

APPEND_ONLY_TABLES = (
    "transactions",
    "transaction_reversals",
    "lot_draws",
    "order_closures",
    "audit_log",
)

_AUDIT_COLUMNS = (
    "audit_id",
    "timestamp",
    "operation",
    "user",
    "details",
    "run_id",
    "duration_ms",
    "ledger",
    "prev_hash",
    "hash",
)


def _sqlite_statements(table: str) -> list[str]:
    update_guard = ""
    if table == "audit_log":
        changed = " OR ".join(f'NEW."{c}" IS NOT OLD."{c}"' for c in _AUDIT_COLUMNS)
        update_guard = f" WHEN NEW.sku IS NOT NULL OR {changed}"
    return [
        f"CREATE TRIGGER trg_{table}_no_update BEFORE UPDATE ON {table}{update_guard} "
        f"BEGIN SELECT RAISE(ABORT, '{table} is append-only: UPDATE refused'); END",
        f"CREATE TRIGGER trg_{table}_no_delete BEFORE DELETE ON {table} "
        f"BEGIN SELECT RAISE(ABORT, '{table} is append-only: DELETE refused'); END",
    ]


PG_FUNCTION = """
CREATE OR REPLACE FUNCTION inventory_core_append_only() RETURNS trigger AS $$
BEGIN
    IF TG_OP = 'UPDATE' AND TG_TABLE_NAME = 'audit_log' THEN
        IF (to_jsonb(NEW) ->> 'sku') IS NULL
           AND (to_jsonb(NEW) - 'sku') = (to_jsonb(OLD) - 'sku') THEN
            RETURN NEW;
        END IF;
    END IF;
    RAISE EXCEPTION '% is append-only: % refused', TG_TABLE_NAME, TG_OP
        USING ERRCODE = 'P0001';
END;
$$ LANGUAGE plpgsql
"""


def _pg_statements(table: str) -> list[str]:
    return [
        PG_FUNCTION,
        f"CREATE TRIGGER trg_{table}_append_only BEFORE UPDATE OR DELETE ON {table} "
        "FOR EACH ROW EXECUTE FUNCTION inventory_core_append_only()",
        f"CREATE TRIGGER trg_{table}_no_truncate BEFORE TRUNCATE ON {table} "
        "FOR EACH STATEMENT EXECUTE FUNCTION inventory_core_append_only()",
    ]


def create_sql(dialect: str) -> list[str]:
    """The statements that install every append-only trigger on ``dialect``."""
    build = _pg_statements if dialect == "postgresql" else _sqlite_statements
    statements: list[str] = []
    for table in APPEND_ONLY_TABLES:
        statements.extend(s for s in build(table) if s not in statements)
    return statements


def drop_sql(dialect: str) -> list[str]:
    """The statements that remove the triggers (the migration's downgrade)."""
    statements: list[str] = []
    for table in APPEND_ONLY_TABLES:
        if dialect == "postgresql":
            statements += [
                f"DROP TRIGGER IF EXISTS trg_{table}_append_only ON {table}",
                f"DROP TRIGGER IF EXISTS trg_{table}_no_truncate ON {table}",
            ]
        else:
            statements += [
                f"DROP TRIGGER IF EXISTS trg_{table}_no_update",
                f"DROP TRIGGER IF EXISTS trg_{table}_no_delete",
            ]
    if dialect == "postgresql":
        statements.append("DROP FUNCTION IF EXISTS inventory_core_append_only()")
    return statements


def _attach() -> None:
    for table_name in APPEND_ONLY_TABLES:
        table = Base.metadata.tables[table_name]
        for statement in _sqlite_statements(table_name):
            event.listen(
                table,
                "after_create",
                DDL(statement).execute_if(  # type: ignore[no-untyped-call]
                    dialect="sqlite"
                ),
            )
        for statement in _pg_statements(table_name):
            event.listen(
                table,
                "after_create",
                DDL(statement).execute_if(  # type: ignore[no-untyped-call]
                    dialect="postgresql"
                ),
            )
