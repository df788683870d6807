"""Writing one ledger event: existence, conflicts, the negative-stock check, lots, sales.

Everything here runs inside the caller's unit of work with Core statements (one round trip
each, no ORM flush): this is the hot path of ``sell``. The order is always "read and check
everything, then write", and any error rolls the unit of work back, so a refused write
leaves no row behind.
"""

from __future__ import annotations

from datetime import date
from typing import Any, cast

from sqlalchemy import Table, bindparam, insert, or_, select, update
from sqlalchemy.dialects import postgresql, sqlite

from inventory_core.db.uow import UnitOfWork
from inventory_core.errors import ConflictError, NotFoundError
from inventory_core.ledger import lots
from inventory_core.ledger.checks import FoldOutcome, require_non_negative
from inventory_core.ledger.fold import LedgerEvent, apply_on_hand
from inventory_core.ledger.inputs import EventIn
from inventory_core.ledger.stock import event_literal, on_hand_at, on_hand_before
from inventory_core.models import (
    EVENT_PRIORITY,
    EventType,
    Sale,
    Sku,
    Transaction,
    TransactionReversal,
)

PENDING_ID = 2**62
"""Stand-in transaction id of the event being written: it sorts after every existing row."""

_t = cast(Table, Transaction.__table__)
_r = cast(Table, TransactionReversal.__table__)
_s = cast(Table, Sku.__table__)
_sales = cast(Table, Sale.__table__)

_events_from = (
    select(_t.c.transaction_id, _t.c.date, _t.c.event, _t.c.qty)
    .where(
        _t.c.sku == bindparam("sku"),
        _t.c.date >= bindparam("start"),
        _t.c.transaction_id.not_in(select(_r.c.transaction_id)),
    )
    .order_by(_t.c.date, _t.c.priority, _t.c.transaction_id)
)
_events_after = (
    select(_t.c.transaction_id, _t.c.date, _t.c.event, _t.c.qty)
    .where(
        _t.c.sku == bindparam("sku"),
        _t.c.date >= bindparam("day"),
        or_(_t.c.date > bindparam("day"), _t.c.priority > bindparam("priority")),
        _t.c.transaction_id.not_in(select(_r.c.transaction_id)),
    )
    .order_by(_t.c.date, _t.c.priority, _t.c.transaction_id)
)
_sku_exists = select(_s.c.sku).where(_s.c.sku == bindparam("sku"))
_snapshot_on_day = select(_t.c.transaction_id).where(
    _t.c.sku == bindparam("sku"),
    _t.c.date == bindparam("day"),
    _t.c.event == event_literal(EventType.SNAPSHOT),
    _t.c.transaction_id.not_in(select(_r.c.transaction_id)),
)
_insert_event = insert(_t).returning(_t.c.transaction_id)

DECREASING = frozenset({EventType.SALE, EventType.WASTE, EventType.SNAPSHOT})


def _loose(result: Any) -> list[Any]:
    """Rows of a statement whose column types mypy cannot follow."""
    return list(result)


def require_sku(uow: UnitOfWork, sku: str) -> None:
    """Raise :class:`NotFoundError` unless the SKU exists."""
    if uow.execute(_sku_exists, {"sku": sku}).first() is None:
        raise NotFoundError(entity="SKU", key=sku)


def events_from(uow: UnitOfWork, sku: str, start: date) -> list[LedgerEvent]:
    """The SKU's unreversed events dated ``start`` or later, in ledger order."""
    return [
        LedgerEvent(int(r[0]), sku, r[1], EventType(r[2]), int(r[3]))
        for r in _loose(uow.execute(_events_from, {"sku": sku, "start": start}))
    ]


def projected_add(uow: UnitOfWork, pending: LedgerEvent) -> tuple[FoldOutcome, int]:
    """Check a new event against the SKU's ledger: SQL up to its position, Python after.

    on_hand just before the new event comes from one statement; only the events after its
    position (usually none or a few: writes are rarely backdated) are folded in Python.

    Returns:
        The fold outcome from the new event on, and on_hand just before it.

    Raises:
        InsufficientStockError: on_hand would go negative at the event or later.
    """
    priority = EVENT_PRIORITY[pending.event]
    found = on_hand_at(uow, pending.sku, pending.date, priority)
    if found is None:
        raise NotFoundError(entity="SKU", key=pending.sku)
    before = found
    params = {"sku": pending.sku, "day": pending.date, "priority": priority}
    later = [
        LedgerEvent(int(r[0]), pending.sku, r[1], EventType(r[2]), int(r[3]))
        for r in _loose(uow.execute(_events_after, params))
    ]
    return require_non_negative(pending.sku, before, [pending, *later]), before


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


def _lowers(ev: EventIn) -> bool:
    return ev.event in DECREASING or (ev.event == EventType.ADJUST and ev.qty < 0)


def record(uow: UnitOfWork, ev: EventIn, *, lot_id: int | None = None) -> int:
    """Write one validated event with every check and side effect; return its id.

    Raises:
        NotFoundError: unknown SKU (or lot).
        ConflictError: a second unreversed SNAPSHOT for the SKU and day.
        InsufficientStockError: on_hand would go negative on the event's date or later.
    """
    needs_fold = _lowers(ev) or ev.expiry is not None
    if ev.event == EventType.SNAPSHOT:
        require_sku(uow, ev.sku)
        clash = uow.execute(_snapshot_on_day, {"sku": ev.sku, "day": ev.date}).first()
        if clash is not None:
            raise ConflictError(
                f"{ev.sku} already has a count on {ev.date} (transaction {clash[0]}); "
                "revert it first",
                sku=ev.sku,
                transaction_id=int(clash[0]),
            )
    elif not needs_fold:
        require_sku(uow, ev.sku)
    outcome: FoldOutcome | None = None
    before = 0
    if needs_fold:
        pending = LedgerEvent(PENDING_ID, ev.sku, ev.date, ev.event, ev.qty)
        outcome, before = projected_add(uow, pending)
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
    if outcome is not None:
        decrease = before - _after(before, ev) if _lowers(ev) else 0
        lots.settle(
            uow,
            ev.sku,
            final_on_hand=outcome.final_on_hand,
            consume=max(decrease, 0),
            from_lot=lot_id,
            on=ev.date,
        )
    return tid


def _after(before: int, ev: EventIn) -> int:
    return apply_on_hand(before, ev.event, ev.qty)


def event_row(ev: EventIn) -> dict[str, Any]:
    """The ``transactions`` row of a validated event."""
    return {
        "date": ev.date,
        "sku": ev.sku,
        "event": ev.event.value,
        "qty": ev.qty,
        "priority": EVENT_PRIORITY[ev.event],
        "document_id": ev.document_id,
        "note": ev.note,
    }


def insert_event(uow: UnitOfWork, ev: EventIn) -> int:
    """Insert the event's row and return its transaction id."""
    return int(uow.execute(_insert_event, event_row(ev)).scalar_one())


def _sale_upsert(dialect: str) -> Any:
    insert_for = postgresql.insert if dialect == "postgresql" else sqlite.insert
    stmt = insert_for(_sales).values(
        sku=bindparam("b_sku"), date=bindparam("b_date"), qty_sold=bindparam("b_qty")
    )
    return stmt.on_conflict_do_update(
        index_elements=[_sales.c.sku, _sales.c.date],
        set_={"qty_sold": _sales.c.qty_sold + stmt.excluded.qty_sold},
    )


_SALE_UPSERT = {name: _sale_upsert(name) for name in ("sqlite", "postgresql")}
_SALE_TAKE_BACK = (
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
        uow.execute(_SALE_TAKE_BACK, params)
    else:
        uow.execute(_SALE_UPSERT[uow.dialect], params)
