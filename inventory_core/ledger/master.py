"""SKU master data: create, change, read (with the history queries beside them).

The reads take a :class:`~inventory_core.db.reads.Reader`: a unit of work inside a write,
or the :class:`~inventory_core.db.database.Database` itself for a caller's read, where each
is one statement and so one snapshot. That is why :func:`history` finds the SKU and its
events in the same statement: a separate existence check would read another snapshot.
"""

from __future__ import annotations

import json
from datetime import date
from functools import cache
from typing import Any, NamedTuple, cast

from sqlalchemy import Date, Integer, Table, and_, bindparam, insert, select, update

from inventory_core.db.prepared import Prepared
from inventory_core.db.reads import Reader
from inventory_core.db.uow import UnitOfWork
from inventory_core.errors import DuplicateError, NotFoundError, ValidationError
from inventory_core.errors.i18n import gettext as _
from inventory_core.ledger.inputs import SkuChanges, SkuIn
from inventory_core.ledger.readmodels import HistoryEntry, SkuInfo
from inventory_core.ledger.rules import attributes_text, check_levels
from inventory_core.models import EventType, Sku, Transaction, TransactionReversal, utc_now_iso

_s = cast(Table, Sku.__table__)
_t = cast(Table, Transaction.__table__)
_r = cast(Table, TransactionReversal.__table__)

SKU_FIELDS = (
    "description",
    "ean",
    "pack_size",
    "moq",
    "lead_time_days",
    "active",
    "category",
    "shelf_life_days",
    "reorder_point",
    "safety_stock",
    "max_stock",
    "attributes",
)
_EVENTS = {event.value: event for event in EventType}
"""Event names to members: a dict lookup is a tenth of ``EventType(name)``."""


class _SkuRow(NamedTuple):
    sku: str
    description: str
    ean: str | None
    pack_size: int
    moq: int
    lead_time_days: int
    active: bool
    category: str | None
    shelf_life_days: int | None
    reorder_point: int | None
    safety_stock: int | None
    max_stock: int | None
    attributes: str | None


GET_SKU = Prepared(
    select(_s.c.sku, *(_s.c[name] for name in SKU_FIELDS)).where(_s.c.sku == bindparam("sku")),
    _SkuRow,
)


def sku_info(row: Any) -> SkuInfo:
    """The read model of a row selected as ``sku, *SKU_FIELDS`` (fields by name)."""
    return SkuInfo(
        sku=row.sku,
        description=row.description,
        ean=row.ean,
        pack_size=row.pack_size,
        moq=row.moq,
        lead_time_days=row.lead_time_days,
        active=bool(row.active),
        category=row.category,
        shelf_life_days=row.shelf_life_days,
        reorder_point=row.reorder_point,
        safety_stock=row.safety_stock,
        max_stock=row.max_stock,
        attributes={} if row.attributes is None else json.loads(row.attributes),
    )


def _stored(values: dict[str, Any]) -> dict[str, Any]:
    """Column values of validated fields: ``attributes`` as its canonical JSON text."""
    if "attributes" in values:
        values["attributes"] = attributes_text(values["attributes"] or {})
    return values


def find_sku(reader: Reader, sku: str) -> SkuInfo | None:
    """The SKU's master data, or None."""
    row = reader.fetch_one(GET_SKU, {"sku": sku})
    return None if row is None else sku_info(row)


def get_sku(reader: Reader, sku: str) -> SkuInfo:
    """The SKU's master data.

    Raises:
        NotFoundError: no such SKU.
    """
    info = find_sku(reader, sku)
    if info is None:
        raise NotFoundError(entity="SKU", key=sku)
    return info


def add_sku(uow: UnitOfWork, data: SkuIn) -> SkuInfo:
    """Insert a SKU, refusing a code that exists (checked first for a clear message).

    Raises:
        DuplicateError: the code is taken.
    """
    if find_sku(uow, data.sku) is not None:
        raise DuplicateError(
            _("SKU '{sku}' already exists").format(sku=data.sku), entity="SKU", key=data.sku
        )
    uow.execute(insert(_s).values(**_stored(data.model_dump())))
    return get_sku(uow, data.sku)


def update_sku(uow: UnitOfWork, sku: str, changes: SkuChanges) -> tuple[SkuInfo, SkuInfo]:
    """Apply the given fields; return the master data before and after."""
    before = get_sku(uow, sku)
    values = changes.model_dump(exclude_unset=True)
    levels = {k: values.get(k, getattr(before, k)) for k in ("reorder_point", "max_stock")}
    try:
        check_levels(levels["reorder_point"], levels["max_stock"])
    except ValueError as exc:
        raise ValidationError(str(exc), field="max_stock") from None
    if values:
        uow.execute(
            update(_s).where(_s.c.sku == sku).values(**_stored(values), updated_at=utc_now_iso())
        )
    return before, get_sku(uow, sku)


class _HistoryRow(NamedTuple):
    transaction_id: int | None
    """None in the one all-NULL row of a SKU without events in the range."""
    date: date
    event: str
    qty: int
    document_id: str | None
    note: str | None
    reversed: bool


@cache
def history_statement(since: bool, until: bool, limited: bool) -> Prepared[_HistoryRow]:
    """The history read for one combination of the optional ``start``, ``end``, ``limit``.

    The SKU's row is joined to its events (LEFT JOIN), so a SKU without events in the range
    still gives one row, all NULL, and an unknown SKU none. Bind ``sku`` and the optional
    ``start``, ``end``, ``limit``. Rows come newest first.
    """
    on = [_t.c.sku == _s.c.sku]
    if since:
        on.append(_t.c.date >= bindparam("start", type_=Date))
    if until:
        on.append(_t.c.date <= bindparam("end", type_=Date))
    stmt = (
        select(
            _t.c.transaction_id,
            _t.c.date,
            _t.c.event,
            _t.c.qty,
            _t.c.document_id,
            _t.c.note,
            _t.c.transaction_id.in_(select(_r.c.transaction_id)).label("reversed"),
        )
        .select_from(_s.outerjoin(_t, and_(*on)))
        .where(_s.c.sku == bindparam("sku"))
        .order_by(_t.c.date.desc(), _t.c.priority.desc(), _t.c.transaction_id.desc())
    )
    if limited:
        stmt = stmt.limit(bindparam("limit", type_=Integer))
    return Prepared(stmt, _HistoryRow)


def history(
    reader: Reader,
    sku: str,
    start: date | None,
    end: date | None,
    limit: int | None,
) -> list[HistoryEntry]:
    """The SKU's events between ``start`` and ``end`` (inclusive) in ledger order.

    With ``limit``, the newest ``limit`` events, still oldest first. One statement.

    Raises:
        NotFoundError: no such SKU.
    """
    if limit == 0:
        get_sku(reader, sku)
        return []
    params: dict[str, Any] = {"sku": sku}
    for name, value in (("start", start), ("end", end), ("limit", limit)):
        if value is not None:
            params[name] = value
    statement = history_statement(start is not None, end is not None, limit is not None)
    rows = reader.fetch(statement, params)
    if not rows:
        raise NotFoundError(entity="SKU", key=sku)
    return [
        HistoryEntry(
            transaction_id=r.transaction_id,
            sku=sku,
            date=r.date,
            event=_EVENTS[r.event],
            qty=r.qty,
            document_id=r.document_id,
            note=r.note,
            reversed=r.reversed,
        )
        for r in reversed(rows)
        if r.transaction_id is not None
    ]
