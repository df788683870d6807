"""Lots as they stood on a date, and the lots expiring soon: replayed from ``lot_draws``.

Every change of a lot's remainder is booked in ``lot_draws`` (see
:mod:`inventory_core.ledger.draws`), so a lot's remainder as of a date D (events strictly
before D, as for stock) is what it received less the draws that count by then:

- a transaction's own draw counts while the transaction stands, from its date;
- a draw of a reversal always counts, from the date of the reverted transaction (where
  the reversal takes effect);
- the opening draw of migration ``0003_lot_draws`` counts from the lot's received date.

A lot exists as of D when it was received before D and its RECEIPT is not reversed. The
replay is the FEFO consumption the library recorded, so it is exact for every write: the
draws are the ones each write made when it was written. (A backdated receipt before a
lower count is trimmed at once, booked to the receipt: such a lot shows the trim from
its received date on.) One statement, for one SKU or every SKU alike.
"""

from __future__ import annotations

from datetime import date, timedelta
from functools import cache
from typing import Annotated, Any, cast

import pydantic
from pydantic import Field
from sqlalchemy import Date, Table, and_, bindparam, case, func, select

from inventory_core.db.prepared import Prepared
from inventory_core.db.uow import UnitOfWork
from inventory_core.ledger.inputs import validation_error
from inventory_core.ledger.readmodels import LotInfo
from inventory_core.ledger.rules import MAX_DATE
from inventory_core.models import Lot, LotDraw, Transaction, TransactionReversal

_l = cast(Table, Lot.__table__)
_d = cast(Table, LotDraw.__table__)
_t = cast(Table, Transaction.__table__)
_r = cast(Table, TransactionReversal.__table__)

MAX_WITHIN_DAYS = 36_500
_WITHIN = pydantic.TypeAdapter(Annotated[int, pydantic.Strict(), Field(ge=0, le=MAX_WITHIN_DAYS)])


def validate_within_days(value: Any) -> int:
    """The window of :func:`expiring` in days (0 .. 36,500), or :class:`ValidationError`."""
    try:
        return int(_WITHIN.validate_python(value))
    except pydantic.ValidationError as exc:
        raise validation_error(exc, "within_days") from exc


def _reversed() -> Any:
    return select(_r.c.transaction_id)


def lots_statement(single: bool, expiring: bool) -> Any:
    """Lots with their remainder as of ``:asof`` (> 0), FEFO per SKU; for ``:sku`` when
    ``single``; with ``expiring``, only those whose expiry is on or before ``:until``."""
    asof = bindparam("asof", type_=Date)
    drawer = _t.alias("drawer")
    effective = case(
        (_d.c.transaction_id.is_(None), True),  # the opening draw: from the received date
        (_d.c.reversal_id.is_not(None), drawer.c.date < asof),
        else_=and_(drawer.c.date < asof, _d.c.transaction_id.not_in(_reversed())),
    )
    drawn = (
        select(func.coalesce(func.sum(_d.c.qty), 0))
        .select_from(_d.outerjoin(drawer, drawer.c.transaction_id == _d.c.transaction_id))
        .where(_d.c.lot_id == _l.c.lot_id, effective)
        .correlate(_l)
        .scalar_subquery()
    )
    remaining = (_l.c.qty_received - drawn).label("remaining")
    rows = select(
        _l.c.lot_id,
        _l.c.sku,
        _l.c.transaction_id,
        _l.c.document_id,
        _l.c.received_date,
        _l.c.expiry_date,
        _l.c.qty_received,
        remaining,
    ).where(_l.c.received_date < asof, _l.c.transaction_id.not_in(_reversed()))
    if single:
        rows = rows.where(_l.c.sku == bindparam("sku"))
    if expiring:
        rows = rows.where(_l.c.expiry_date <= bindparam("until", type_=Date))
    inner = rows.subquery("lots_asof")
    order = (
        (inner.c.expiry_date, inner.c.sku, inner.c.lot_id)
        if expiring
        else (inner.c.sku, inner.c.expiry_date.is_(None), inner.c.expiry_date, inner.c.lot_id)
    )
    return select(inner).where(inner.c.remaining > 0).order_by(*order)


@cache
def _lots(single: bool, expiring: bool) -> Prepared[Any]:
    # Compiled once per dialect: building the statement cost more than running it.
    return Prepared(lots_statement(single, expiring))


def _day(value: Any) -> date:
    return value if isinstance(value, date) else date.fromisoformat(str(value))


def _info(row: Any) -> LotInfo:
    return LotInfo(
        lot_id=int(row.lot_id),
        sku=row.sku,
        transaction_id=int(row.transaction_id),
        document_id=row.document_id,
        received_date=_day(row.received_date),
        expiry_date=None if row.expiry_date is None else _day(row.expiry_date),
        qty_received=int(row.qty_received),
        qty_remaining=int(row.remaining),
    )


def lots_asof(uow: UnitOfWork, sku: str, asof: date) -> list[LotInfo]:
    """The SKU's lots with what they held as of ``asof``, FEFO (no expiry last)."""
    rows = uow.fetch(_lots(True, False), {"asof": asof, "sku": sku})
    return [_info(row) for row in rows]


def expiring(uow: UnitOfWork, within_days: int, asof: date) -> list[LotInfo]:
    """Every SKU's lots, as of ``asof``, that expire within ``within_days`` of it (those
    already expired included), earliest expiry first: one statement."""
    gap = (MAX_DATE - asof).days
    until = MAX_DATE if within_days >= gap else asof + timedelta(days=within_days)
    rows = uow.fetch(_lots(False, True), {"asof": asof, "until": until})
    return [_info(row) for row in rows]


__all__ = ["MAX_WITHIN_DAYS", "expiring", "lots_asof", "lots_statement", "validate_within_days"]
