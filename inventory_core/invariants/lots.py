"""Lots: no lot holds a negative quantity, and a SKU's lots never exceed its on_hand."""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

from sqlalchemy import String, func, literal, null, or_, select, union_all

from inventory_core.invariants.base import AnySelect, QueryInvariant, Severity
from inventory_core.invariants.ledger import final_on_hand
from inventory_core.models import Lot

lots = Lot.__table__


@dataclass(frozen=True)
class LotsConsistent(QueryInvariant):
    """Every lot is within ``0 <= qty_remaining <= qty_received``; lots fit in on_hand.

    Any decrease of on_hand consumes lots first-expiry-first-out (DESIGN.md), so the sum of
    a SKU's lots can never exceed the on_hand folded from its unreversed events.
    """

    name: ClassVar[str] = "lots_consistent"
    severity: ClassVar[Severity] = Severity.WARNING
    description: ClassVar[str] = (
        "No lot below zero or above what it received; a SKU's lots sum to at most its on_hand."
    )
    recovery_steps: ClassVar[tuple[str, ...]] = (
        "Stock is right (the ledger defines it); the lots are stale. Count the SKU "
        "physically and record a SNAPSHOT, which re-allocates its lots FEFO.",
    )

    def query(self) -> AnySelect:
        bad_lots = select(
            literal("lot quantity out of range", String).label("problem"),
            lots.c.sku,
            lots.c.lot_id,
            lots.c.qty_remaining.label("qty"),
            null().label("on_hand"),
        ).where(or_(lots.c.qty_remaining < 0, lots.c.qty_remaining > lots.c.qty_received))
        totals = (
            select(lots.c.sku, func.sum(lots.c.qty_remaining).label("lots_total"))
            .group_by(lots.c.sku)
            .subquery("lot_totals")
        )
        final = final_on_hand()
        on_hand = func.coalesce(final.c.on_hand, 0)
        above_stock = (
            select(
                literal("lots exceed on_hand", String).label("problem"),
                totals.c.sku,
                null().label("lot_id"),
                totals.c.lots_total.label("qty"),
                on_hand.label("on_hand"),
            )
            .select_from(totals.outerjoin(final, final.c.sku == totals.c.sku))
            .where(totals.c.lots_total > on_hand)
        )
        return select(union_all(bad_lots, above_stock).subquery("lot_problems"))


__all__ = ["LotsConsistent"]
