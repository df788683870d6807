"""Prepared statements: compiled once per dialect, run on the driver cursor in the unit."""

from __future__ import annotations

from datetime import date

import pytest
from sqlalchemy import Table, bindparam, func, insert, select
from sqlalchemy.dialects import sqlite

from inventory_core import Database, Inventory
from inventory_core.db.prepared import Prepared, as_date
from inventory_core.errors import DuplicateError
from inventory_core.models import Sale, Sku

SALES: Table = Sale.__table__  # type: ignore[assignment]
SKUS: Table = Sku.__table__  # type: ignore[assignment]

ADD_SALE = Prepared(
    insert(SALES).values(sku=bindparam("sku"), date=bindparam("day"), qty_sold=bindparam("qty"))
)
NEWEST_SALE = Prepared(
    select(SALES.c.date, SALES.c.qty_sold, SALES.c.promo_flag)
    .where(SALES.c.sku == bindparam("sku"))
    .order_by(SALES.c.date.desc())
    .limit(1)
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
        uow.run_prepared(ADD_SALE, {"sku": "BIRRA", "day": date(2026, 2, 3), "qty": 4})
        row = uow.run_prepared(NEWEST_SALE, {"sku": "BIRRA"}).fetchone()
        uow.commit()
    assert (as_date(row[0]), int(row[1]), bool(row[2])) == (date(2026, 2, 3), 4, False)


def test_dates_are_stored_as_the_orm_stores_them(inv: Inventory) -> None:
    """A date written through the cursor reads back equal through a Core statement."""
    with inv.db.unit_of_work() as uow:
        uow.run_prepared(ADD_SALE, {"sku": "BIRRA", "day": date(2026, 2, 3), "qty": 1})
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
        uow.run_prepared(ADD_SALE, params)
        uow.run_prepared(ADD_SALE, params)
        uow.commit()
    with inv.db.read() as uow:
        assert uow.execute(select(func.count()).select_from(SALES)).scalar_one() == 0
