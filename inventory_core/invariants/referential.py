"""Referential integrity and date ranges, written as queries that work with foreign keys off.

The foreign keys of the schema already refuse orphans, but a script that ran with
``PRAGMA foreign_keys=OFF`` (or a restore of a partial dump) can leave them behind. Each
foreign key becomes ``child LEFT JOIN parent ... WHERE parent IS NULL``, generated from the
models' metadata so that a new foreign key is checked without touching this module.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, ClassVar

from sqlalchemy import (
    ColumnElement,
    ForeignKey,
    String,
    Table,
    cast,
    exists,
    literal,
    select,
    union_all,
)

from inventory_core.invariants.base import AnySelect, QueryInvariant, Severity
from inventory_core.models import metadata

# transaction_reversals -> transactions is the reversals_valid invariant's rule.
COVERED_ELSEWHERE = frozenset({("transaction_reversals", "transaction_id")})


def row_key(table: Table) -> ColumnElement[Any]:
    """The primary key of a row as text (``SKU/2026-02-01`` for composite keys)."""
    parts = [cast(column, String) for column in table.primary_key.columns]
    key: ColumnElement[str] = parts[0]
    for part in parts[1:]:
        key = key + literal("/", String) + part
    return key


def orphans(fk: ForeignKey) -> AnySelect:
    """Rows of ``fk``'s table whose non-NULL ``fk`` column matches no parent row."""
    child, parent = fk.parent, fk.column
    table = child.table
    assert isinstance(table, Table)
    parent_table = parent.table.alias(f"parent_{table.name}_{child.name}")
    parent_col = parent_table.c[parent.name]
    return (
        select(
            literal(table.name, String).label("table_name"),
            literal(child.name, String).label("column_name"),
            row_key(table).label("row_key"),
            cast(child, String).label("value"),
        )
        .select_from(table.outerjoin(parent_table, parent_col == child))
        .where(child.is_not(None), parent_col.is_(None))
    )


def foreign_keys() -> list[ForeignKey]:
    """Every foreign key of the schema, in a stable order."""
    found = [
        fk
        for table in metadata.sorted_tables
        for fk in sorted(table.foreign_keys, key=lambda f: f.parent.name)
        if (table.name, fk.parent.name) not in COVERED_ELSEWHERE
    ]
    return found


def receipts_without_document() -> AnySelect:
    """Order receipts whose delivery document was never recorded in ``receiving_logs``."""
    receipts, logs = metadata.tables["order_receipts"], metadata.tables["receiving_logs"]
    recorded = exists().where(logs.c.document_id == receipts.c.document_id)
    return select(
        literal("order_receipts", String).label("table_name"),
        literal("document_id", String).label("column_name"),
        row_key(receipts).label("row_key"),
        cast(receipts.c.document_id, String).label("value"),
    ).where(~recorded)


@dataclass(frozen=True)
class ReferentialIntegrity(QueryInvariant):
    """Every row points at an existing SKU, order, transaction and delivery document."""

    name: ClassVar[str] = "referential_integrity"
    description: ClassVar[str] = (
        "Every ledger, sales, lot, order, receipt, KPI, calendar and audit row points at "
        "an existing SKU / order / transaction / document."
    )
    recovery_steps: ClassVar[tuple[str, ...]] = (
        "Restore the newest good backup ('inventory-core restore PATH'), or re-create "
        "each missing parent (value) named in the sample with 'add_sku'.",
        "Find the script that wrote with foreign keys off.",
    )

    def query(self) -> AnySelect:
        parts = [orphans(fk) for fk in foreign_keys()] + [receipts_without_document()]
        return select(union_all(*parts).subquery("orphans"))


def _backwards(table: Table, start: str, end: str) -> AnySelect:
    key = table.primary_key.columns.values()[0]
    return select(
        literal(table.name, String).label("table_name"),
        key.label("row_id"),
        table.c[start].label("start_date"),
        table.c[end].label("end_date"),
    ).where(table.c[end] < table.c[start])


@dataclass(frozen=True)
class DateRangesValid(QueryInvariant):
    """No period ends before it starts, and no order is expected before it was placed."""

    name: ClassVar[str] = "date_ranges_valid"
    severity: ClassVar[Severity] = Severity.WARNING
    description: ClassVar[str] = (
        "end_date >= start_date in promo_calendar, holidays and event_uplift_rules; "
        "expected_date >= order_date in order_logs."
    )
    recovery_steps: ClassVar[tuple[str, ...]] = (
        "Correct or delete each listed period: one that ends before it starts matches no "
        "day, so its promotion, holiday or rule is silently ignored.",
    )

    def query(self) -> AnySelect:
        tables = metadata.tables
        parts = [
            _backwards(tables["promo_calendar"], "start_date", "end_date"),
            _backwards(tables["holidays"], "start_date", "end_date"),
            _backwards(tables["event_uplift_rules"], "start_date", "end_date"),
            _backwards(tables["order_logs"], "order_date", "expected_date"),
        ]
        return select(union_all(*parts).subquery("backwards_ranges"))


__all__ = ["DateRangesValid", "ReferentialIntegrity", "foreign_keys", "orphans"]
