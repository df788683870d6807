"""Prepared statements: compiled once per dialect, run on the driver cursor in the unit,
rows named and typed the same way inside and outside a unit of work."""

from __future__ import annotations

from datetime import date
from typing import NamedTuple

import pytest
from sqlalchemy import Table, bindparam, func, insert, select, text
from sqlalchemy.dialects import sqlite

from inventory_core import Database, Inventory
from inventory_core.db.prepared import Prepared
from inventory_core.errors import DuplicateError
from inventory_core.models import Sale, Sku

SALES: Table = Sale.__table__  # type: ignore[assignment]
SKUS: Table = Sku.__table__  # type: ignore[assignment]

ADD_SALE = Prepared(
    insert(SALES).values(sku=bindparam("sku"), date=bindparam("day"), qty_sold=bindparam("qty"))
)


class NewestSale(NamedTuple):
    date: date
    qty_sold: int
    promo_flag: bool


NEWEST_SALE = Prepared(
    select(SALES.c.date, SALES.c.qty_sold, SALES.c.promo_flag)
    .where(SALES.c.sku == bindparam("sku"))
    .order_by(SALES.c.date.desc())
    .limit(1),
    NewestSale,
)


@pytest.fixture
def inv(any_db: Database) -> Inventory:
    """An Inventory with one SKU."""
    inventory = Inventory(any_db, user="tester")
    inventory.add_sku("BIRRA")
    return inventory


def test_a_statement_is_compiled_once_per_dialect() -> None:
    """The second lookup returns the same compiled form; positional names follow the SQL."""
    dialect = sqlite.dialect()
    first = NEWEST_SALE.compiled(dialect)
    assert NEWEST_SALE.compiled(dialect) is first
    assert first.names is not None and first.names[0] == "sku"
    assert "LIMIT" in first.sql


def test_literals_and_scalar_defaults_need_not_be_given(inv: Inventory) -> None:
    """LIMIT's bound value and promo_flag's default come from the statement itself."""
    with inv.db.unit_of_work() as uow:
        uow.fetch(ADD_SALE, {"sku": "BIRRA", "day": date(2026, 2, 3), "qty": 4})
        row = uow.fetch_one(NEWEST_SALE, {"sku": "BIRRA"})
        uow.commit()
    assert row == NewestSale(date(2026, 2, 3), 4, False)


def test_rows_are_the_declared_class_with_typed_values_in_and_out_of_a_unit(
    inv: Inventory,
) -> None:
    """A date comes back as a date and a flag as a bool, by name, whichever way it is read."""
    inv.db.run(lambda uow: uow.fetch(ADD_SALE, {"sku": "BIRRA", "day": date(2026, 2, 3), "qty": 2}))
    with inv.db.read() as uow:
        inside = uow.fetch_one(NEWEST_SALE, {"sku": "BIRRA"})
    alone = inv.db.fetch_one(NEWEST_SALE, {"sku": "BIRRA"})
    for row in (inside, alone):
        assert isinstance(row, NewestSale)
        assert type(row.date) is date and type(row.promo_flag) is bool
        assert type(row.qty_sold) is int
    assert inside == alone == NewestSale(date(2026, 2, 3), 2, False)


def test_a_statement_without_a_row_class_gives_rows_named_after_its_columns(
    inv: Inventory,
) -> None:
    """Columns are fields by name, as SQLAlchemy would label them."""
    statement = Prepared(select(SKUS.c.sku, SKUS.c.pack_size))
    row = inv.db.fetch_one(statement)
    assert row is not None and (row.sku, row.pack_size) == ("BIRRA", 1)


def test_a_row_class_that_does_not_match_the_columns_is_refused(any_db: Database) -> None:
    """Declaring a row class with the wrong number of fields fails at first use, loudly."""
    statement = Prepared(select(SKUS.c.sku, SKUS.c.pack_size), NewestSale)
    with pytest.raises(TypeError, match="one field per column"):
        any_db.fetch(statement)


def test_a_write_without_returning_gives_no_rows(inv: Inventory) -> None:
    """fetch of an INSERT without RETURNING is an empty list, on the cursor and committed."""
    with inv.db.unit_of_work() as uow:
        assert uow.fetch(ADD_SALE, {"sku": "BIRRA", "day": date(2026, 2, 4), "qty": 1}) == []
        uow.commit()
    count = Prepared(text("SELECT count(*) AS n FROM sales"))
    assert [row.n for row in inv.db.fetch(count)] == [1]


def test_dates_are_stored_as_the_orm_stores_them(inv: Inventory) -> None:
    """A date written through the cursor reads back equal through a Core statement."""
    with inv.db.unit_of_work() as uow:
        uow.fetch(ADD_SALE, {"sku": "BIRRA", "day": date(2026, 2, 3), "qty": 1})
        uow.commit()
    with inv.db.read() as uow:
        stored = uow.execute(
            select(func.count()).select_from(SALES).where(SALES.c.date == date(2026, 2, 3))
        ).scalar_one()
    assert stored == 1


def test_driver_errors_are_translated_and_roll_back(inv: Inventory) -> None:
    """A duplicate key raised on the cursor is a DuplicateError and the unit writes nothing."""
    params = {"sku": "BIRRA", "day": date(2026, 2, 3), "qty": 1}
    with pytest.raises(DuplicateError), inv.db.unit_of_work() as uow:
        uow.fetch(ADD_SALE, params)
        uow.fetch(ADD_SALE, params)
        uow.commit()
    with inv.db.read() as uow:
        assert uow.execute(select(func.count()).select_from(SALES)).scalar_one() == 0
