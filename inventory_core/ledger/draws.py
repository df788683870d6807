"""Lot draws (``lot_draws``): which lots each decrease took from, given back on a reversal.

Every change a write makes to a lot's ``qty_remaining`` is booked, in the same unit of
work, as one insert-only row per lot: the units a transaction took (its decrease FEFO, a
``waste(lot_id=...)``, the trim of the lots to on_hand after its write), or the units the
*reversal* of a transaction took (a reversal that lowers stock). So a lot always holds
what it received less its counted draws: those of standing transactions, of reversals,
and the opening row migration ``0003_lot_draws`` wrote for what older lots had lost. When
a transaction is reverted its own draws stop counting, and :func:`give_back` returns
exactly those units to exactly those lots, whatever later writes took from other lots in
the meantime; the lot of a reverted RECEIPT holds nothing.

A SKU without open lots never reaches this module: its writes skip the lots entirely.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, NamedTuple, cast

from sqlalchemy import Table, bindparam, insert, select, update

from inventory_core.audit import coverage
from inventory_core.db.prepared import Prepared
from inventory_core.db.uow import UnitOfWork
from inventory_core.errors import LotDrawsMismatchError
from inventory_core.models import Lot, LotDraw, TransactionReversal

_d = cast(Table, LotDraw.__table__)
_l = cast(Table, Lot.__table__)
_r = cast(Table, TransactionReversal.__table__)


@dataclass(frozen=True, slots=True)
class Drawer:
    """Whom a draw is booked to: a transaction, or the reversal of that transaction."""

    transaction_id: int
    reversal_id: int | None = None

    def rows(self, taken: Mapping[int, int]) -> list[dict[str, Any]]:
        """The ``lot_draws`` rows for ``taken`` (lot id -> units), empty takes left out."""
        tid, rid = self.transaction_id, self.reversal_id
        return [
            {"b_lot_id": lot_id, "b_tid": tid, "b_rid": rid, "b_qty": qty}
            for lot_id, qty in taken.items()
            if qty > 0
        ]


class _DrawId(NamedTuple):
    draw_id: int


INSERT_DRAWS = Prepared(
    insert(_d).values(
        lot_id=bindparam("b_lot_id"),
        transaction_id=bindparam("b_tid"),
        reversal_id=bindparam("b_rid"),
        qty=bindparam("b_qty"),
    )
)
"""One draw row; run with ``executemany`` (rows from :meth:`Drawer.rows`)."""
INSERT_DRAW = Prepared(
    insert(_d)
    .values(
        lot_id=bindparam("b_lot_id"),
        transaction_id=bindparam("b_tid"),
        reversal_id=bindparam("b_rid"),
        qty=bindparam("b_qty"),
    )
    .returning(_d.c.draw_id),
    _DrawId,
)
"""One draw row, returning its id: a single write's draws, sealed by id."""
FEW_DRAWS = 4  # up to this many, one INSERT ... RETURNING each; more, one executemany


def record(uow: UnitOfWork, drawer: Drawer, taken: Mapping[int, int]) -> None:
    """Book what ``drawer`` took from each lot (lot id -> units); nothing when empty."""
    rows = drawer.rows(taken)
    if len(rows) > FEW_DRAWS:
        coverage.mark(uow, "lot_draws")
        uow.execute_many(INSERT_DRAWS, rows)
        return
    for row in rows:
        # As many statements as an executemany of the same rows would run, and the ids
        # come back for the audit seal without reading the table's largest id.
        for made in uow.fetch(INSERT_DRAW, row):
            coverage.note(uow, "lot_draws", made.draw_id)


class _Draw(NamedTuple):
    lot_id: int
    qty: int
    qty_remaining: int
    qty_received: int


_OWN_DRAWS = Prepared(
    select(_d.c.lot_id, _d.c.qty, _l.c.qty_remaining, _l.c.qty_received)
    .select_from(_d.join(_l, _l.c.lot_id == _d.c.lot_id))
    .where(_d.c.transaction_id == bindparam("tid"), _d.c.reversal_id.is_(None)),
    _Draw,
)
_GIVE_BACK = Prepared(
    update(_l)
    .where(_l.c.lot_id == bindparam("b_lot_id"))
    .values(qty_remaining=_l.c.qty_remaining + bindparam("b_qty"))
)


def give_back(uow: UnitOfWork, sku: str, transaction_id: int, own_lot: int | None) -> bool:
    """Return the units ``transaction_id`` drew to the lots they came from.

    Called by a reversal after its row is written. ``own_lot`` (the lot of a reverted
    RECEIPT) is left out: it is emptied instead. A lot never goes above what it received;
    if giving back would take it there, the lot was changed outside the library.

    Returns:
        Whether anything went back (the caller then trims the lots to on_hand).

    Raises:
        LotDrawsMismatchError: a lot would hold more than it received.
    """
    back: dict[int, int] = defaultdict(int)
    held: dict[int, tuple[int, int]] = {}
    for draw in uow.fetch(_OWN_DRAWS, {"tid": transaction_id}):
        if draw.lot_id != own_lot:
            back[draw.lot_id] += draw.qty
            held[draw.lot_id] = (draw.qty_remaining, draw.qty_received)
    for lot_id, qty in back.items():
        remaining, received = held[lot_id]
        if remaining + qty > received:
            raise LotDrawsMismatchError(
                sku=sku,
                lot_id=lot_id,
                qty=qty,
                qty_remaining=remaining,
                qty_received=received,
                transaction_id=transaction_id,
            )
    if back:
        uow.execute_many(
            _GIVE_BACK, [{"b_lot_id": lot_id, "b_qty": qty} for lot_id, qty in back.items()]
        )
        coverage.note(uow, "lots", *back)
    return bool(back)


def consumers(uow: UnitOfWork, lot_id: int, receipt_id: int) -> list[int]:
    """The standing transactions, other than the lot's own receipt, that drew from it.

    Their draws would come back to the lot when they are reverted, so the receipt cannot
    be reverted before them. Draws made by reversals and the opening row of an older lot
    are nobody's to give back and do not count here.
    """
    found = uow.scalars(
        select(_d.c.transaction_id)
        .where(
            _d.c.lot_id == lot_id,
            _d.c.transaction_id.is_not(None),
            _d.c.transaction_id != receipt_id,
            _d.c.reversal_id.is_(None),
            _d.c.transaction_id.not_in(select(_r.c.transaction_id)),
        )
        .group_by(_d.c.transaction_id)
        .order_by(_d.c.transaction_id)
    )
    return [int(tid) for tid in found]
