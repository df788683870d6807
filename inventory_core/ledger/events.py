"""Writing one ledger event: existence, conflicts, the negative-stock check, lots, sales.

Everything here runs inside the caller's unit of work with Core statements (one round trip
each, no ORM flush): this is the hot path of ``sell``, so its statements are
:class:`~inventory_core.db.prepared.Prepared` and run on the driver cursor. The order is
always "read and check everything, then write", and any error rolls the unit of work back,
so a refused write leaves no row behind. The negative-stock check starts from the SKU's
:mod:`~inventory_core.ledger.positions` row when it is current.
"""

from __future__ import annotations

from datetime import date
from typing import Any, NamedTuple, cast

from sqlalchemy import Table, bindparam, insert, or_, select, update
from sqlalchemy.dialects import postgresql, sqlite

from inventory_core.audit import coverage
from inventory_core.db.prepared import Prepared
from inventory_core.db.uow import UnitOfWork
from inventory_core.errors import ConflictError, InsufficientStockError, NotFoundError
from inventory_core.errors.i18n import gettext as _
from inventory_core.ledger import draws, locks, lots, plain_write, positions
from inventory_core.ledger.checks import (
    FoldOutcome,
    fold_on_hand,
    require_non_negative,
    require_storable,
)
from inventory_core.ledger.fold import LedgerEvent, apply_on_hand
from inventory_core.ledger.inputs import AnyEvent, EventIn
from inventory_core.ledger.positions import Position
from inventory_core.ledger.stock import event_literal, on_hand_at, on_hand_before
from inventory_core.models import (
    EVENT_PRIORITY,
    EventType,
    Sale,
    Sku,
    Transaction,
    TransactionReversal,
    utc_now_iso,
)

PENDING_ID = 2**62
"""Stand-in transaction id of the event being written: it sorts after every existing row."""

_t = cast(Table, Transaction.__table__)
_r = cast(Table, TransactionReversal.__table__)
_s = cast(Table, Sku.__table__)
_sales = cast(Table, Sale.__table__)


class _EventRow(NamedTuple):
    transaction_id: int
    date: date
    event: str
    qty: int


class _SkuState(NamedTuple):
    sku: str
    on_hand: int | None
    tail_date: date | None
    tail_priority: int | None
    current: bool | None
    has_open_lots: bool


class _Id(NamedTuple):
    transaction_id: int


class _SkuCode(NamedTuple):
    sku: str


_EVENTS_FROM = Prepared(
    select(_t.c.transaction_id, _t.c.date, _t.c.event, _t.c.qty)
    .where(
        _t.c.sku == bindparam("sku"),
        _t.c.date >= bindparam("start"),
        _t.c.transaction_id.not_in(select(_r.c.transaction_id)),
    )
    .order_by(_t.c.date, _t.c.priority, _t.c.transaction_id),
    _EventRow,
)
_EVENTS_AFTER = Prepared(
    select(_t.c.transaction_id, _t.c.date, _t.c.event, _t.c.qty)
    .where(
        _t.c.sku == bindparam("sku"),
        _t.c.date >= bindparam("day"),
        or_(_t.c.date > bindparam("day"), _t.c.priority > bindparam("priority")),
        _t.c.transaction_id.not_in(select(_r.c.transaction_id)),
    )
    .order_by(_t.c.date, _t.c.priority, _t.c.transaction_id),
    _EventRow,
)
_SKU_EXISTS = Prepared(select(_s.c.sku).where(_s.c.sku == bindparam("sku")), _SkuCode)
_SKU_STATE = Prepared(
    positions.WITH_POSITIONS.add_columns(lots.has_open_lots(_s.c.sku).label("has_open_lots")).where(
        _s.c.sku == bindparam("sku")
    ),
    _SkuState,
)
"""What a single write reads first, in one statement: the SKU (no row: unknown SKU), its
position (:data:`~inventory_core.ledger.positions.WITH_POSITIONS`), and whether it has
open lots (without any, a write that lowers stock has no lot to take from). On PostgreSQL
it locks the SKU row (``FOR UPDATE OF skus``, :mod:`inventory_core.ledger.locks`); SQLite
has no such clause and needs none."""
_SNAPSHOT_ON_DAY = Prepared(
    select(_t.c.transaction_id).where(
        _t.c.sku == bindparam("sku"),
        _t.c.date == bindparam("day"),
        _t.c.event == event_literal(EventType.SNAPSHOT),
        _t.c.transaction_id.not_in(select(_r.c.transaction_id)),
    ),
    _Id,
)
_EVENT_COLUMNS = plain_write.EVENT_COLUMNS
INSERT_EVENT_ROWS = Prepared(insert(_t).values({name: bindparam(name) for name in _EVENT_COLUMNS}))
"""The ``executemany`` form, for the bulk path."""
INSERT_EVENT = Prepared(
    insert(_t)
    .values({name: bindparam(name) for name in _EVENT_COLUMNS})
    .returning(_t.c.transaction_id),
    _Id,
)

DECREASING = frozenset({EventType.SALE, EventType.WASTE, EventType.SNAPSHOT})


def require_sku(uow: UnitOfWork, sku: str) -> None:
    """Raise :class:`NotFoundError` unless the SKU exists."""
    if uow.fetch_one(_SKU_EXISTS, {"sku": sku}) is None:
        raise NotFoundError(entity="SKU", key=sku)


def events_from(uow: UnitOfWork, sku: str, start: date) -> list[LedgerEvent]:
    """The SKU's unreversed events dated ``start`` or later, in ledger order."""
    return [
        LedgerEvent(r.transaction_id, sku, r.date, EventType(r.event), r.qty)
        for r in uow.fetch(_EVENTS_FROM, {"sku": sku, "start": start})
    ]


def _around(uow: UnitOfWork, pending: LedgerEvent) -> tuple[int, list[LedgerEvent]]:
    """on_hand just before a new event, from the ledger, and the events sorting after it.

    One statement gives on_hand up to the event's position; the later events (none or a
    few: writes are rarely backdated far) are read to be folded in Python.
    """
    priority = EVENT_PRIORITY[pending.event]
    before = on_hand_at(uow, pending.sku, pending.date, priority) or 0
    params = {"sku": pending.sku, "day": pending.date, "priority": priority}
    later = [
        LedgerEvent(r.transaction_id, pending.sku, r.date, EventType(r.event), r.qty)
        for r in uow.fetch(_EVENTS_AFTER, params)
    ]
    return before, later


def projected(
    uow: UnitOfWork,
    sku: str,
    start: date,
    *,
    add: tuple[LedgerEvent, ...] = (),
    remove: int | None = None,
) -> tuple[FoldOutcome, int]:
    """Fold the SKU's ledger from ``start`` with events added or one removed, and check it.

    Returns:
        The fold outcome and on_hand just before the first added event.

    Raises:
        InsufficientStockError: the change would make on_hand negative somewhere.
    """
    base = on_hand_before(uow, sku, start)
    events = [e for e in events_from(uow, sku, start) if e.transaction_id != remove]
    if add:
        events = sorted([*events, *add], key=lambda e: e.key)
    outcome = require_non_negative(sku, base, events)
    before = base
    if add:
        marker = add[0].transaction_id
        for ev in events:
            if ev.transaction_id == marker:
                break
            before = apply_on_hand(before, ev.event, ev.qty)
    return outcome, before


def _lowers(ev: AnyEvent) -> bool:
    return ev.event in DECREASING or (ev.event == EventType.ADJUST and ev.qty < 0)


def record(uow: UnitOfWork, ev: EventIn, *, lot_id: int | None = None) -> int:
    """Write one validated event with every check and side effect; return its id.

    The SKU's :mod:`~inventory_core.ledger.positions` row, read in the same statement that
    checks the SKU exists (``_SKU_STATE``), usually answers the negative-stock check: an
    event dated on or after the SKU's last one only needs on_hand after that one. A
    backdated event, or a SKU whose row is missing or stale, is checked against the ledger
    (on_hand up to the event's position, then a fold over the events after it), and the row
    is written again either way.

    Raises:
        NotFoundError: unknown SKU (or lot).
        ConflictError: a second unreversed SNAPSHOT for the SKU and day.
        InsufficientStockError: on_hand would go negative on the event's date or later.
        StockLimitError: on_hand would end above what an INTEGER column stores.
    """
    priority = EVENT_PRIORITY[ev.event]
    locks.lock_skus(uow, (ev.sku,))
    found = uow.fetch_one(_SKU_STATE, {"sku": ev.sku})
    if found is None:
        raise NotFoundError(entity="SKU", key=ev.sku)
    position = positions.position_of(found)
    if ev.event == EventType.SNAPSHOT:
        clash = uow.fetch_one(_SNAPSHOT_ON_DAY, {"sku": ev.sku, "day": ev.date})
        if clash is not None:
            raise ConflictError(
                _(
                    "{sku} already has a count on {date} (transaction {clash}); revert it first"
                ).format(sku=ev.sku, date=ev.date, clash=clash.transaction_id),
                sku=ev.sku,
                transaction_id=clash.transaction_id,
            )
    lowers = _lowers(ev)
    if position is not None and position.precedes(ev.date, priority):
        before = position.on_hand
        final = apply_on_hand(before, ev.event, ev.qty)
        if lowers and final < 0:
            raise InsufficientStockError(sku=ev.sku, date=ev.date, shortfall=-final)
        tail = Position(final, ev.date, priority)
    else:
        pending = LedgerEvent(PENDING_ID, ev.sku, ev.date, ev.event, ev.qty)
        before, later = _around(uow, pending)
        folded = [pending, *later]
        check = require_non_negative if lowers else _fold_quietly
        final = check(ev.sku, before, folded).final_on_hand
        last = folded[-1]
        tail = Position(final, last.date, EVENT_PRIORITY[last.event])
    require_storable(ev.sku, final, tail.tail_date)
    touches_lots = ev.expiry is not None or (lowers and (found.has_open_lots or lot_id is not None))
    if uow.dialect == "postgresql" and not touches_lots:
        return _write_plain(uow, ev, tail)
    tid = insert_event(uow, ev)
    if ev.event == EventType.SALE:
        add_sale(uow, ev.sku, ev.date, ev.qty)
    if ev.expiry is not None:
        lots.create_lot(
            uow,
            sku=ev.sku,
            transaction_id=tid,
            document_id=ev.document_id,
            received=ev.date,
            expiry=ev.expiry,
            qty=ev.qty,
        )
    if touches_lots:
        decrease = before - _after(before, ev) if lowers else 0
        lots.settle(
            uow,
            ev.sku,
            drawer=draws.Drawer(tid),
            final_on_hand=final,
            consume=max(decrease, 0),
            from_lot=lot_id,
            on=ev.date,
        )
    positions.write(uow, ev.sku, tail)
    return tid


def _fold_quietly(_sku: str, start: int, events: list[LedgerEvent]) -> FoldOutcome:
    """The fold of an event that cannot lower stock: history already below zero (written
    around the library) must not block a receipt or an order."""
    return fold_on_hand(start, events)


def _after(before: int, ev: AnyEvent) -> int:
    return apply_on_hand(before, ev.event, ev.qty)


def event_row(ev: AnyEvent, now: str | None = None) -> dict[str, Any]:
    """The ``transactions`` row of a validated event (``now``: its ``created_at``)."""
    return {
        "date": ev.date,
        "sku": ev.sku,
        "event": ev.event.value,
        "qty": ev.qty,
        "priority": EVENT_PRIORITY[ev.event],
        "document_id": ev.document_id,
        "note": ev.note,
        "created_at": now or utc_now_iso(),
    }


def insert_event(uow: UnitOfWork, ev: EventIn) -> int:
    """Insert the event's row and return its transaction id (noted for the audit seal)."""
    row = event_row(ev)
    inserted = uow.fetch_one(INSERT_EVENT, row)
    assert inserted is not None  # RETURNING gives the new row's id
    return _noted(uow, inserted.transaction_id, ev, row)


def _noted(uow: UnitOfWork, tid: int, ev: AnyEvent, row: dict[str, Any]) -> int:
    stored = (tid, ev.date.isoformat(), *(row[name] for name in _EVENT_COLUMNS[1:]))
    coverage.note_row(uow, "transactions", tid, stored)
    return tid


def _write_plain(uow: UnitOfWork, ev: EventIn, tail: Position) -> int:
    """The event, its sales row and the SKU's position in one statement (PostgreSQL, no
    lot involved: :mod:`~inventory_core.ledger.plain_write`); its id."""
    row = event_row(ev)
    statement = plain_write.WRITE_SALE if ev.event == EventType.SALE else plain_write.WRITE_EVENT
    params = plain_write.params(row, tail.on_hand, tail.tail_date, tail.tail_priority)
    inserted = uow.fetch_one(statement, params)
    assert inserted is not None  # the statement returns the new row's id
    return _noted(uow, inserted.transaction_id, ev, row)


def _sale_upsert(dialect: str) -> Prepared[Any]:
    insert_for = postgresql.insert if dialect == "postgresql" else sqlite.insert
    stmt = insert_for(_sales).values(
        sku=bindparam("b_sku"), date=bindparam("b_date"), qty_sold=bindparam("b_qty")
    )
    return Prepared(
        stmt.on_conflict_do_update(
            index_elements=[_sales.c.sku, _sales.c.date],
            set_={"qty_sold": _sales.c.qty_sold + stmt.excluded.qty_sold},
        )
    )


SALE_UPSERT = {name: _sale_upsert(name) for name in ("sqlite", "postgresql")}
_SALE_TAKE_BACK = Prepared(
    update(_sales)
    .where(_sales.c.sku == bindparam("b_sku"), _sales.c.date == bindparam("b_date"))
    .values(qty_sold=_sales.c.qty_sold + bindparam("b_qty"))
)


def add_sale(uow: UnitOfWork, sku: str, day: date, qty: int) -> None:
    """Add ``qty`` (negative to take back) to the day's ``sales`` row, creating it if needed.

    The statements are built once: building an upsert per call costs more than running it.
    """
    params = {"b_sku": sku, "b_date": day, "b_qty": qty}
    if qty < 0:
        uow.fetch(_SALE_TAKE_BACK, params)
    else:
        uow.fetch(SALE_UPSERT[uow.dialect], params)
