"""The bulk path's lots: a chunk's FEFO consumption worked out in memory, then written.

:func:`plan` reads the chunk's SKUs' open lots once and replays the chunk over them in
chunk order, as single writes in that order would: a RECEIPT with an expiry adds a lot,
each decrease takes its units FEFO, and at the end each SKU's lots are trimmed to its final
on_hand (the trim is booked to the SKU's last event of the chunk). It runs before the
events are inserted, so that the events go in with one plain ``executemany`` when no lot
row needs their transaction ids, and through :func:`insert_with_ids` when some do;
:func:`write` then inserts the new lots, updates the changed ones and books the draws
(``lot_draws``) in a few statements. A chunk whose SKUs have no open lot and which
creates none costs one query.
"""

from __future__ import annotations

from bisect import insort
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date
from typing import Any, cast

from sqlalchemy import Column, Table, bindparam, func, insert, select, update

from inventory_core.audit import coverage
from inventory_core.db.prepared import Prepared
from inventory_core.db.uow import UnitOfWork
from inventory_core.errors import DatabaseError
from inventory_core.errors.i18n import gettext as _
from inventory_core.ledger.draws import INSERT_DRAWS
from inventory_core.ledger.inputs import AnyEvent
from inventory_core.models import Lot, utc_now_iso

_l = cast(Table, Lot.__table__)

NEW = 2**62
"""Keys of lots created in the chunk start here (``NEW + index``): they sort after every
existing lot of the same expiry, as their ids will."""


@dataclass(slots=True)
class HeldLot:
    """A lot as the chunk leaves it: ``key`` is its id, or ``NEW + index`` for a new one."""

    key: int
    expiry: date | None
    remaining: int
    start: int

    def fefo(self) -> tuple[bool, date, int]:
        """First expiry first, lots without expiry last, then by id."""
        return (self.expiry is None, self.expiry or date.min, self.key)


@dataclass
class LotPlan:
    """What a chunk does to its SKUs' lots."""

    lots: list[HeldLot] = field(default_factory=list)
    taken: dict[int, dict[int, int]] = field(default_factory=dict)
    """Chunk index -> {lot key: units that event drew}."""

    def needs_ids(self) -> bool:
        """Whether lot rows will refer to the chunk's transaction ids."""
        return bool(self.taken) or any(lot.key >= NEW for lot in self.lots)


_OPEN = select(_l.c.lot_id, _l.c.sku, _l.c.expiry_date, _l.c.qty_remaining).where(
    _l.c.sku.in_(bindparam("skus", expanding=True)), _l.c.qty_remaining > 0
)


_LOT_COLUMNS = (
    "sku",
    "transaction_id",
    "document_id",
    "received_date",
    "expiry_date",
    "qty_received",
    "qty_remaining",
    "created_at",
)
INSERT_LOT_ROWS = Prepared(insert(_l).values({name: bindparam(name) for name in _LOT_COLUMNS}))


def insert_with_ids(
    uow: UnitOfWork, statement: Prepared[Any], key: Column[int], rows: list[dict[str, Any]]
) -> list[int]:
    """Insert ``rows`` in order with ``statement`` and return their ids, in the same order.

    On SQLite the unit of work holds the database's write lock, and a rowid table gives a
    new row the largest rowid plus one: the rows of one ``executemany`` get consecutive
    ids in order, read back with one range scan of the primary key (and checked to be
    exactly that, or the unit of work fails). On PostgreSQL, where other sessions draw from
    the same sequence, SQLAlchemy's ``insertmanyvalues`` with ``sort_by_parameter_order``
    inserts from an ordered ``VALUES`` list and sorts what ``RETURNING`` gives back.

    Raises:
        DatabaseError: the ids read back on SQLite are not the consecutive run expected.
    """
    table = key.table
    if uow.dialect == "postgresql":
        returning = insert(table).returning(key, sort_by_parameter_order=True)
        return [int(value) for value in uow.scalars(returning, rows)]
    before = int(uow.scalar(select(func.coalesce(func.max(key), 0))))
    uow.execute_many(statement, rows)
    ids = [int(v) for v in uow.scalars(select(key).where(key > before).order_by(key))]
    if ids != list(range(before + 1, before + 1 + len(rows))):
        raise DatabaseError(
            _("{name} ids after {before} are not the {count} inserted").format(
                name=table.name, before=before, count=len(rows)
            )
        )
    return ids


def plan(
    uow: UnitOfWork,
    chunk: Sequence[AnyEvent],
    decreases: dict[int, int],
    finals: dict[str, int],
) -> LotPlan:
    """Replay the chunk over its SKUs' open lots (see the module docstring).

    Args:
        uow: the unit of work of the chunk.
        chunk: the validated events, in chunk order.
        decreases: chunk index -> how much that event lowers on_hand where it falls.
        finals: each SKU's on_hand after the chunk.
    """
    skus = sorted({ev.sku for ev in chunk})
    held: dict[str, list[HeldLot]] = defaultdict(list)
    result = LotPlan()
    for row in uow.fetch(_OPEN, {"skus": skus}):
        lot = HeldLot(row.lot_id, row.expiry_date, row.qty_remaining, row.qty_remaining)
        held[row.sku].append(lot)
        result.lots.append(lot)
    if not held and all(ev.expiry is None for ev in chunk):
        return result
    for lots in held.values():
        lots.sort(key=HeldLot.fefo)
    last: dict[str, int] = {}
    for index, ev in enumerate(chunk):
        last[ev.sku] = index
        if ev.expiry is not None:
            lot = HeldLot(NEW + index, ev.expiry, ev.qty, ev.qty)
            insort(held[ev.sku], lot, key=HeldLot.fefo)
            result.lots.append(lot)
        elif index in decreases and held.get(ev.sku):
            _book(result, index, _take(held[ev.sku], decreases[index]))
    for sku, lots in held.items():
        excess = sum(lot.remaining for lot in lots) - max(finals.get(sku, 0), 0)
        if excess > 0:
            _book(result, last[sku], _take(lots, excess))
    return result


def _book(result: LotPlan, index: int, taken: dict[int, int]) -> None:
    if taken:
        mine = result.taken.setdefault(index, {})
        for key, qty in taken.items():
            mine[key] = mine.get(key, 0) + qty


def _take(held: list[HeldLot], amount: int) -> dict[int, int]:
    """Take ``amount`` from the front of FEFO-sorted lots, dropping the ones emptied."""
    taken: dict[int, int] = {}
    while amount > 0 and held:
        lot = held[0]
        qty = min(amount, lot.remaining)
        lot.remaining -= qty
        amount -= qty
        taken[lot.key] = qty
        if lot.remaining == 0:
            held.pop(0)
    return taken


def write(uow: UnitOfWork, chunk: Sequence[AnyEvent], tids: list[int], lots: LotPlan) -> None:
    """Insert the chunk's new lots, update the changed ones, book the draws.

    ``tids`` holds the transaction id of every chunk index (when
    :meth:`LotPlan.needs_ids` said so).
    """
    ids = {lot.key: lot.key for lot in lots.lots if lot.key < NEW}
    new_lots = [lot for lot in lots.lots if lot.key >= NEW]
    if new_lots:
        coverage.mark(uow, "lots")
        rows = [_lot_row(chunk[lot.key - NEW], tids[lot.key - NEW], lot) for lot in new_lots]
        for lot, lot_id in zip(
            new_lots, insert_with_ids(uow, INSERT_LOT_ROWS, _l.c.lot_id, rows), strict=True
        ):
            ids[lot.key] = lot_id
    changed = [
        {"b_lot_id": lot.key, "b_remaining": lot.remaining}
        for lot in lots.lots
        if lot.key < NEW and lot.remaining != lot.start
    ]
    if changed:
        coverage.note(uow, "lots", *(row["b_lot_id"] for row in changed))
        uow.execute(
            update(_l)
            .where(_l.c.lot_id == bindparam("b_lot_id"))
            .values(qty_remaining=bindparam("b_remaining")),
            changed,
        )
    draws = [
        {"b_lot_id": ids[key], "b_tid": tids[index], "b_rid": None, "b_qty": qty}
        for index, taken in sorted(lots.taken.items())
        for key, qty in taken.items()
    ]
    if draws:
        coverage.mark(uow, "lot_draws")
        uow.execute_many(INSERT_DRAWS, draws)


def _lot_row(ev: AnyEvent, tid: int, lot: HeldLot) -> dict[str, Any]:
    return {
        "created_at": utc_now_iso(),
        "sku": ev.sku,
        "transaction_id": tid,
        "document_id": ev.document_id,
        "received_date": ev.date,
        "expiry_date": ev.expiry,
        "qty_received": ev.qty,
        "qty_remaining": lot.remaining,
    }
