"""Purchase orders and receiving: quantities and status agree, documents are idempotent."""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

from sqlalchemy import and_, case, exists, func, or_, select

from inventory_core.invariants.base import AnySelect, QueryInvariant, Severity
from inventory_core.models import OrderClosure, OrderLog, ReceivingLog
from inventory_core.models.orders import closure_counts

orders = OrderLog.__table__
closures = OrderClosure.__table__
receiving = ReceivingLog.__table__


@dataclass(frozen=True)
class OrdersConsistent(QueryInvariant):
    """An order never receives more than it ordered, and its status says how much it has.

    PENDING iff nothing received, PARTIAL iff some but not all, RECEIVED iff all of it;
    CANCELLED only for an order that received nothing; CLOSED iff a closure that counts
    (no reopening names it) took exactly the open remainder out of on_order.
    """

    name: ClassVar[str] = "orders_consistent"
    severity: ClassVar[Severity] = Severity.WARNING
    description: ClassVar[str] = (
        "0 <= qty_received <= qty_ordered and status matches: PENDING (0), PARTIAL "
        "(some), RECEIVED (all), CANCELLED (0), CLOSED (one counting closure of the rest)."
    )
    recovery_steps: ClassVar[tuple[str, ...]] = (
        "Compare each listed order with its receipts (order_receipts) and correct "
        "qty_received and status to match them.",
    )

    def query(self) -> AnySelect:
        received, ordered = orders.c.qty_received, orders.c.qty_ordered
        closed = exists().where(closures.c.order_id == orders.c.order_id, closure_counts(closures))
        closed_exactly = exists().where(
            closures.c.order_id == orders.c.order_id,
            closure_counts(closures),
            closures.c.qty == ordered - received,
        )
        expected_status = case(
            (closed, "CLOSED"),
            (received == 0, "PENDING"),
            (received < ordered, "PARTIAL"),
            else_="RECEIVED",
        )
        return select(
            orders.c.order_id,
            orders.c.sku,
            orders.c.qty_ordered,
            orders.c.qty_received,
            orders.c.status,
            expected_status.label("expected_status"),
        ).where(
            or_(
                received < 0,
                received > ordered,
                and_(orders.c.status == "CANCELLED", received != 0),
                and_(orders.c.status != "CANCELLED", orders.c.status != expected_status),
                and_(orders.c.status == "CLOSED", or_(received >= ordered, ~closed_exactly)),
            )
        )


@dataclass(frozen=True)
class ReceivingIdempotent(QueryInvariant):
    """A delivery document is recorded once per SKU: replays must have been no-ops."""

    name: ClassVar[str] = "receiving_idempotent"
    description: ClassVar[str] = "No (document_id, sku) recorded twice in receiving_logs."
    recovery_steps: ClassVar[tuple[str, ...]] = (
        "The same delivery was booked twice: revert the duplicate RECEIPT transactions "
        "with 'revert', then restore a backup or rebuild the unique index with "
        "'inventory-core maintenance reindex'.",
    )

    def query(self) -> AnySelect:
        return (
            select(receiving.c.document_id, receiving.c.sku, func.count().label("records"))
            .group_by(receiving.c.document_id, receiving.c.sku)
            .having(func.count() > 1)
        )


__all__ = ["OrdersConsistent", "ReceivingIdempotent"]
