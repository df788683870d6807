"""Listing SKUs, and what their planning fields decide elsewhere (a lot's default expiry).

The list is paginated by key (``after`` the last code of the previous page), not by
offset: a page costs one index range read however deep it is, and a SKU added or removed
between two pages neither repeats nor skips another one.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date, timedelta
from typing import Annotated, Any, cast

import pydantic
from pydantic import AfterValidator, BaseModel, ConfigDict, Field
from sqlalchemy import Table, func, select

from inventory_core.db.uow import UnitOfWork
from inventory_core.ledger.inputs import Category, Code, not_blank, validate
from inventory_core.ledger.master import SKU_FIELDS, sku_info
from inventory_core.ledger.readmodels import SkuPage
from inventory_core.ledger.rules import MAX_DATE, check_text
from inventory_core.models import Sku

_s = cast(Table, Sku.__table__)

MAX_PAGE = 10_000
"""Most SKUs on one page of :func:`list_skus`."""


def like_pattern(text: str) -> str:
    """``%text%`` for ``LIKE ... ESCAPE '\\'``, with ``%``, ``_`` and ``\\`` taken literally."""
    escaped = text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return f"%{escaped}%"


def list_statement(
    *,
    active: bool | None,
    category: str | None,
    search: str | None,
    after: str | None,
    limit: int,
) -> Any:
    """The page query: SKUs in code order matching every filter given, ``limit`` of them.

    ``search`` matches a substring of the code or the description, ignoring case as the
    backend's ``lower()`` does (ASCII letters on SQLite, every letter on PostgreSQL).
    """
    stmt = select(_s.c.sku, *(_s.c[name] for name in SKU_FIELDS)).order_by(_s.c.sku).limit(limit)
    if active is not None:
        stmt = stmt.where(_s.c.active == active)
    if category is not None:
        stmt = stmt.where(_s.c.category == category)
    if search is not None:
        pattern = func.lower(like_pattern(search))
        stmt = stmt.where(
            func.lower(_s.c.sku).like(pattern, escape="\\")
            | func.lower(_s.c.description).like(pattern, escape="\\")
        )
    if after is not None:
        stmt = stmt.where(_s.c.sku > after)
    return stmt


def list_skus(
    uow: UnitOfWork,
    *,
    active: bool | None = None,
    category: str | None = None,
    search: str | None = None,
    after: str | None = None,
    limit: int = 100,
) -> SkuPage:
    """One page of SKUs (one statement; one row more than the page says if another follows)."""
    stmt = list_statement(
        active=active, category=category, search=search, after=after, limit=limit + 1
    )
    rows = uow.fetch(stmt)
    items = tuple(sku_info(row) for row in rows[:limit])
    more = len(rows) > limit and items
    return SkuPage(items=items, next_after=items[-1].sku if more else None)


def shelf_lives(uow: UnitOfWork, skus: Iterable[str]) -> dict[str, int]:
    """The ``shelf_life_days`` of those SKUs that have one set."""
    codes = sorted(set(skus))
    if not codes:
        return {}
    rows = uow.fetch(
        select(_s.c.sku, _s.c.shelf_life_days).where(
            _s.c.sku.in_(codes), _s.c.shelf_life_days.is_not(None)
        )
    )
    return {row.sku: int(row.shelf_life_days) for row in rows}


def default_expiry(received: date, shelf_life_days: int | None) -> date | None:
    """A received lot's expiry when its line gives none: the receipt date plus the SKU's
    shelf life (capped at the last ledger date), or None when the SKU has no shelf life."""
    if shelf_life_days is None:
        return None
    if (MAX_DATE - received).days < shelf_life_days:
        return MAX_DATE
    return received + timedelta(days=shelf_life_days)


SearchText = Annotated[
    str,
    pydantic.Strict(),
    Field(max_length=200),
    AfterValidator(not_blank),
    AfterValidator(check_text),
]
"""What ``search`` looks for: up to 200 characters of text, not only spaces."""


class _Listing(BaseModel):
    """The filters of :func:`list_skus`, validated like every other input."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    active: pydantic.StrictBool | None = None
    category: Category | None = None
    search: SearchText | None = None
    after: Code | None = None
    limit: Annotated[int, pydantic.Strict(), Field(ge=1, le=MAX_PAGE)] = 100


def validate_listing(
    active: Any, category: Any, search: Any, after: Any, limit: Any
) -> dict[str, Any]:
    """The keyword arguments of :func:`list_skus`, or :class:`ValidationError`."""
    query = validate(
        _Listing, active=active, category=category, search=search, after=after, limit=limit
    )
    return query.model_dump()
