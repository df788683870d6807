"""Closing an order short, and reopening it: rows of the insert-only ``order_closures``.

A supplier that will never deliver the rest of an order leaves its open remainder
(``qty_ordered - qty_received``) counted in on_order for ever. Closing the order records
that remainder in ``order_closures`` with the date it stops counting; the order's status
becomes CLOSED. The closure is a dated ledger row like a transaction, not an edit of the
order: the on_order walk of :mod:`inventory_core.ledger.stock` takes it as one more step
(``-qty`` at its date, after the day's orders and receipts), so stock as of any date
before the close still shows the remainder, and every as-of query stays exact.

Reopening inserts a second row naming the closure (``reopens_id``); a closure some row
reopens no longer counts anywhere, as a reversed transaction no longer counts, and the
order's status goes back to what its receipts say. A closed order takes no receipt and
its receipts and ORDER cannot be reverted until it is reopened.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Any, cast

from sqlalchemy import Table, func, insert, select, update

from inventory_core.audit import coverage
from inventory_core.db.uow import UnitOfWork
from inventory_core.errors import (
    NotFoundError,
    OrderNotClosedError,
    OrderNotOpenError,
    ValidationError,
)
from inventory_core.errors.i18n import gettext as _
from inventory_core.ledger import locks
from inventory_core.ledger.closures import counting
from inventory_core.ledger.receiving import order_status
from inventory_core.models import OrderClosure, OrderLog, OrderReceipt, Transaction, utc_now_iso

_c = cast(Table, OrderClosure.__table__)
_o = cast(Table, OrderLog.__table__)
_or = cast(Table, OrderReceipt.__table__)
_t = cast(Table, Transaction.__table__)

OPEN_STATUSES = ("PENDING", "PARTIAL")


@dataclass(frozen=True, slots=True)
class Closure:
    """What one close or reopen recorded (for the audit row and the caller)."""

    closure_id: int
    order_id: int
    sku: str
    date: date
    qty: int
    status: str
    reopened: int | None = None


def audit_details(done: Closure) -> dict[str, Any]:
    """What the audit row of a close or reopen states."""
    body: dict[str, Any] = {
        "order_id": done.order_id,
        "closure_id": done.closure_id,
        "date": done.date,
        "qty": done.qty,
        "status": done.status,
    }
    if done.reopened is not None:
        body["reopens_id"] = done.reopened
    return body


def effective_closures() -> Any:
    """SELECT of the closures that count: closing rows that no reopening names."""
    return select(_c.c.closure_id, _c.c.sku, _c.c.date, _c.c.qty, _c.c.order_id).where(counting())


def _order(uow: UnitOfWork, order_id: int) -> Any:
    row = uow.fetch_one(
        select(
            _o.c.order_id,
            _o.c.sku,
            _o.c.order_date,
            _o.c.qty_ordered,
            _o.c.qty_received,
            _o.c.status,
        ).where(_o.c.order_id == order_id)
    )
    if row is None:
        raise NotFoundError(entity="Order", key=str(order_id))
    return row


def _last_receipt(uow: UnitOfWork, order_id: int) -> date | None:
    value = uow.scalar(
        select(func.max(_t.c.date))
        .select_from(_or.join(_t, _t.c.transaction_id == _or.c.transaction_id))
        .where(_or.c.order_id == order_id)
    )
    if value is None:
        return None
    return value if isinstance(value, date) else date.fromisoformat(str(value))


def close_order(uow: UnitOfWork, order_id: int, on: date, reason: str, user: str) -> Closure:
    """Close an open order short from ``on``: its remainder leaves on_order that day.

    Raises:
        NotFoundError: no such order.
        OrderNotOpenError: the order is RECEIVED, CANCELLED or already CLOSED.
        ValidationError: ``on`` is before the order date or its last receipt.
    """
    locks.lock_order_sku(uow, order_id)
    row = _order(uow, order_id)
    if row.status not in OPEN_STATUSES:
        raise OrderNotOpenError(order_id=order_id, sku=row.sku, status=row.status)
    ordered = (
        row.order_date
        if isinstance(row.order_date, date)
        else date.fromisoformat(str(row.order_date))
    )
    floor = max(ordered, _last_receipt(uow, order_id) or ordered)
    if on < floor:
        raise ValidationError(
            _("must not be before {floor} (the order date or its last receipt)").format(
                floor=floor
            ),
            field="on",
        )
    qty = int(row.qty_ordered) - int(row.qty_received)
    coverage.mark(uow, "order_closures")
    closure_id = uow.scalar(
        insert(_c)
        .values(order_id=order_id, sku=row.sku, date=on, qty=qty, reason=reason, user=user)
        .returning(_c.c.closure_id)
    )
    _set_status(uow, order_id, "CLOSED")
    return Closure(int(closure_id), order_id, row.sku, on, qty, "CLOSED")


def reopen_order(uow: UnitOfWork, order_id: int, reason: str, user: str) -> Closure:
    """Cancel the order's closure: its remainder counts in on_order again, at every date.

    Raises:
        NotFoundError: no such order.
        OrderNotClosedError: the order is not CLOSED (nothing to reopen).
    """
    locks.lock_order_sku(uow, order_id)
    row = _order(uow, order_id)
    closure = uow.fetch_one(
        effective_closures().where(_c.c.order_id == order_id).order_by(_c.c.closure_id.desc())
    )
    if row.status != "CLOSED" or closure is None:
        raise OrderNotClosedError(order_id=order_id, sku=row.sku, status=row.status)
    coverage.mark(uow, "order_closures")
    reopening = uow.scalar(
        insert(_c)
        .values(
            order_id=order_id,
            sku=row.sku,
            date=closure.date,
            qty=closure.qty,
            reason=reason,
            user=user,
            reopens_id=closure.closure_id,
        )
        .returning(_c.c.closure_id)
    )
    status = order_status(int(row.qty_ordered), int(row.qty_received))
    _set_status(uow, order_id, status)
    day = closure.date if isinstance(closure.date, date) else date.fromisoformat(str(closure.date))
    return Closure(
        int(reopening),
        order_id,
        row.sku,
        day,
        int(closure.qty),
        status,
        reopened=int(closure.closure_id),
    )


def _set_status(uow: UnitOfWork, order_id: int, status: str) -> None:
    uow.execute(
        update(_o).where(_o.c.order_id == order_id).values(status=status, updated_at=utc_now_iso())
    )
    coverage.note(uow, "order_logs", order_id)
