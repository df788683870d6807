"""Lots: each lot holds what its recorded draws leave, and a SKU's lots fit in its on_hand."""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

from sqlalchemy import String, Subquery, case, func, literal, null, or_, select, union_all

from inventory_core.invariants.base import AnySelect, QueryInvariant, Severity
from inventory_core.invariants.ledger import final_on_hand
from inventory_core.models import Lot, LotDraw, TransactionReversal

lots = Lot.__table__
draws = LotDraw.__table__
rev = TransactionReversal.__table__

OUT_OF_RANGE = "lot quantity out of range"
DIFFERS = "lot differs from its draws"
ABOVE_STOCK = "lots exceed on_hand"


def counted_draws() -> Subquery:
    """Per lot, the units of its draws that count: the draws of standing transactions,
    those made by reversals (never given back) and the opening row of migration 0005."""
    drawer_reversed = rev.alias("drawer_reversed")
    counts = or_(draws.c.reversal_id.is_not(None), drawer_reversed.c.reversal_id.is_(None))
    return (
        select(draws.c.lot_id, func.sum(draws.c.qty).label("drawn"))
        .select_from(
            draws.outerjoin(
                drawer_reversed, drawer_reversed.c.transaction_id == draws.c.transaction_id
            )
        )
        .where(counts)
        .group_by(draws.c.lot_id)
        .subquery("counted_draws")
    )


@dataclass(frozen=True)
class LotsConsistent(QueryInvariant):
    """Every lot holds what it received less its counted draws; lots fit in on_hand.

    Every change of a lot is a ``lot_draws`` row written with it, and a reversal gives a
    transaction's draws back (DESIGN.md), so a lot holds ``qty_received`` less the draws
    that count (:func:`counted_draws`), and nothing once its own RECEIPT is reverted. Any
    decrease consumes lots first-expiry-first-out, so the sum of a SKU's lots can never
    exceed the on_hand folded from its unreversed events.

    What it can prove: for lots received since migration 0005, every unit (taken or given
    back) since the receipt; for older lots, every unit since the migration, whose opening
    row fixed what they held then (that figure itself is taken on trust).
    """

    name: ClassVar[str] = "lots_consistent"
    severity: ClassVar[Severity] = Severity.WARNING
    description: ClassVar[str] = (
        "Every lot holds what it received less its counted draws (nothing once its receipt "
        "is reverted), within 0..received; a SKU's lots sum to at most its on_hand."
    )
    recovery_steps: ClassVar[tuple[str, ...]] = (
        "Stock is right (the ledger defines it); the lots are not. A lot that differs from "
        "its draws was changed outside the library: `expected` is what its receipt and "
        "draws say it holds; restore the newest good backup, or set its qty_remaining to "
        "`expected`.",
        "Lots that exceed on_hand: count the SKU physically and record a SNAPSHOT, which "
        "trims its lots FEFO.",
    )

    def query(self) -> AnySelect:
        drawn = counted_draws()
        receipt_reversed = rev.alias("receipt_reversed")
        expected = case(
            (receipt_reversed.c.reversal_id.is_not(None), 0),
            else_=lots.c.qty_received - func.coalesce(drawn.c.drawn, 0),
        )
        out_of_range = or_(lots.c.qty_remaining < 0, lots.c.qty_remaining > lots.c.qty_received)
        bad_lots = (
            select(
                case(
                    (out_of_range, literal(OUT_OF_RANGE, String)),
                    else_=literal(DIFFERS, String),
                ).label("problem"),
                lots.c.sku,
                lots.c.lot_id,
                lots.c.qty_remaining.label("qty"),
                null().label("on_hand"),
                expected.label("expected"),
            )
            .select_from(
                lots.outerjoin(
                    receipt_reversed, receipt_reversed.c.transaction_id == lots.c.transaction_id
                ).outerjoin(drawn, drawn.c.lot_id == lots.c.lot_id)
            )
            .where(or_(out_of_range, lots.c.qty_remaining != expected))
        )
        totals = (
            select(lots.c.sku, func.sum(lots.c.qty_remaining).label("lots_total"))
            .group_by(lots.c.sku)
            .subquery("lot_totals")
        )
        final = final_on_hand()
        on_hand = func.coalesce(final.c.on_hand, 0)
        above_stock = (
            select(
                literal(ABOVE_STOCK, String).label("problem"),
                totals.c.sku,
                null().label("lot_id"),
                totals.c.lots_total.label("qty"),
                on_hand.label("on_hand"),
                null().label("expected"),
            )
            .select_from(totals.outerjoin(final, final.c.sku == totals.c.sku))
            .where(totals.c.lots_total > on_hand)
        )
        return select(union_all(bad_lots, above_stock).subquery("lot_problems"))


__all__ = ["LotsConsistent", "counted_draws"]
