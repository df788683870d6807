"""The ``stock_positions`` cache agrees with the ledger wherever the library trusts it."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, ClassVar

from sqlalchemy import func, or_, select

from inventory_core.invariants.base import AnySelect, QueryInvariant, Severity
from inventory_core.invariants.ledger import final_on_hand
from inventory_core.models import StockPosition, Transaction, TransactionReversal
from inventory_core.models import position_is_current as is_current

positions = StockPosition.__table__
tx = Transaction.__table__
rev = TransactionReversal.__table__


@dataclass(frozen=True)
class StockPositionsMatchLedger(QueryInvariant):
    """Every current ``stock_positions`` row holds the SKU's final on_hand and last event.

    Single writes check negative stock against these rows, so a wrong row could let a
    write through that the ledger would refuse. Rows that are no longer current (the SKU
    has newer events or reversals) are not trusted by anyone and are not checked.
    """

    name: ClassVar[str] = "stock_positions_match_ledger"
    severity: ClassVar[Severity] = Severity.WARNING
    description: ClassVar[str] = (
        "Each current stock_positions row equals the fold of its SKU's ledger: final "
        "on_hand, and the date and priority of the last unreversed event."
    )
    recovery_steps: ClassVar[tuple[str, ...]] = (
        "The ledger is right; the rows are a cache. Delete them (the SQL statement "
        "'DELETE FROM stock_positions' is safe at any time): each SKU's next write folds "
        "its ledger and writes its row again.",
        "Then run 'inventory-core check' again.",
    )

    def query(self) -> AnySelect:
        def live(events: Any) -> Any:
            return events.c.transaction_id.not_in(select(rev.c.transaction_id))

        dated = tx.alias("dated")
        last_date = (
            select(func.max(dated.c.date))
            .where(dated.c.sku == positions.c.sku, live(dated))
            .scalar_subquery()
        )
        ranked = tx.alias("ranked")
        last_priority = (
            select(func.max(ranked.c.priority))
            .where(ranked.c.sku == positions.c.sku, ranked.c.date == last_date, live(ranked))
            .scalar_subquery()
        )
        final = final_on_hand()
        ledger_on_hand = func.coalesce(final.c.on_hand, 0)
        compared = (
            select(
                positions.c.sku,
                positions.c.on_hand,
                ledger_on_hand.label("ledger_on_hand"),
                positions.c.tail_date,
                last_date.label("ledger_tail_date"),
                positions.c.tail_priority,
                last_priority.label("ledger_tail_priority"),
            )
            .select_from(positions.outerjoin(final, final.c.sku == positions.c.sku))
            .where(is_current(positions.c.sku))
            .subquery("compared")
        )
        return select(compared).where(
            or_(
                compared.c.on_hand != compared.c.ledger_on_hand,
                compared.c.ledger_tail_date.is_(None),
                compared.c.tail_date != compared.c.ledger_tail_date,
                compared.c.tail_priority != compared.c.ledger_tail_priority,
            )
        )


__all__ = ["StockPositionsMatchLedger"]
