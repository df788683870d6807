"""The orders closed short as SQL: which ``order_closures`` rows count, as on_order steps.

Kept apart from :mod:`inventory_core.ledger.orders_close` (the writes) so that the stock
queries can use it without importing the write side.
"""

from __future__ import annotations

from typing import Any, cast

from sqlalchemy import Integer, Table, exists, literal, select

from inventory_core.models import OrderClosure
from inventory_core.models.orders import closure_counts

_c = cast(Table, OrderClosure.__table__)

CLOSURE_KIND = 1
"""Sorts a closure after the transactions of its date and priority (kind 0)."""
CLOSURE_PRIORITY = 1
"""A closure sits with the day's orders and receipts."""


def counting(table: Any = _c) -> Any:
    """SQL truth value: the row of ``table`` is a closure that no reopening names."""
    return closure_counts(table)


def closure_steps(asof: Any, sku: Any | None) -> Any:
    """The counting closures before ``asof`` as on_order steps, in the column layout of
    the flow rows: sku, d (``-qty``), u (0), date, priority, kind, transaction_id (the
    closure id; ``kind`` keeps the two id spaces apart in the ledger order)."""
    rows = select(
        _c.c.sku,
        (-_c.c.qty).label("d"),
        literal(0, Integer).label("u"),
        _c.c.date,
        literal(CLOSURE_PRIORITY, Integer).label("priority"),
        literal(CLOSURE_KIND, Integer).label("kind"),
        _c.c.closure_id.label("transaction_id"),
    ).where(counting(), _c.c.date < asof)
    if sku is not None:
        rows = rows.where(_c.c.sku == sku)
    return rows


def sku_has_closures(sku: Any) -> Any:
    """SQL truth value: the SKU has any closure row (one step of its index)."""
    return exists(select(_c.c.closure_id).where(_c.c.sku == sku))
