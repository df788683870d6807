"""Rewrite a SKU's ``stock_positions`` row from the ledger after a write that skips it.

The single-event path (:func:`~inventory_core.ledger.events.record_event`) and the bulk
path write the row; receipts and reversals used to leave it stale, which the writes detect
(see :mod:`inventory_core.ledger.positions`) but a person browsing the file does not: after
``receive 48, sell 20, revert the sale`` the row said 28 while the stock was 48. These paths
call :func:`refresh` for each SKU they touched, in the same unit of work, so the row a
reader sees is the stock after the SKU's last unreversed event.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date
from typing import NamedTuple, cast

from sqlalchemy import Table, bindparam, delete, exists, select

from inventory_core.db.prepared import Prepared
from inventory_core.db.uow import UnitOfWork
from inventory_core.ledger import positions
from inventory_core.ledger.positions import Position
from inventory_core.ledger.stock import on_hand_before
from inventory_core.models import StockPosition, Transaction, TransactionReversal

_t = cast(Table, Transaction.__table__)
_r = cast(Table, TransactionReversal.__table__)
_p = cast(Table, StockPosition.__table__)


class _Tail(NamedTuple):
    date: date
    priority: int


_TAIL = Prepared(
    select(_t.c.date, _t.c.priority)
    .where(
        _t.c.sku == bindparam("sku"),
        ~exists().where(_r.c.transaction_id == _t.c.transaction_id),
    )
    .order_by(_t.c.date.desc(), _t.c.priority.desc(), _t.c.transaction_id.desc())
    .limit(1),
    _Tail,
)
_FORGET = Prepared(delete(_p).where(_p.c.sku == bindparam("sku")))


def refresh(uow: UnitOfWork, skus: Iterable[str]) -> None:
    """Rewrite the position rows of ``skus`` from their unreversed events (a SKU left
    with none loses its row: a missing row only sends the next write to the full fold)."""
    for sku in dict.fromkeys(skus):
        tail = uow.fetch_one(_TAIL, {"sku": sku})
        if tail is None:
            uow.execute_many(_FORGET, [{"sku": sku}])
            continue
        on_hand = on_hand_before(uow, sku, date.max)
        positions.write(uow, sku, Position(on_hand, tail.date, tail.priority))


__all__ = ["refresh"]
