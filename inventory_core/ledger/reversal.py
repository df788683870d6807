"""Reverting a transaction: the ledger row stays, a ``transaction_reversals`` row cancels it.

A reversal is a write like any other: reverting a RECEIPT, a positive ADJUST or a SNAPSHOT
lowers on_hand from that date on, so it passes the same negative-stock check and is
refused (with nothing written) when later sales depended on it. Its side effects follow
the event: a SALE gives back its units in ``sales``, a RECEIPT gives back its order's
quantity and empties its own lot first, an ORDER cancels its order (unless something was
already received against it). Whatever the event drew from lots goes back to exactly those
lots (:func:`~inventory_core.ledger.draws.give_back`); what a reversal that lowers stock
takes from the lots is booked to the reversal. A RECEIPT whose lot other standing
transactions drew from is refused: their units would have no lot to go back to.

A reversal is no transaction and cannot be reverted in turn (reverting the same
transaction again is a conflict), so the draws booked to a reversal are final.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Any, cast

from sqlalchemy import Table, insert, select, update

from inventory_core.audit import coverage
from inventory_core.db.uow import UnitOfWork
from inventory_core.errors import ConflictError, LotConsumedError, NotFoundError, OrderClosedError
from inventory_core.errors.i18n import gettext
from inventory_core.ledger import draws, events, locks, lots, positions_refresh
from inventory_core.ledger.checks import require_storable
from inventory_core.ledger.receiving import END_OF_TIME, change_received
from inventory_core.ledger.stock import on_hand_before
from inventory_core.models import (
    EventType,
    OrderLog,
    OrderReceipt,
    Transaction,
    TransactionReversal,
    utc_now_iso,
)

_t = cast(Table, Transaction.__table__)
_r = cast(Table, TransactionReversal.__table__)
_o = cast(Table, OrderLog.__table__)
_or = cast(Table, OrderReceipt.__table__)


@dataclass(frozen=True, slots=True)
class Reverted:
    """What was reverted (for the audit row)."""

    transaction_id: int
    sku: str
    event: EventType
    qty: int
    date: date


def revert(uow: UnitOfWork, transaction_id: int, reason: str, user: str) -> Reverted:
    """Record the reversal of ``transaction_id`` with its side effects.

    Raises:
        NotFoundError: no such transaction.
        ConflictError: already reverted, or an ORDER with receipts against it.
        LotConsumedError: a RECEIPT whose lot standing transactions drew from.
        InsufficientStockError: removing the event would make on_hand negative later.
        LotDrawsMismatchError: a lot it drew from was changed outside the library.
        StockLimitError: removing a decrease would take on_hand past an INTEGER column.
    """
    row: Any = uow.fetch_one(
        select(_t.c.sku, _t.c.event, _t.c.qty, _t.c.date).where(
            _t.c.transaction_id == transaction_id
        )
    )
    if row is None:
        raise NotFoundError(entity="Transaction", key=str(transaction_id))
    done = Reverted(transaction_id, row.sku, EventType(row.event), int(row.qty), row.date)
    locks.lock_skus(uow, (done.sku,))  # a transaction's SKU never changes: read it first
    already = uow.fetch_one(select(_r.c.reversal_id).where(_r.c.transaction_id == transaction_id))
    if already is not None:
        raise ConflictError(
            gettext("transaction {transaction_id} is already reverted").format(
                transaction_id=transaction_id
            ),
            transaction_id=transaction_id,
        )
    own_lot = None
    if done.event == EventType.RECEIPT:
        own_lot = lots.lot_of_transaction(uow, transaction_id)
    if own_lot is not None:
        drawn_by = draws.consumers(uow, own_lot, transaction_id)
        if drawn_by:
            raise LotConsumedError(
                sku=done.sku,
                transaction_id=transaction_id,
                lot_id=own_lot,
                drawn_by=", ".join(str(tid) for tid in drawn_by),
                transaction_ids=drawn_by,
            )
    now = utc_now_iso()
    if done.event == EventType.ORDER:
        _cancel_order(uow, transaction_id, now)
    lowers = done.event in (EventType.RECEIPT, EventType.SNAPSHOT) or (
        done.event == EventType.ADJUST and done.qty > 0
    )
    final_before = on_hand_before(uow, done.sku, END_OF_TIME) if lowers else 0
    outcome = None
    if lowers:
        outcome, _ = events.projected(uow, done.sku, done.date, remove=transaction_id)
    coverage.mark(uow, "transaction_reversals")
    reversal_id = uow.scalar(
        insert(_r)
        .values(transaction_id=transaction_id, reason=reason, user=user, created_at=now)
        .returning(_r.c.reversal_id)
    )
    if done.event not in (EventType.ORDER, EventType.UNFULFILLED):
        # Validation only: on_hand after the reversal must fit stock_positions.on_hand.
        if outcome is not None:
            require_storable(done.sku, outcome.final_on_hand, done.date)
        else:
            require_storable(done.sku, on_hand_before(uow, done.sku, END_OF_TIME), done.date)
    if done.event == EventType.SALE:
        events.add_sale(uow, done.sku, done.date, -done.qty)
    if done.event == EventType.RECEIPT:
        links: Any = uow.fetch(
            select(_or.c.order_id, _or.c.qty).where(_or.c.transaction_id == transaction_id)
        )
        for link in links:
            change_received(uow, int(link.order_id), -int(link.qty), now)
    gave_back = draws.give_back(uow, done.sku, transaction_id, own_lot)
    if outcome is not None or gave_back:
        # Units given back may exceed what a later count left: the trim takes them again.
        final = (
            outcome.final_on_hand
            if outcome is not None
            else on_hand_before(uow, done.sku, END_OF_TIME)
        )
        lots.settle(
            uow,
            done.sku,
            drawer=draws.Drawer(transaction_id, int(reversal_id)),
            final_on_hand=final,
            consume=max(final_before - final, 0) if outcome is not None else 0,
            empty_lot=own_lot,
            on=done.date,
        )
    positions_refresh.refresh(uow, [done.sku])
    return done


def _cancel_order(uow: UnitOfWork, transaction_id: int, now: str) -> None:
    order: Any = uow.fetch_one(
        select(_o.c.order_id, _o.c.qty_received, _o.c.status, _o.c.sku).where(
            _o.c.transaction_id == transaction_id
        )
    )
    if order is None:
        return
    order_id = int(order.order_id)
    if order.status == "CLOSED":
        raise OrderClosedError(
            gettext("reverting its ORDER needs it reopened"), order_id=order_id, sku=order.sku
        )
    if int(order.qty_received) > 0:
        raise ConflictError(
            gettext("order {order} already has receipts; revert them first").format(order=order_id),
            order_id=order_id,
        )
    uow.execute(
        update(_o).where(_o.c.order_id == order_id).values(status="CANCELLED", updated_at=now)
    )
    coverage.note(uow, "order_logs", order_id)
