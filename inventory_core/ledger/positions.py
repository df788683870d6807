"""Each SKU's on_hand after its last event, so a single write need not fold its history.

The negative-stock check of a write needs on_hand just before the new event and the
events after it. Folding that from the ledger costs one index entry per event since the
SKU's last count: about 0.5 ms at 5,000 events, and growing. Most writes are not
backdated, so the ``stock_positions`` row (on_hand after the SKU's last unreversed event,
and that event's date and priority) answers both questions at once: on_hand before the
new event is the row's, and no event comes after it.

The row is a cache of the fold, never the truth, and it is trusted only when it is
provably current, which :data:`WITH_POSITIONS` checks in the same statement
(:func:`~inventory_core.models.position_is_current`):

- ``last_transaction_id`` is still the SKU's newest transaction id (one step through
  ``ix_transactions_sku_transaction_id``): an event added by anything else, backdated or
  not, makes the row stale;
- no reversal newer than ``reversal_mark`` reverses an event of the SKU (a range of the
  reversals' primary key, empty unless something was reverted since).

A stale or missing row sends the write to the full fold, which then rewrites the row (the
bulk path reads and rewrites the rows of its SKUs the same way). Paths that add events
without reading the row (receipts, reversals) would leave it stale, which the writes detect
but a person browsing the file does not; they rewrite it from the ledger
(:mod:`inventory_core.ledger.positions_refresh`). On PostgreSQL the writers of a SKU
queue on its row lock (:mod:`inventory_core.ledger.locks`), so each reads the row the one
before wrote. The ``stock_positions_match_ledger`` invariant compares every current row
with the fold.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Any, Protocol, cast

from sqlalchemy import String, Table, bindparam, select
from sqlalchemy.dialects import postgresql, sqlite

from inventory_core.db.prepared import Prepared
from inventory_core.db.uow import UnitOfWork
from inventory_core.models import (
    Sku,
    StockPosition,
    newest_reversal_id,
    newest_transaction_id,
    position_is_current,
)

_p = cast(Table, StockPosition.__table__)
_s = cast(Table, Sku.__table__)


@dataclass(frozen=True, slots=True)
class Position:
    """on_hand after the SKU's last unreversed event, at ``(tail_date, tail_priority)``."""

    on_hand: int
    tail_date: date
    tail_priority: int

    def precedes(self, day: date, priority: int) -> bool:
        """True when an event written now at ``(day, priority)`` sorts after every event.

        A new event gets the highest transaction id, so it sorts after an existing event
        with the same date and priority.
        """
        return (day, priority) >= (self.tail_date, self.tail_priority)


WITH_POSITIONS = select(
    _s.c.sku,
    _p.c.on_hand,
    _p.c.tail_date,
    _p.c.tail_priority,
    position_is_current(_s.c.sku).label("current"),
).select_from(_s.outerjoin(_p, _p.c.sku == _s.c.sku))
"""Each SKU with its position columns and whether the row is current (filter it)."""


class PositionColumns(Protocol):
    """The columns of :data:`WITH_POSITIONS` a row carries, read by name."""

    @property
    def on_hand(self) -> int | None: ...
    @property
    def tail_date(self) -> date | None: ...
    @property
    def tail_priority(self) -> int | None: ...
    @property
    def current(self) -> bool | None: ...


def _upsert(dialect: str) -> Prepared[Any]:
    insert_for = postgresql.insert if dialect == "postgresql" else sqlite.insert
    sku = bindparam("sku", type_=String)
    stmt = insert_for(_p).values(
        sku=sku,
        on_hand=bindparam("on_hand"),
        tail_date=bindparam("tail_date"),
        tail_priority=bindparam("tail_priority"),
        last_transaction_id=newest_transaction_id(sku),
        reversal_mark=newest_reversal_id(),
    )
    columns = ("on_hand", "tail_date", "tail_priority", "last_transaction_id", "reversal_mark")
    return Prepared(
        stmt.on_conflict_do_update(
            index_elements=[_p.c.sku], set_={c: stmt.excluded[c] for c in columns}
        )
    )


_UPSERT = {name: _upsert(name) for name in ("sqlite", "postgresql")}


def position_of(row: PositionColumns) -> Position | None:
    """The position in a row with the columns of :data:`WITH_POSITIONS`, or None when there
    is none or it is stale."""
    if row.on_hand is None or row.tail_date is None or row.tail_priority is None:
        return None
    if not row.current:
        return None
    return Position(row.on_hand, row.tail_date, row.tail_priority)


_READ_MANY = WITH_POSITIONS.where(_s.c.sku.in_(bindparam("skus", expanding=True)))


def read_many(uow: UnitOfWork, skus: list[str]) -> dict[str, Position | None]:
    """Each existing SKU of ``skus`` with its position when the row is current."""
    rows = uow.fetch(_READ_MANY, {"skus": skus})
    return {row.sku: position_of(row) for row in rows}


def _row(sku: str, position: Position) -> dict[str, Any]:
    return {
        "sku": sku,
        "on_hand": position.on_hand,
        "tail_date": position.tail_date,
        "tail_priority": position.tail_priority,
    }


def write(uow: UnitOfWork, sku: str, position: Position) -> None:
    """Store the SKU's position after the events this unit of work wrote.

    Call it after the events are inserted: the row records the SKU's newest transaction
    id and the newest reversal as they are now.
    """
    uow.fetch(_UPSERT[uow.dialect], _row(sku, position))


def write_many(uow: UnitOfWork, rows: dict[str, Position]) -> None:
    """:func:`write` for several SKUs in one ``executemany``."""
    if rows:
        params = [_row(sku, position) for sku, position in sorted(rows.items())]
        uow.execute_many(_UPSERT[uow.dialect], params)


__all__ = [
    "WITH_POSITIONS",
    "Position",
    "position_of",
    "read_many",
    "write",
    "write_many",
]
