"""The bulk path: many events per unit of work, checked per SKU in one pass.

A chunk of events is validated like single writes, then checked with two set-based
queries (on_hand of every SKU of the chunk just before the chunk's first date, and the
existing events from that date on) and one Python fold per SKU over the existing events
merged with the chunk's. Rows go in with Core ``executemany``; ``sales`` and lots are
maintained as single writes would; one audit row describes the whole chunk.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Sequence
from datetime import date
from typing import Any, cast

from sqlalchemy import Table, bindparam, insert, select, update
from sqlalchemy.dialects import postgresql, sqlite

from inventory_core.db.uow import UnitOfWork
from inventory_core.errors import ConflictError, NotFoundError
from inventory_core.ledger.checks import require_non_negative
from inventory_core.ledger.events import PENDING_ID, event_row
from inventory_core.ledger.fold import LedgerEvent, apply_on_hand
from inventory_core.ledger.inputs import EventIn
from inventory_core.ledger.receiving import document_hash_of_rows
from inventory_core.ledger.stock import on_hand_many
from inventory_core.models import (
    EventType,
    Lot,
    ReceivingLog,
    Sale,
    Sku,
    Transaction,
    TransactionReversal,
)

_t = cast(Table, Transaction.__table__)
_r = cast(Table, TransactionReversal.__table__)
_s = cast(Table, Sku.__table__)
_l = cast(Table, Lot.__table__)
_sales = cast(Table, Sale.__table__)
_rl = cast(Table, ReceivingLog.__table__)


def _existing(uow: UnitOfWork, skus: list[str], start: date) -> dict[str, list[LedgerEvent]]:
    found: dict[str, list[LedgerEvent]] = defaultdict(list)
    rows: Any = uow.execute(
        select(_t.c.transaction_id, _t.c.sku, _t.c.date, _t.c.event, _t.c.qty).where(
            _t.c.sku.in_(bindparam("skus", expanding=True)),
            _t.c.date >= start,
            _t.c.transaction_id.not_in(select(_r.c.transaction_id)),
        ),
        {"skus": skus},
    )
    for tid, sku, day, event, qty in rows:
        found[sku].append(LedgerEvent(int(tid), sku, day, EventType(event), int(qty)))
    return found


def _check_skus(uow: UnitOfWork, skus: list[str]) -> None:
    known = set(
        uow.execute(
            select(_s.c.sku).where(_s.c.sku.in_(bindparam("skus", expanding=True))),
            {"skus": skus},
        ).scalars()
    )
    for sku in skus:
        if sku not in known:
            raise NotFoundError(entity="SKU", key=sku)


def _check_snapshots(chunk: Sequence[EventIn], existing: dict[str, list[LedgerEvent]]) -> None:
    seen: set[tuple[str, date]] = set()
    for ev in chunk:
        if ev.event != EventType.SNAPSHOT:
            continue
        key = (ev.sku, ev.date)
        clash = key in seen or any(
            e.event == EventType.SNAPSHOT and e.date == ev.date for e in existing.get(ev.sku, ())
        )
        if clash:
            raise ConflictError(
                f"{ev.sku} would have two counts on {ev.date}; revert the first one",
                sku=ev.sku,
            )
        seen.add(key)


Documents = dict[tuple[str, str], list[EventIn]]


def _check_documents(uow: UnitOfWork, chunk: Sequence[EventIn]) -> Documents:
    documents: Documents = defaultdict(list)
    for ev in chunk:
        if ev.event == EventType.RECEIPT and ev.document_id is not None:
            documents[(ev.document_id, ev.sku)].append(ev)
    if documents:
        ids = sorted({doc for doc, _ in documents})
        clash = uow.execute(
            select(_rl.c.document_id)
            .where(_rl.c.document_id.in_(bindparam("ids", expanding=True)))
            .limit(1),
            {"ids": ids},
        ).first()
        if clash is not None:
            raise ConflictError(f"document {clash[0]} was already received", document_id=clash[0])
    return documents


def record_chunk(uow: UnitOfWork, chunk: Sequence[EventIn]) -> Counter[str]:
    """Check and write one chunk of validated events; return the count per event type.

    Raises:
        NotFoundError: a SKU does not exist.
        ConflictError: two counts for one SKU and day, or an already received document.
        InsufficientStockError: on_hand of a SKU would go negative somewhere.
    """
    skus = sorted({ev.sku for ev in chunk})
    start = min(ev.date for ev in chunk)
    _check_skus(uow, skus)
    existing = _existing(uow, skus, start)
    _check_snapshots(chunk, existing)
    documents = _check_documents(uow, chunk)
    base = on_hand_many(uow, skus, start)
    pending: dict[str, list[LedgerEvent]] = defaultdict(list)
    for index, ev in enumerate(chunk):
        pending[ev.sku].append(LedgerEvent(PENDING_ID + index, ev.sku, ev.date, ev.event, ev.qty))
    finals: dict[str, int] = {}
    decreases: dict[int, int] = {}
    for sku in skus:
        merged = sorted([*existing.get(sku, ()), *pending[sku]], key=lambda e: e.key)
        outcome = require_non_negative(sku, base.get(sku, 0), merged)
        finals[sku] = outcome.final_on_hand
        on_hand = base.get(sku, 0)
        for ev in merged:
            after = apply_on_hand(on_hand, ev.event, ev.qty)
            if ev.transaction_id >= PENDING_ID and after < on_hand:
                decreases[ev.transaction_id - PENDING_ID] = on_hand - after
            on_hand = after
    rows = [event_row(ev) for ev in chunk]
    with_lots = any(ev.expiry is not None for ev in chunk)
    if with_lots:
        stmt = insert(_t).returning(_t.c.transaction_id, sort_by_parameter_order=True)
        tids = [int(t) for t in uow.execute(stmt, rows).scalars()]
    else:
        uow.execute(insert(_t), rows)
        tids = []
    _write_sales(uow, chunk)
    _write_documents(uow, documents)
    _write_lots(uow, chunk, tids, decreases, finals)
    return Counter(ev.event.value for ev in chunk)


def _write_sales(uow: UnitOfWork, chunk: Sequence[EventIn]) -> None:
    sold: dict[tuple[str, date], int] = defaultdict(int)
    for ev in chunk:
        if ev.event == EventType.SALE:
            sold[(ev.sku, ev.date)] += ev.qty
    if not sold:
        return
    upsert = (postgresql.insert if uow.dialect == "postgresql" else sqlite.insert)(_sales)
    stmt = upsert.on_conflict_do_update(
        index_elements=[_sales.c.sku, _sales.c.date],
        set_={"qty_sold": _sales.c.qty_sold + upsert.excluded.qty_sold},
    )
    uow.execute(stmt, [{"sku": s, "date": d, "qty_sold": q} for (s, d), q in sold.items()])


def _write_documents(uow: UnitOfWork, documents: Documents) -> None:
    if not documents:
        return
    by_document: dict[str, list[EventIn]] = defaultdict(list)
    for (doc, _), evs in documents.items():
        by_document[doc].extend(evs)
    rows: list[dict[str, Any]] = []
    for (doc, sku), evs in documents.items():
        rows.append(
            {
                "document_id": doc,
                "sku": sku,
                "receipt_date": min(e.date for e in evs),
                "qty_received": sum(e.qty for e in evs),
                "document_hash": document_hash_of_rows(by_document[doc]),
            }
        )
    uow.execute(insert(_rl), rows)


def _write_lots(
    uow: UnitOfWork,
    chunk: Sequence[EventIn],
    tids: list[int],
    decreases: dict[int, int],
    finals: dict[str, int],
) -> None:
    skus = sorted({ev.sku for ev in chunk})
    open_lots: dict[str, list[list[Any]]] = defaultdict(list)
    held_rows: Any = uow.execute(
        select(_l.c.lot_id, _l.c.sku, _l.c.expiry_date, _l.c.qty_remaining).where(
            _l.c.sku.in_(bindparam("skus", expanding=True)), _l.c.qty_remaining > 0
        ),
        {"skus": skus},
    )
    for lot_id, sku, expiry, remaining in held_rows:
        open_lots[sku].append([int(lot_id), expiry, int(remaining), int(remaining)])
    if not open_lots and not tids:
        return
    new_lots: list[tuple[EventIn, int, list[Any]]] = []
    for index, ev in enumerate(chunk):
        if ev.expiry is not None:
            lot = [-(index + 1), ev.expiry, ev.qty, ev.qty]
            open_lots[ev.sku].append(lot)
            new_lots.append((ev, tids[index], lot))
        elif index in decreases and open_lots.get(ev.sku):
            _take(open_lots[ev.sku], decreases[index])
    for sku, held in open_lots.items():
        _take(held, sum(lot[2] for lot in held) - max(finals.get(sku, 0), 0))
    changed = [
        {"b_lot_id": lot[0], "b_remaining": lot[2]}
        for held in open_lots.values()
        for lot in held
        if lot[0] > 0 and lot[2] != lot[3]
    ]
    if changed:
        uow.execute(
            update(_l)
            .where(_l.c.lot_id == bindparam("b_lot_id"))
            .values(qty_remaining=bindparam("b_remaining")),
            changed,
        )
    if new_lots:
        uow.execute(
            insert(_l),
            [
                {
                    "sku": ev.sku,
                    "transaction_id": tid,
                    "document_id": ev.document_id,
                    "received_date": ev.date,
                    "expiry_date": ev.expiry,
                    "qty_received": ev.qty,
                    "qty_remaining": lot[2],
                }
                for ev, tid, lot in new_lots
            ],
        )


def _take(held: list[list[Any]], amount: int) -> None:
    for lot in sorted(held, key=_fefo_key):
        if amount <= 0:
            return
        taken = min(amount, lot[2])
        lot[2] -= taken
        amount -= taken


def _fefo_key(lot: list[Any]) -> tuple[bool, date, int]:
    """FEFO order of in-memory lots; lots created in this chunk (negative ids) come last."""
    return (lot[1] is None, lot[1] or date.min, lot[0] if lot[0] > 0 else 2**62 - lot[0])
