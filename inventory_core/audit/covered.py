"""The tables ledger coverage seals, with the columns each digest covers.

:mod:`inventory_core.audit.coverage` says how the rows are sealed and checked; this module
says which rows and columns: one :class:`Covered` per table, frozen here rather than read
from the models, so that a later migration adding a column does not change the digest of
rows sealed before it. Dates are digested as ISO text on both backends (:class:`IsoDate`).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy import ColumnElement, Date, String, Table, select
from sqlalchemy.ext.compiler import compiles

from inventory_core.audit.seal_check import TABLES
from inventory_core.models import metadata


class IsoDate(ColumnElement[str]):
    """A date column as ``YYYY-MM-DD`` text whatever the session's settings.

    SQLite stores it so; PostgreSQL's ``date::text`` follows ``DateStyle`` (``SQL, DMY``
    prints ``12/02/2026``), so ``to_char`` spells the format out.
    """

    inherit_cache = True
    type = String()

    def __init__(self, column: Any) -> None:
        self.column = column


@compiles(IsoDate)
def _iso_date_default(element: IsoDate, compiler: Any, **kw: Any) -> str:
    return f"CAST({compiler.process(element.column, **kw)} AS VARCHAR)"


@compiles(IsoDate, "postgresql")
def _iso_date_postgresql(element: IsoDate, compiler: Any, **kw: Any) -> str:
    return f"to_char({compiler.process(element.column, **kw)}, 'YYYY-MM-DD')"


@dataclass(frozen=True)
class Covered:
    """One covered table: its id column, the columns its digest covers, whether rows change."""

    name: str
    id_column: str
    columns: tuple[str, ...]
    changes: bool = False

    @property
    def table(self) -> Table:
        return metadata.tables[self.name]

    def rows_statement(self) -> Any:
        """``SELECT`` of the digested columns, dates as ISO text (the same on both backends)."""
        columns = [self.table.c[name] for name in self.columns]
        return select(*(IsoDate(c) if isinstance(c.type, Date) else c for c in columns))


# The columns are frozen here, not read from the models: a later migration that adds a
# column must not change the digest of rows sealed before it.
COVERED: tuple[Covered, ...] = (
    Covered(
        "transactions",
        "transaction_id",
        (
            "transaction_id",
            "date",
            "sku",
            "event",
            "qty",
            "priority",
            "document_id",
            "note",
            "created_at",
        ),
    ),
    Covered(
        "transaction_reversals",
        "reversal_id",
        ("reversal_id", "transaction_id", "reason", "user", "created_at"),
    ),
    Covered(
        "receiving_logs",
        "receiving_id",
        (
            "receiving_id",
            "document_id",
            "sku",
            "receipt_date",
            "qty_received",
            "document_hash",
            "created_at",
        ),
    ),
    Covered(
        "order_receipts",
        "order_receipt_id",
        ("order_receipt_id", "order_id", "transaction_id", "document_id", "qty"),
    ),
    Covered(
        "lot_draws",
        "draw_id",
        ("draw_id", "lot_id", "transaction_id", "reversal_id", "qty"),
    ),
    Covered(
        "order_closures",
        "closure_id",
        (
            "closure_id",
            "order_id",
            "sku",
            "date",
            "qty",
            "reason",
            "user",
            "reopens_id",
            "created_at",
        ),
    ),
    Covered(
        "order_logs",
        "order_id",
        (
            "order_id",
            "sku",
            "order_date",
            "expected_date",
            "qty_ordered",
            "qty_received",
            "status",
            "transaction_id",
            "created_at",
            "updated_at",
        ),
        changes=True,
    ),
    Covered(
        "lots",
        "lot_id",
        (
            "lot_id",
            "sku",
            "transaction_id",
            "document_id",
            "received_date",
            "expiry_date",
            "qty_received",
            "qty_remaining",
            "created_at",
        ),
        changes=True,
    ),
)
BY_NAME = {spec.name: spec for spec in COVERED}
if tuple((spec.name, spec.changes) for spec in COVERED) != TABLES:  # pragma: no cover
    raise RuntimeError("seal_check.TABLES must name the covered tables of COVERED, in order")


__all__ = ["BY_NAME", "COVERED", "Covered", "IsoDate"]
