"""Reorder proposals: what to order for every SKU whose position falls to its reorder point.

For each active SKU with a ``reorder_point``: the inventory position over its lead time
(:mod:`inventory_core.ledger.pipeline`: on_hand + open orders expected by ``asof +
lead_time_days`` - unfulfilled). When it is at or below the reorder point, the proposal is
the quantity that brings it up to ``max_stock`` (or ``reorder_point + safety_stock`` when no
maximum is set), rounded up to the pack size and at least the MOQ. All of it is one
statement (the position statement joined to ``skus``); nothing is written: turning
proposals into orders is :meth:`Inventory.order_many`.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date
from functools import cache
from typing import Any, cast

from sqlalchemy import BigInteger, Table, case, func, select
from sqlalchemy import cast as sql_cast

from inventory_core.db.prepared import Prepared
from inventory_core.db.uow import UnitOfWork
from inventory_core.errors import ValidationError
from inventory_core.errors.i18n import gettext as _
from inventory_core.ledger.pipeline import position_statement
from inventory_core.ledger.readmodels import Proposal
from inventory_core.ledger.skus import default_expiry
from inventory_core.models import Sku

_s = cast(Table, Sku.__table__)


def proposal_statement() -> Any:
    """Proposals as of ``:asof`` (``:horizon`` NULL: each SKU's lead time)."""
    # OFFSET 0 keeps the planner from flattening the positions into this query: flattened,
    # each of the five uses of ``position`` below ran the SKU's on_hand subqueries again.
    pos = position_statement(False, on_order=False).offset(0).subquery("pos")
    position = (pos.c.on_hand + pos.c.incoming - pos.c.unfulfilled).label("position")
    target = func.coalesce(_s.c.max_stock, _s.c.reorder_point + func.coalesce(_s.c.safety_stock, 0))
    # PostgreSQL's SUM of integers is BIGINT or NUMERIC: cast, so that // divides integers.
    need = sql_cast(target - position, BigInteger)
    packed = ((need + _s.c.pack_size - 1) // _s.c.pack_size) * _s.c.pack_size
    qty = case((packed < _s.c.moq, _s.c.moq), else_=packed)
    return (
        select(
            _s.c.sku,
            pos.c.on_hand,
            pos.c.incoming,
            pos.c.unfulfilled,
            position,
            _s.c.reorder_point,
            target.label("target"),
            _s.c.pack_size,
            _s.c.moq,
            _s.c.lead_time_days,
            pos.c.horizon,
            qty.label("qty"),
        )
        .select_from(_s.join(pos, pos.c.sku == _s.c.sku))
        .where(
            _s.c.active.is_(True),
            _s.c.reorder_point.is_not(None),
            position <= _s.c.reorder_point,
            need > 0,
        )
        .order_by(_s.c.sku)
    )


def _day(value: Any) -> date:
    return value if isinstance(value, date) else date.fromisoformat(str(value))


@cache
def _proposals() -> Prepared[Any]:
    # Compiled once per dialect: SQLAlchemy's cache key of a statement this size costs
    # about as much as running it on a small shop.
    return Prepared(proposal_statement())


def proposals(uow: UnitOfWork, asof: date) -> list[Proposal]:
    """Every proposal as of ``asof``, in SKU order: one statement."""
    rows = uow.fetch(_proposals(), {"asof": asof, "horizon": None})
    return [
        Proposal(
            sku=r.sku,
            asof=asof,
            qty=int(r.qty),
            on_hand=int(r.on_hand),
            arriving=int(r.incoming),
            unfulfilled=int(r.unfulfilled),
            position=int(r.position),
            reorder_point=int(r.reorder_point),
            target=int(r.target),
            pack_size=int(r.pack_size),
            moq=int(r.moq),
            lead_time_days=int(r.lead_time_days),
            horizon=_day(r.horizon),
        )
        for r in rows
    ]


__all__ = ["proposal_statement", "proposals"]


MAX_ORDERS = 100_000
"""Most orders one :meth:`Inventory.order_many` call places."""


def order_lines(items: Any, on: date) -> list[tuple[Any, Any, date | None]]:
    """``(sku, qty, expected)`` of each item: a :class:`Proposal` (expected after its lead
    time) or a ``(sku, qty)`` pair (no expected date); the values are validated by the
    ORDER event each becomes.

    Raises:
        ValidationError: ``items`` is not a non-empty list of those.
    """
    if isinstance(items, str | bytes | Mapping) or not hasattr(items, "__iter__"):
        raise ValidationError(
            _("must be a list of proposals, not {kind}").format(kind=type(items).__name__),
            field="items",
        )
    lines: list[tuple[Any, Any, date | None]] = []
    for index, item in enumerate(items):
        if isinstance(item, Proposal):
            lines.append((item.sku, item.qty, default_expiry(on, item.lead_time_days or None)))
        elif isinstance(item, tuple) and len(item) == 2:
            lines.append((item[0], item[1], None))
        else:
            raise ValidationError(
                _("must be a Proposal or a (sku, qty) pair, not {kind}").format(
                    kind=type(item).__name__
                ),
                field=f"items[{index}]",
            )
        if len(lines) > MAX_ORDERS:
            raise ValidationError(
                _("must hold at most {limit:,} orders").format(limit=MAX_ORDERS), field="items"
            )
    if not lines:
        raise ValidationError(_("must not be empty"), field="items")
    return lines
