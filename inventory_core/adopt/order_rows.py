"""Writing the planned orders, receipts, closures and lots of an import.

It runs in the import's unit of work: :class:`OrderWriter` after each batch of events,
:func:`finish` after the last. The ORDER and RECEIPT events went in in the order the
translation recorded them, so the n-th such transaction (by id) is the planned row of
``index`` n; each is checked against its plan (SKU, event, quantity) before anything refers
to it. The rows go in with ``executemany`` after a
:func:`~inventory_core.audit.coverage.mark`, so the import's audit record seals them.
"""

from __future__ import annotations

import hashlib
import heapq
import itertools
import json
from array import array
from collections import defaultdict
from collections.abc import Iterable, Iterator
from datetime import date
from typing import Any, TypeVar, cast

from sqlalchemy import Table, bindparam, insert, or_, select

from inventory_core.adopt.calendar import DOCUMENT_KEYS
from inventory_core.adopt.findings import PlannedOrder, PlannedReceipt, Translation
from inventory_core.audit import coverage
from inventory_core.db.prepared import Prepared
from inventory_core.db.uow import UnitOfWork
from inventory_core.errors import DatabaseError
from inventory_core.errors.i18n import gettext as _
from inventory_core.ledger.bulk_lots import INSERT_LOT_ROWS, insert_with_ids
from inventory_core.ledger.receiving import order_status
from inventory_core.ledger.stock import event_literal
from inventory_core.models import (
    EventType,
    Lot,
    OrderClosure,
    OrderLog,
    OrderReceipt,
    ReceivingLog,
    SettingRow,
    Transaction,
    utc_now_iso,
)

T = TypeVar("T")
_CHUNK = 5_000
_t = cast(Table, Transaction.__table__)
_o = cast(Table, OrderLog.__table__)
_or = cast(Table, OrderReceipt.__table__)
_rl = cast(Table, ReceivingLog.__table__)
_c = cast(Table, OrderClosure.__table__)
_l = cast(Table, Lot.__table__)
_settings = cast(Table, SettingRow.__table__)


_FLOW = (
    select(_t.c.transaction_id, _t.c.sku, _t.c.event, _t.c.qty)
    .where(
        or_(
            _t.c.event == event_literal(EventType.ORDER),
            _t.c.event == event_literal(EventType.RECEIPT),
        )
    )
    .order_by(_t.c.transaction_id)
)
"""Streamed (:meth:`UnitOfWork.stream`) after each batch, from the last id mapped."""
_STOCK_EVENTS = (
    select(_t.c.transaction_id, _t.c.sku, _t.c.date, _t.c.event)
    .where(_t.c.sku.in_(bindparam("skus", expanding=True)))
    .order_by(_t.c.sku, _t.c.date, _t.c.priority, _t.c.transaction_id)
)
"""Not a :class:`Prepared` statement: its ``IN`` list is expanded per call."""
_ORDER_COLUMNS = (
    "sku",
    "order_date",
    "expected_date",
    "qty_ordered",
    "qty_received",
    "status",
    "transaction_id",
    "created_at",
    "updated_at",
    "legacy_order_id",
)
_INSERT_ORDERS = Prepared(insert(_o).values({c: bindparam(c) for c in _ORDER_COLUMNS}))
_INSERT_DOCUMENTS = Prepared(
    insert(_rl).values(
        {
            c: bindparam(c)
            for c in (
                "document_id",
                "sku",
                "receipt_date",
                "qty_received",
                "document_hash",
                "created_at",
            )
        }
    )
)
_INSERT_FILLS = Prepared(
    insert(_or).values(
        {c: bindparam(c) for c in ("order_id", "transaction_id", "document_id", "qty")}
    )
)
_INSERT_CLOSURES = Prepared(
    insert(_c).values(
        {
            c: bindparam(c)
            for c in ("order_id", "sku", "date", "qty", "reason", "user", "created_at")
        }
    )
)


class OrderWriter:
    """Writes the planned orders, receipts' documents and fills, and closures of an import
    batch by batch, as the fold hands them over (:meth:`Plan.take_orders`), after the
    batch's events: so a decade of weekly orders never sits in memory as a plan.

    Each call maps the ORDER and RECEIPT transactions written since the last one, in id
    order, onto the batch's planned rows by ``index`` and checks them (SKU, event,
    quantity) before anything refers to them. A batch holds whole SKUs, so its receipts
    fill, and its SNAPSHOTs close, only its own orders.
    """

    def __init__(self, uow: UnitOfWork, user: str) -> None:
        self._uow = uow
        self._user = user
        self._now = utc_now_iso()
        self._after = 0
        """The id of the last ORDER/RECEIPT transaction mapped."""
        self._index = 0
        """The ``index`` of the next planned ORDER/RECEIPT."""
        self._written = False
        self._orders = self._closed = self._linked = self._named = 0
        self._names = hashlib.sha256()

    def write(self, orders: list[PlannedOrder], receipts: list[PlannedReceipt]) -> None:
        """Write one batch's orders, receipts' documents and fills, and closures."""
        if not orders and not receipts:
            return
        self._written = True
        tid = self._flow_ids(orders, receipts)
        uow, now = self._uow, self._now
        if orders:
            coverage.mark(uow, "order_logs")
            for batch in _chunks(orders):
                rows = [_order_row(o, tid[o.index - self._index], now) for o in batch]
                ids = insert_with_ids(uow, _INSERT_ORDERS, _o.c.order_id, rows)
                for order, oid, row in zip(batch, ids, rows, strict=True):
                    order.order_id = oid
                    if row["legacy_order_id"] is not None:
                        self._names.update(f"{oid}\t{row['legacy_order_id']}\n".encode())
                        self._named += 1
        documents: dict[tuple[str, str], list[PlannedReceipt]] = defaultdict(list)
        for receipt in receipts:
            if receipt.fills or not receipt.document_id.startswith("legacy-"):
                documents[(receipt.document_id, receipt.sku)].append(receipt)
        if documents:
            coverage.mark(uow, "receiving_logs")
            for group in _chunks(documents.items()):
                rows = [_document_row(doc, sku, rs, now) for (doc, sku), rs in group]
                uow.execute_many(_INSERT_DOCUMENTS, rows)
        fills = (
            {
                "order_id": order.order_id,
                "transaction_id": tid[receipt.index - self._index],
                "document_id": receipt.document_id,
                "qty": qty,
            }
            for receipt in receipts
            for order, qty in receipt.fills
        )
        for rows_of_fills in _chunks(fills):
            coverage.mark(uow, "order_receipts")
            uow.execute_many(_INSERT_FILLS, rows_of_fills)
            self._linked += len(rows_of_fills)
        closures = [
            {
                "order_id": o.order_id,
                "sku": o.sku,
                "date": o.closed,
                "qty": o.closed_qty,
                "reason": o.reason[:500],
                "user": self._user,
                "created_at": now,
            }
            for o in orders
            if o.closed is not None
        ]
        if closures:
            coverage.mark(uow, "order_closures")
            uow.execute_many(_INSERT_CLOSURES, closures)
        self._orders += len(orders)
        self._closed += len(closures)
        self._index += len(tid)

    def _flow_ids(self, orders: list[PlannedOrder], receipts: list[PlannedReceipt]) -> array[int]:
        """The transaction id of each planned ORDER/RECEIPT of the batch, by ``index`` from
        the batch's first, streamed and checked against the plan as it comes."""
        planned = heapq.merge(
            ((o.index, o.sku, "ORDER", o.qty) for o in orders),
            ((r.index, r.sku, "RECEIPT", r.qty) for r in receipts),
        )
        expected = len(orders) + len(receipts)
        tid: array[int] = array("q")
        flow = _FLOW.where(_t.c.transaction_id > self._after)
        for batch in self._uow.stream(flow, _CHUNK, raw=True):
            for transaction_id, sku, event, qty in batch:
                want = next(planned, None)
                if want is None or (want[0], sku, str(event), int(qty)) != (
                    self._index + len(tid),
                    *want[1:],
                ):
                    raise _not_planned(expected)
                tid.append(int(transaction_id))
        if len(tid) != expected:
            raise _not_planned(expected)
        self._after = tid[-1]
        return tid

    def stated(self) -> dict[str, Any]:
        """What the import's audit record states of the orders written (nothing when the
        store had no orders or receipts)."""
        if not self._written:
            return {}
        return {
            "orders": self._orders,
            "orders_closed": self._closed,
            "receipts_linked": self._linked,
            "legacy_order_ids": self._named,
            "legacy_order_ids_sha256": self._names.hexdigest(),
        }


def finish(uow: UnitOfWork, out: Translation, orders: OrderWriter) -> dict[str, Any]:
    """After the last batch: write the lots and the settings documents; return what the
    import's audit record states of everything this module wrote."""
    stated = orders.stated()
    if out.lots:
        stated["lots"] = _lots(uow, out)
    for name, document in out.documents.items():
        uow.execute(
            insert(_settings).values(
                key=DOCUMENT_KEYS[name], value=json.dumps(document, ensure_ascii=False)
            )
        )
        stated[f"{name}.json"] = document
    return stated


def _not_planned(count: int) -> DatabaseError:
    return DatabaseError(
        _("the imported orders and receipts are not the {count} planned").format(count=count)
    )


def _chunks(items: Iterable[T]) -> Iterator[list[T]]:
    it = iter(items)
    while batch := list(itertools.islice(it, _CHUNK)):
        yield batch


def _order_row(order: PlannedOrder, tid: int, now: str) -> dict[str, Any]:
    status = "CLOSED" if order.closed is not None else order_status(order.qty, order.received)
    return {
        "sku": order.sku,
        "order_date": order.day,
        "expected_date": order.expected,
        "qty_ordered": order.qty,
        "qty_received": order.received,
        "status": status,
        "transaction_id": tid,
        "created_at": now,
        "updated_at": now,
        "legacy_order_id": None if order.legacy_id is None else order.legacy_id[:64],
    }


def _document_row(document: str, sku: str, receipts: list[Any], now: str) -> dict[str, Any]:
    body = json.dumps([[r.day.isoformat(), r.sku, r.qty] for r in receipts], separators=(",", ":"))
    return {
        "document_id": document,
        "sku": sku,
        "receipt_date": min(r.day for r in receipts),
        "qty_received": sum(r.qty for r in receipts),
        "document_hash": hashlib.sha256(body.encode("utf-8")).hexdigest(),
        "created_at": now,
    }


def _lots(uow: UnitOfWork, out: Translation) -> dict[str, int]:
    """Hang each lot on its SKU's last RECEIPT on or before its receipt date (else the
    last stock event by then, else the SKU's first event)."""
    events: dict[str, list[Any]] = defaultdict(list)
    for row in uow.fetch(_STOCK_EVENTS, {"skus": sorted({lot.sku for lot in out.lots})}):
        events[row.sku].append(row)
    rows = []
    now = utc_now_iso()
    for lot in out.lots:
        mine = events[lot.sku]
        before = [e for e in mine if _day(e.date) <= lot.received]
        receipts = [e for e in before if str(e.event) == "RECEIPT"]
        anchor = (receipts or before or mine)[-1 if (receipts or before) else 0]
        rows.append(
            {
                "sku": lot.sku,
                "transaction_id": anchor.transaction_id,
                "document_id": lot.document_id,
                "received_date": lot.received if lot.received != date.min else _day(anchor.date),
                "expiry_date": lot.expiry,
                "qty_received": lot.kept,
                "qty_remaining": lot.kept,
                "created_at": now,
            }
        )
    coverage.mark(uow, "lots")
    ids = insert_with_ids(uow, INSERT_LOT_ROWS, _l.c.lot_id, rows)
    return {lot.legacy_id: lot_id for lot, lot_id in zip(out.lots, ids, strict=True)}


def _day(value: Any) -> date:
    return value if isinstance(value, date) else date.fromisoformat(str(value))


__all__ = ["OrderWriter", "finish"]
