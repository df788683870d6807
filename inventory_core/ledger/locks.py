"""Row locks of the ledger writes on PostgreSQL: what a READ COMMITTED write serialises on.

A ledger write on PostgreSQL runs at READ COMMITTED (``Database.run(..., row_locks=True)``)
and serialises only what must be serialised:

- **the SKU row**, ``SELECT ... FOR UPDATE`` on ``skus``, taken before the write reads
  anything its checks depend on (the SKU's position, its events, its lots, its open
  orders). Two writers of one SKU queue on it; writers of other SKUs never meet it. Each
  later statement of the unit reads what was committed when it starts, so what the second
  writer checks includes the first one's events: no negative stock, backdated or not, and
  no lost update of the positions cache or of a lot's remainder. Several SKUs are locked
  in code order in one statement, so two multi-SKU writes cannot deadlock on each other;
- **the audit chain head**, last, in :func:`inventory_core.audit.trail.append` (a
  transaction-level advisory lock held until commit).

The lock is a statement of its own, never a ``FOR UPDATE`` on the statement that reads
the SKU's state: a READ COMMITTED statement that waited for a row lock sees the locked
row as committed since, but every other table and subquery as they were when it started,
before the wait (PostgreSQL's EvalPlanQual), so it would read the positions cache and
the lots of before the other writer's commit. A statement started after the lock is
granted sees that commit. A unit remembers the SKUs it locked and does not lock them
again. On SQLite these are no-ops: a write transaction (``BEGIN IMMEDIATE``) excludes every other
writer already. See docs/concurrency.md, "PostgreSQL: row locks".
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import NamedTuple, cast

from sqlalchemy import ARRAY, String, Table, any_, bindparam, select

from inventory_core.db.prepared import Prepared
from inventory_core.db.uow import UnitOfWork
from inventory_core.models import OrderLog, Sku

_s = cast(Table, Sku.__table__)
_o = cast(Table, OrderLog.__table__)


class _Code(NamedTuple):
    sku: str


_LOCK_ONE = Prepared(select(_s.c.sku).where(_s.c.sku == bindparam("sku")).with_for_update(), _Code)
_LOCK_MANY = Prepared(
    select(_s.c.sku)
    .where(_s.c.sku == any_(bindparam("codes", type_=ARRAY(String))))
    .order_by(_s.c.sku)
    .with_for_update(),
    _Code,
)
_HELD = "locked_skus"
_ORDER_SKU = Prepared(select(_o.c.sku).where(_o.c.order_id == bindparam("order_id")), _Code)


def lock_skus(uow: UnitOfWork, codes: Iterable[str]) -> None:
    """Lock the ``skus`` rows of ``codes`` until the unit ends (PostgreSQL row-lock units
    only), in code order. An unknown code locks nothing; the write then finds it missing."""
    if not uow.row_locks:
        return
    held: set[str] = uow.info.setdefault(_HELD, set())
    wanted = sorted(set(codes) - held)
    held.update(wanted)
    if len(wanted) == 1:
        uow.fetch(_LOCK_ONE, {"sku": wanted[0]})
    elif wanted:
        uow.fetch(_LOCK_MANY, {"codes": wanted})


def lock_order_sku(uow: UnitOfWork, order_id: int) -> None:
    """Lock the SKU of order ``order_id`` (a write that starts from an order: its receipts,
    closures and status change only under its SKU's lock)."""
    if not uow.row_locks:
        return
    found = uow.fetch_one(_ORDER_SKU, {"order_id": order_id})
    if found is not None:
        lock_skus(uow, (found.sku,))


__all__ = ["lock_order_sku", "lock_skus"]
