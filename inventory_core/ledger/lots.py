"""Lots and first-expiry-first-out (FEFO) consumption.

A RECEIPT with an expiry creates a lot. Every decrease of on_hand takes from the lots
with the earliest expiry first (lots without expiry last, then by lot id), and after any
write the lots are trimmed, FEFO again, so that their sum never exceeds the SKU's final
on_hand: a later count or a backdated sale can leave less stock than the lots say. What
each write takes is booked in ``lot_draws`` (:mod:`~inventory_core.ledger.draws`), so a
reversal can give it back.
"""

from __future__ import annotations

from datetime import date
from typing import NamedTuple, cast

from sqlalchemy import (
    ColumnElement,
    Exists,
    Table,
    and_,
    bindparam,
    exists,
    func,
    insert,
    literal_column,
    select,
    update,
)

from inventory_core.audit import coverage
from inventory_core.db.prepared import Prepared
from inventory_core.db.reads import Reader
from inventory_core.db.uow import UnitOfWork
from inventory_core.errors import InsufficientStockError, NotFoundError
from inventory_core.errors.i18n import gettext as _
from inventory_core.ledger import draws
from inventory_core.ledger.readmodels import LotInfo
from inventory_core.models import Lot, Sku

_l = cast(Table, Lot.__table__)

_FEFO = (_l.c.expiry_date.is_(None), _l.c.expiry_date, _l.c.lot_id)


def _open(sku: ColumnElement[str]) -> ColumnElement[bool]:
    return and_(_l.c.sku == sku, _l.c.qty_remaining > literal_column("0"))


class _OpenLot(NamedTuple):
    lot_id: int
    qty_remaining: int


_OPEN_LOTS = Prepared(
    select(_l.c.lot_id, _l.c.qty_remaining).where(_open(bindparam("sku"))).order_by(*_FEFO),
    _OpenLot,
)


def has_open_lots(sku: ColumnElement[str]) -> Exists:
    """Whether the SKU has a lot with units left: when not, :func:`settle` has nothing to
    do for a write without an expiry or a chosen lot, and a write can skip it."""
    return exists().where(_open(sku))


_SET_REMAINING = Prepared(
    update(_l)
    .where(_l.c.lot_id == bindparam("b_lot_id"))
    .values(qty_remaining=bindparam("b_remaining"))
)


def create_lot(
    uow: UnitOfWork,
    *,
    sku: str,
    transaction_id: int,
    document_id: str | None,
    received: date,
    expiry: date | None,
    qty: int,
) -> int:
    """Insert a lot holding all of ``qty`` and return its id."""
    lot_id = uow.scalar(
        insert(_l)
        .values(
            sku=sku,
            transaction_id=transaction_id,
            document_id=document_id,
            received_date=received,
            expiry_date=expiry,
            qty_received=qty,
            qty_remaining=qty,
        )
        .returning(_l.c.lot_id)
    )
    lot_id = int(lot_id)
    coverage.note(uow, "lots", lot_id)
    return lot_id


def settle(
    uow: UnitOfWork,
    sku: str,
    *,
    drawer: draws.Drawer,
    final_on_hand: int,
    consume: int = 0,
    from_lot: int | None = None,
    empty_lot: int | None = None,
    on: date | None = None,
) -> None:
    """Apply a decrease to the SKU's lots, trim them to ``final_on_hand``, book the draws.

    Args:
        uow: the write unit of work.
        sku: the SKU whose lots change.
        drawer: whom what leaves the lots is booked to (``lot_draws``).
        final_on_hand: on_hand after every event of the SKU (the fold to the end).
        consume: units taken FEFO (a sale, waste, a negative adjustment, a lower count).
        from_lot: take ``consume`` from this lot instead of FEFO (``waste(lot_id=...)``).
        empty_lot: a lot to empty first (the lot of a reverted RECEIPT); what it held
            counts towards ``consume``, and is no draw (that lot simply holds nothing).
        on: the date of the write, reported when ``from_lot`` holds too little.

    Raises:
        NotFoundError: ``from_lot`` is not a lot of ``sku``.
        InsufficientStockError: ``from_lot`` holds less than ``consume``.
    """
    rows = uow.fetch(_OPEN_LOTS, {"sku": sku})
    if not rows and from_lot is None:
        return
    order = [r.lot_id for r in rows]
    remaining = {r.lot_id: r.qty_remaining for r in rows}
    before = dict(remaining)
    if empty_lot is not None and empty_lot in remaining:
        consume = max(0, consume - remaining[empty_lot])
        remaining[empty_lot] = 0
    if from_lot is not None:
        held = remaining.get(from_lot)
        if held is None:
            _require_lot(uow, sku, from_lot)
            held = 0
        if held < consume:
            raise InsufficientStockError(
                sku=sku, date=on, shortfall=consume - held, lot_id=from_lot
            )
        remaining[from_lot] = held - consume
    else:
        _take_fefo(order, remaining, consume)
    _take_fefo(order, remaining, sum(remaining.values()) - max(final_on_hand, 0))
    changed = [
        {"b_lot_id": lot_id, "b_remaining": qty}
        for lot_id, qty in remaining.items()
        if qty != before.get(lot_id)
    ]
    if changed:
        uow.execute_many(_SET_REMAINING, changed)
        coverage.note(uow, "lots", *(row["b_lot_id"] for row in changed))
        taken = {
            lot_id: before.get(lot_id, 0) - qty
            for lot_id, qty in remaining.items()
            if lot_id != empty_lot
        }
        draws.record(uow, drawer, taken)


def _take_fefo(order: list[int], remaining: dict[int, int], amount: int) -> None:
    for lot_id in order:
        if amount <= 0:
            return
        taken = min(amount, remaining[lot_id])
        remaining[lot_id] -= taken
        amount -= taken


def _require_lot(uow: UnitOfWork, sku: str, lot_id: int) -> None:
    found = uow.scalar(select(_l.c.sku).where(_l.c.lot_id == lot_id))
    if found != sku:
        raise NotFoundError(entity="Lot", key=_("{lot} of {sku}").format(lot=lot_id, sku=sku))


def lot_of_transaction(uow: UnitOfWork, transaction_id: int) -> int | None:
    """The lot created by a RECEIPT transaction, if any."""
    value = uow.scalar(select(_l.c.lot_id).where(_l.c.transaction_id == transaction_id))
    return None if value is None else int(value)


_s = cast(Table, Sku.__table__)


class _ListedLot(NamedTuple):
    lot_id: int | None
    """None in the one all-NULL row of a SKU without open lots (the other fields too)."""
    transaction_id: int
    document_id: str | None
    received_date: date
    expiry_date: date | None
    qty_received: int
    qty_remaining: int


LIST_LOTS = Prepared(
    select(
        _l.c.lot_id,
        _l.c.transaction_id,
        _l.c.document_id,
        _l.c.received_date,
        _l.c.expiry_date,
        _l.c.qty_received,
        _l.c.qty_remaining,
    )
    .select_from(
        _s.outerjoin(_l, and_(_l.c.sku == _s.c.sku, _l.c.qty_remaining > literal_column("0")))
    )
    .where(_s.c.sku == bindparam("sku"))
    .order_by(*_FEFO),
    _ListedLot,
)
"""The SKU's open lots, FEFO; one all-NULL row for a SKU without any, none for no SKU."""


def list_lots(reader: Reader, sku: str) -> list[LotInfo]:
    """The SKU's non-empty lots in FEFO order, in one statement (the SKU's row is joined,
    so an unknown SKU is told apart from one without lots in the same snapshot).

    Raises:
        NotFoundError: no such SKU.
    """
    rows = reader.fetch(LIST_LOTS, {"sku": sku})
    if not rows:
        raise NotFoundError(entity="SKU", key=sku)
    return [
        LotInfo(
            lot_id=r.lot_id,
            sku=sku,
            transaction_id=r.transaction_id,
            document_id=r.document_id,
            received_date=r.received_date,
            expiry_date=r.expiry_date,
            qty_received=r.qty_received,
            qty_remaining=r.qty_remaining,
        )
        for r in rows
        if r.lot_id is not None
    ]


def lots_total(uow: UnitOfWork, sku: str) -> int:
    """The sum of what is left in the SKU's lots."""
    value = uow.scalar(
        select(func.coalesce(func.sum(_l.c.qty_remaining), 0)).where(_l.c.sku == sku)
    )
    return int(value)
