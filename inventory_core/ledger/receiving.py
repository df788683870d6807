"""Purchase orders and idempotent receiving of delivery documents.

A document (a delivery note) may carry several SKUs and fill several orders; each line is
one RECEIPT transaction. The document's canonical content is hashed: recording the same
document id again with the same content returns the first result and writes nothing (a
retried request, a re-run import), while the same id with different content is a
conflict, because silently keeping either version would lose a delivery.
"""

from __future__ import annotations

import hashlib
from collections import defaultdict
from datetime import date
from typing import Any, cast

from sqlalchemy import Table, bindparam, insert, select, update

from inventory_core.audit import coverage
from inventory_core.audit.trail import canonical_json
from inventory_core.db.uow import UnitOfWork
from inventory_core.errors import (
    ConflictError,
    NotFoundError,
    OrderClosedError,
    OverReceiptError,
    ValidationError,
)
from inventory_core.errors.i18n import gettext as _
from inventory_core.ledger import draws, events, lots, positions_refresh, skus
from inventory_core.ledger.checks import require_storable
from inventory_core.ledger.inputs import AnyEvent, EventIn, ReceiptIn
from inventory_core.ledger.readmodels import ReceiptResult
from inventory_core.ledger.stock import event_literal, on_hand_before
from inventory_core.models import (
    EventType,
    Lot,
    OrderLog,
    OrderReceipt,
    ReceivingLog,
    Transaction,
    utc_now_iso,
)

END_OF_TIME = date.max

_o = cast(Table, OrderLog.__table__)
_rl = cast(Table, ReceivingLog.__table__)
_or = cast(Table, OrderReceipt.__table__)
_t = cast(Table, Transaction.__table__)
_l = cast(Table, Lot.__table__)


def order_status(ordered: int, received: int) -> str:
    """PENDING until something arrives, PARTIAL while open, RECEIVED when complete."""
    if received >= ordered:
        return "RECEIVED"
    return "PARTIAL" if received > 0 else "PENDING"


def place_order(uow: UnitOfWork, ev: EventIn, expected: date | None) -> tuple[int, int]:
    """Write the ORDER transaction and its ``order_logs`` row; return (order_id, tid)."""
    tid = events.record(uow, ev)
    order_id = uow.scalar(
        insert(_o)
        .values(
            sku=ev.sku,
            order_date=ev.date,
            expected_date=expected,
            qty_ordered=ev.qty,
            transaction_id=tid,
        )
        .returning(_o.c.order_id)
    )
    coverage.note(uow, "order_logs", int(order_id))
    return int(order_id), tid


def _digest(on: date, lines: list[tuple[str, int, int | None, date | None]]) -> str:
    body = {
        "on": on.isoformat(),
        "lines": [
            [sku, qty, order_id, expiry.isoformat() if expiry else None]
            for sku, qty, order_id, expiry in lines
        ],
    }
    return hashlib.sha256(canonical_json(body).encode("utf-8")).hexdigest()


def document_hash(doc: ReceiptIn) -> str:
    """sha256 of the document's canonical content (date and lines, in order)."""
    return _digest(doc.on, [(x.sku, x.qty, x.order_id, x.expiry) for x in doc.lines])


def document_hash_of_rows(rows: list[AnyEvent]) -> str:
    """The same hash for a document imported as RECEIPT events by the bulk path."""
    return _digest(min(r.date for r in rows), [(r.sku, r.qty, None, r.expiry) for r in rows])


def recorded(uow: UnitOfWork, document_id: str) -> tuple[str, date] | None:
    """The hash and date of an already recorded document, or None."""
    row: Any = uow.fetch_one(
        select(_rl.c.document_hash, _rl.c.receipt_date)
        .where(_rl.c.document_id == document_id)
        .limit(1)
    )
    return None if row is None else (str(row.document_hash), row.receipt_date)


def replay_result(uow: UnitOfWork, document_id: str, digest: str, on: date) -> ReceiptResult:
    """Rebuild the result of a recorded document from its rows."""
    rows: Any = uow.fetch(
        select(_t.c.transaction_id, _l.c.lot_id)
        .select_from(_t.outerjoin(_l, _l.c.transaction_id == _t.c.transaction_id))
        .where(_t.c.document_id == document_id, _t.c.event == event_literal(EventType.RECEIPT))
        .order_by(_t.c.transaction_id)
    )
    return ReceiptResult(
        document_id=document_id,
        received_on=on,
        document_hash=digest,
        transaction_ids=tuple(int(r.transaction_id) for r in rows),
        lot_ids=tuple(None if r.lot_id is None else int(r.lot_id) for r in rows),
        replayed=True,
    )


def _check_orders(uow: UnitOfWork, doc: ReceiptIn) -> None:
    wanted: dict[int, int] = defaultdict(int)
    for index, line in enumerate(doc.lines):
        if line.order_id is None:
            continue
        row = uow.fetch_one(select(_o).where(_o.c.order_id == line.order_id))
        if row is None:
            raise NotFoundError(entity="Order", key=str(line.order_id))
        if row.sku != line.sku:
            raise ValidationError(
                _("order {order_id} is for {row}, not {sku}").format(
                    order_id=line.order_id, row=row.sku, sku=line.sku
                ),
                field=f"lines[{index}].order_id",
            )
        if row.status == "CANCELLED":
            raise ConflictError(
                _("order {order_id} was cancelled").format(order_id=line.order_id),
                order_id=line.order_id,
            )
        if row.status == "CLOSED":
            raise OrderClosedError(
                _("receiving on it needs it reopened"), order_id=line.order_id, sku=line.sku
            )
        wanted[line.order_id] += line.qty
        open_qty = row.qty_ordered - row.qty_received
        if wanted[line.order_id] > open_qty:
            raise OverReceiptError(
                qty=wanted[line.order_id], order_id=line.order_id, sku=line.sku, open_qty=open_qty
            )


def receive(uow: UnitOfWork, doc: ReceiptIn) -> ReceiptResult:
    """Record a delivery document (or return the first result of an identical replay).

    Raises:
        ConflictError: the document id was recorded with different content, or an order
            line points at a cancelled order.
        NotFoundError: an unknown SKU or order.
        OverReceiptError: a line would take its order above the ordered quantity.
        ValidationError: an order line names a different SKU than its order.
        StockLimitError: a SKU's on_hand would end above what an INTEGER column stores.
    """
    digest = document_hash(doc)
    previous = recorded(uow, doc.document_id)
    if previous is not None:
        recorded_hash, recorded_on = previous
        if recorded_hash != digest:
            raise ConflictError(
                _("document {document_id} was already received with different lines").format(
                    document_id=doc.document_id
                ),
                document_id=doc.document_id,
            )
        return replay_result(uow, doc.document_id, digest, recorded_on)
    for sku in dict.fromkeys(line.sku for line in doc.lines):
        events.require_sku(uow, sku)
    _check_orders(uow, doc)
    tids: list[int] = []
    lot_ids: list[int | None] = []
    totals: dict[str, int] = defaultdict(int)
    now = utc_now_iso()
    # A line without an expiry gets its SKU's shelf life from the receipt date, if it has one.
    lives = skus.shelf_lives(uow, (line.sku for line in doc.lines if line.expiry is None))
    expiries = [
        line.expiry or skus.default_expiry(doc.on, lives.get(line.sku)) for line in doc.lines
    ]
    for line, expiry in zip(doc.lines, expiries, strict=True):
        ev = EventIn(
            sku=line.sku,
            event=EventType.RECEIPT,
            qty=line.qty,
            date=doc.on,
            document_id=doc.document_id,
        )
        tid = events.insert_event(uow, ev)
        tids.append(tid)
        totals[line.sku] += line.qty
        lot_id = None
        if expiry is not None:
            lot_id = lots.create_lot(
                uow,
                sku=line.sku,
                transaction_id=tid,
                document_id=doc.document_id,
                received=doc.on,
                expiry=expiry,
                qty=line.qty,
            )
        lot_ids.append(lot_id)
        if line.order_id is not None:
            _fill_order(uow, line.order_id, tid, doc.document_id, line.qty, now)
    coverage.mark(uow, "receiving_logs")
    uow.execute(
        insert(_rl),
        [
            {
                "document_id": doc.document_id,
                "sku": sku,
                "receipt_date": doc.on,
                "qty_received": qty,
                "document_hash": digest,
            }
            for sku, qty in totals.items()
        ],
    )
    # A lot received before a later, lower count is trimmed at once; the trim is booked
    # to the SKU's last line of the document.
    last_line = {line.sku: tid for line, tid in zip(doc.lines, tids, strict=True)}
    with_lots = {line.sku for line, expiry in zip(doc.lines, expiries, strict=True) if expiry}
    for sku in dict.fromkeys(line.sku for line in doc.lines):
        final = require_storable(sku, on_hand_before(uow, sku, END_OF_TIME), doc.on)
        if sku in with_lots:
            lots.settle(uow, sku, drawer=draws.Drawer(last_line[sku]), final_on_hand=final)
    positions_refresh.refresh(uow, totals)
    return ReceiptResult(
        document_id=doc.document_id,
        received_on=doc.on,
        document_hash=digest,
        transaction_ids=tuple(tids),
        lot_ids=tuple(lot_ids),
    )


def _fill_order(
    uow: UnitOfWork, order_id: int, tid: int, document_id: str, qty: int, now: str
) -> None:
    coverage.mark(uow, "order_receipts")
    uow.execute(
        insert(_or).values(order_id=order_id, transaction_id=tid, document_id=document_id, qty=qty)
    )
    change_received(uow, order_id, qty, now)


def change_received(uow: UnitOfWork, order_id: int, qty: int, now: str) -> None:
    """Add ``qty`` (negative when a receipt is reverted) to an order and restate its status."""
    row: Any = uow.fetch_one(
        select(_o.c.qty_ordered, _o.c.qty_received, _o.c.status, _o.c.sku).where(
            _o.c.order_id == order_id
        )
    )
    if row.status == "CLOSED":  # its closure took exactly the remainder out of on_order
        raise OrderClosedError(
            _("reverting its receipt needs it reopened"), order_id=order_id, sku=row.sku
        )
    received = int(row.qty_received) + qty
    uow.execute(
        update(_o)
        .where(_o.c.order_id == bindparam("b_order_id"))
        .values(
            qty_received=received,
            status=order_status(int(row.qty_ordered), received),
            updated_at=now,
        ),
        {"b_order_id": order_id},
    )
    coverage.note(uow, "order_logs", order_id)
