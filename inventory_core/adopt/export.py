"""The way back: write this ledger as a desktop-order-system data folder.

``skus.csv`` (first-class fields and the ``attributes`` columns), ``transactions.csv`` (every
event not reverted, in this ledger's fold order) and ``sales.csv`` (header only: every SALE is
an explicit ledger row). The old application's ADJUST is an absolute count, so each signed
ADJUST is written as the on hand it leaves; every other event keeps its quantity (a SALE here
never exceeds the stock there was, so the old application's clamp never applies).
"""

from __future__ import annotations

import csv
import json
import os
from collections import defaultdict
from dataclasses import dataclass
from datetime import date
from datetime import date as Day
from pathlib import Path
from typing import TYPE_CHECKING, NamedTuple

from sqlalchemy import select

from inventory_core.db.prepared import Prepared
from inventory_core.errors.adopt import AdoptError
from inventory_core.errors.i18n import gettext as _
from inventory_core.models import (
    OrderLog,
    OrderReceipt,
    ReceivingLog,
    Sku,
    Transaction,
    TransactionReversal,
)

if TYPE_CHECKING:
    from inventory_core.db.database import Database

FIRST_CLASS = (
    "description",
    "ean",
    "moq",
    "pack_size",
    "lead_time_days",
    "safety_stock",
    "shelf_life_days",
    "max_stock",
    "reorder_point",
    "category",
)


class _SkuRow(NamedTuple):
    sku: str
    description: str
    ean: str | None
    moq: int
    pack_size: int
    lead_time_days: int
    safety_stock: int | None
    shelf_life_days: int | None
    max_stock: int | None
    reorder_point: int | None
    category: str | None
    active: bool
    attributes: str | None


class _EventRow(NamedTuple):
    transaction_id: int
    date: date
    sku: str
    event: str
    qty: int
    priority: int
    note: str | None
    expected: Day | None


class _OrderRow(NamedTuple):
    order_id: int
    order_date: date
    sku: str
    qty_ordered: int
    qty_received: int
    status: str
    expected_date: date | None


class _ReceiptRow(NamedTuple):
    document_id: str
    sku: str
    receipt_date: date
    qty_received: int


class _FillRow(NamedTuple):
    document_id: str
    sku: str
    order_id: int


_SKUS = Prepared(
    select(
        Sku.sku,
        *(getattr(Sku, name) for name in FIRST_CLASS),
        Sku.active,
        Sku.attributes,
    ).order_by(Sku.sku),
    _SkuRow,
)
_EVENTS = Prepared(
    select(
        Transaction.transaction_id,
        Transaction.date,
        Transaction.sku,
        Transaction.event,
        Transaction.qty,
        Transaction.priority,
        Transaction.note,
        OrderLog.expected_date,
    )
    .outerjoin(
        TransactionReversal,
        TransactionReversal.transaction_id == Transaction.transaction_id,
    )
    .outerjoin(OrderLog, OrderLog.transaction_id == Transaction.transaction_id)
    .where(TransactionReversal.transaction_id.is_(None))
    .order_by(Transaction.sku, Transaction.date, Transaction.priority, Transaction.transaction_id),
    _EventRow,
)


_ORDERS = Prepared(
    select(
        OrderLog.order_id,
        OrderLog.order_date,
        OrderLog.sku,
        OrderLog.qty_ordered,
        OrderLog.qty_received,
        OrderLog.status,
        OrderLog.expected_date,
    ).order_by(OrderLog.order_id),
    _OrderRow,
)
_RECEIPTS = Prepared(
    select(
        ReceivingLog.document_id,
        ReceivingLog.sku,
        ReceivingLog.receipt_date,
        ReceivingLog.qty_received,
    ).order_by(ReceivingLog.receiving_id),
    _ReceiptRow,
)
_FILLS = Prepared(
    select(OrderReceipt.document_id, OrderLog.sku, OrderReceipt.order_id)
    .join(OrderLog, OrderLog.order_id == OrderReceipt.order_id)
    .order_by(OrderReceipt.order_id),
    _FillRow,
)


@dataclass(frozen=True, slots=True)
class ExportResult:
    """What was written."""

    folder: Path
    skus: int
    events: int


def export_legacy(db: Database, folder: str | os.PathLike[str]) -> ExportResult:
    """Write the legacy CSV layout into ``folder`` (new, or empty).

    Raises:
        AdoptError: the folder holds files (``ADO_001``).
    """
    where = Path(folder).expanduser()
    if where.exists() and any(where.iterdir()):
        raise AdoptError(
            _("the folder '{folder}' is not empty").format(folder=where), path=str(where)
        )
    where.mkdir(parents=True, exist_ok=True)
    with db.read() as uow:
        skus = uow.fetch(_SKUS)
        events = uow.fetch(_EVENTS)
        orders = uow.fetch(_ORDERS)
        receipts = uow.fetch(_RECEIPTS)
        fills = uow.fetch(_FILLS)
    extra = sorted({k for s in skus for k in json.loads(s.attributes or "{}")})
    with (where / "skus.csv").open("w", newline="", encoding="utf-8") as out:
        writer = csv.writer(out)
        writer.writerow(("sku", *FIRST_CLASS, "in_assortment", *extra))
        for s in skus:
            attributes = json.loads(s.attributes or "{}")
            cells = [getattr(s, name) for name in FIRST_CLASS]
            writer.writerow(
                (
                    s.sku,
                    *("" if c is None else c for c in cells),
                    "true" if s.active else "false",
                    *(attributes.get(k, "") for k in extra),
                )
            )
    on_hand: dict[str, int] = defaultdict(int)
    with (where / "transactions.csv").open("w", newline="", encoding="utf-8") as out:
        writer = csv.writer(out)
        writer.writerow(("date", "sku", "event", "qty", "receipt_date", "note"))
        for ev in events:
            qty = ev.qty
            if ev.event == "SNAPSHOT":
                on_hand[ev.sku] = qty
            elif ev.event == "RECEIPT":
                on_hand[ev.sku] += qty
            elif ev.event in ("SALE", "WASTE"):
                on_hand[ev.sku] -= qty
            elif ev.event == "ADJUST":
                on_hand[ev.sku] += qty
                qty = on_hand[ev.sku]
            expected = ev.expected.isoformat() if ev.expected is not None else ""
            writer.writerow((ev.date.isoformat(), ev.sku, ev.event, qty, expected, ev.note or ""))
    (where / "sales.csv").write_text("date,sku,qty_sold\n", encoding="utf-8")
    _write_orders(where, orders, receipts, fills)
    return ExportResult(where, len(skus), len(events))


def _write_orders(
    where: Path, orders: list[_OrderRow], receipts: list[_ReceiptRow], fills: list[_FillRow]
) -> None:
    """``order_logs.csv`` and ``receiving_logs.csv`` (header only when there are none)."""
    filled: dict[tuple[str, str], list[int]] = defaultdict(list)
    for fill in fills:
        if fill.order_id not in filled[(fill.document_id, fill.sku)]:
            filled[(fill.document_id, fill.sku)].append(fill.order_id)
    with (where / "order_logs.csv").open("w", newline="", encoding="utf-8") as out:
        writer = csv.writer(out)
        writer.writerow(
            ("order_id", "date", "sku", "qty_ordered", "qty_received", "status", "receipt_date")
        )
        for o in orders:
            expected = "" if o.expected_date is None else _iso(o.expected_date)
            writer.writerow(
                (
                    o.order_id,
                    _iso(o.order_date),
                    o.sku,
                    o.qty_ordered,
                    o.qty_received,
                    o.status,
                    expected,
                )
            )
    with (where / "receiving_logs.csv").open("w", newline="", encoding="utf-8") as out:
        writer = csv.writer(out)
        writer.writerow(
            (
                "document_id",
                "receipt_id",
                "date",
                "sku",
                "qty_received",
                "receipt_date",
                "order_ids",
            )
        )
        for r in receipts:
            ids = filled.get((r.document_id, r.sku), [])
            day = _iso(r.receipt_date)
            writer.writerow(
                (r.document_id, r.document_id, day, r.sku, r.qty_received, day, json.dumps(ids))
            )


def _iso(value: date | str) -> str:
    return value.isoformat() if isinstance(value, date) else str(value)[:10]
