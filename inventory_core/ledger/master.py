"""SKU master data: create, change, read (with the history queries beside them)."""

from __future__ import annotations

from datetime import date
from typing import Any, cast

from sqlalchemy import Table, bindparam, insert, select, update

from inventory_core.db.uow import UnitOfWork
from inventory_core.errors import DuplicateError, NotFoundError
from inventory_core.ledger.inputs import SkuChanges, SkuIn
from inventory_core.ledger.readmodels import HistoryEntry, SkuInfo
from inventory_core.models import EventType, Sku, Transaction, TransactionReversal, utc_now_iso

_s = cast(Table, Sku.__table__)
_t = cast(Table, Transaction.__table__)
_r = cast(Table, TransactionReversal.__table__)

SKU_FIELDS = ("description", "ean", "pack_size", "moq", "lead_time_days", "active")

_get_sku = select(_s.c.sku, *(_s.c[name] for name in SKU_FIELDS)).where(
    _s.c.sku == bindparam("sku")
)


def _info(row: Any) -> SkuInfo:
    return SkuInfo(
        sku=row[0],
        description=row[1],
        ean=row[2],
        pack_size=row[3],
        moq=row[4],
        lead_time_days=row[5],
        active=bool(row[6]),
    )


def find_sku(uow: UnitOfWork, sku: str) -> SkuInfo | None:
    """The SKU's master data, or None."""
    row: Any = uow.execute(_get_sku, {"sku": sku}).first()
    return None if row is None else _info(row)


def get_sku(uow: UnitOfWork, sku: str) -> SkuInfo:
    """The SKU's master data.

    Raises:
        NotFoundError: no such SKU.
    """
    info = find_sku(uow, sku)
    if info is None:
        raise NotFoundError(entity="SKU", key=sku)
    return info


def add_sku(uow: UnitOfWork, data: SkuIn) -> SkuInfo:
    """Insert a SKU, refusing a code that exists (checked first for a clear message).

    Raises:
        DuplicateError: the code is taken.
    """
    if find_sku(uow, data.sku) is not None:
        raise DuplicateError(f"SKU '{data.sku}' already exists", entity="SKU", key=data.sku)
    uow.execute(insert(_s).values(**data.model_dump()))
    return get_sku(uow, data.sku)


def update_sku(uow: UnitOfWork, sku: str, changes: SkuChanges) -> tuple[SkuInfo, SkuInfo]:
    """Apply the given fields; return the master data before and after."""
    before = get_sku(uow, sku)
    values = changes.model_dump(exclude_unset=True)
    if values:
        uow.execute(update(_s).where(_s.c.sku == sku).values(**values, updated_at=utc_now_iso()))
    return before, get_sku(uow, sku)


def history(
    uow: UnitOfWork,
    sku: str,
    start: date | None,
    end: date | None,
    limit: int | None,
) -> list[HistoryEntry]:
    """The SKU's events between ``start`` and ``end`` (inclusive) in ledger order.

    With ``limit``, the newest ``limit`` events, still oldest first.
    """
    reversed_flag = _t.c.transaction_id.in_(select(_r.c.transaction_id))
    stmt = select(
        _t.c.transaction_id,
        _t.c.date,
        _t.c.event,
        _t.c.qty,
        _t.c.document_id,
        _t.c.note,
        reversed_flag.label("reversed"),
    ).where(_t.c.sku == sku)
    if start is not None:
        stmt = stmt.where(_t.c.date >= start)
    if end is not None:
        stmt = stmt.where(_t.c.date <= end)
    newest_first = (_t.c.date.desc(), _t.c.priority.desc(), _t.c.transaction_id.desc())
    stmt = stmt.order_by(*newest_first)
    if limit is not None:
        stmt = stmt.limit(limit)
    rows: list[Any] = list(uow.execute(stmt))
    rows.reverse()
    return [
        HistoryEntry(
            transaction_id=int(r[0]),
            sku=sku,
            date=r[1],
            event=EventType(r[2]),
            qty=int(r[3]),
            document_id=r[4],
            note=r[5],
            reversed=bool(r[6]),
        )
        for r in rows
    ]
