"""SKU planning fields: stored, validated, audited, exported; list_skus pages exactly."""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import text

from inventory_core import Database, Inventory, ReceiptLine
from inventory_core.backup import export_csv, import_csv
from inventory_core.db import migrations
from inventory_core.errors import InventoryError, ValidationError
from tests.db_support import test_settings

D = date(2026, 3, 2)
PLANNING = {
    "category": "Bevande",
    "shelf_life_days": 30,
    "reorder_point": 20,
    "safety_stock": 5,
    "max_stock": 96,
    "attributes": {"colore": "ambra", "gradi": 4.5, "tags": ["lager", "sfusa"]},
}


def test_planning_fields_round_trip_through_get_sku(any_db: Database) -> None:
    """Every planning field given to add_sku comes back from get_sku as given."""
    inv = Inventory(any_db, user="tester")
    inv.add_sku("BIRRA", "Birra", **PLANNING)
    info = inv.get_sku("BIRRA")
    for name, value in PLANNING.items():
        assert getattr(info, name) == value
    assert inv.get_sku("BIRRA") is not info


def test_planning_fields_default_to_unset(any_db: Database) -> None:
    """A SKU added without planning fields has them all None and no attributes."""
    inv = Inventory(any_db, user="tester")
    info = inv.add_sku("LATTE")
    assert (info.category, info.shelf_life_days, info.reorder_point) == (None, None, None)
    assert (info.safety_stock, info.max_stock, info.attributes) == (None, None, {})


def test_update_sku_sets_and_clears_planning_fields_with_an_audit_row(any_db: Database) -> None:
    """update_sku changes planning fields, None clears one, and the audit row shows both."""
    inv = Inventory(any_db, user="tester")
    inv.add_sku("BIRRA", **PLANNING)
    after = inv.update_sku("BIRRA", reorder_point=30, category=None, attributes={"a": 1})
    assert (after.reorder_point, after.category, after.attributes) == (30, None, {"a": 1})
    with any_db.read() as uow:
        details = uow.execute(
            text("SELECT details FROM audit_log ORDER BY audit_id DESC LIMIT 1")
        ).scalar_one()
    body = json.loads(details)
    assert body["before"]["reorder_point"] == 20 and body["after"]["reorder_point"] == 30
    assert body["before"]["category"] == "Bevande" and body["after"]["category"] is None


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("reorder_point", -1),
        ("safety_stock", -1),
        ("max_stock", 1.5),
        ("shelf_life_days", 0),
        ("shelf_life_days", True),
        ("category", ""),
        ("category", "Bev\u200bande"),
        ("attributes", ["not", "an", "object"]),
        ("attributes", {"when": date(2026, 1, 1)}),
        ("attributes", {"x": float("nan")}),
        ("attributes", {"k\x00": 1}),
        ("attributes", {"big": "x" * 5000}),
        ("attributes", {1: "int key"}),
    ],
)
def test_bad_planning_values_are_refused_naming_the_field(
    field: str, value: Any, db: Database
) -> None:
    """A bad planning value is a ValidationError naming its field, and nothing is written."""
    inv = Inventory(db, user="tester")
    with pytest.raises(ValidationError) as caught:
        inv.add_sku("BIRRA", **{field: value})
    assert caught.value.context["field"].startswith(field)
    assert inv.list_skus().items == ()


def test_max_stock_below_reorder_point_is_refused_on_add_and_update(any_db: Database) -> None:
    """max_stock under reorder_point is refused, also when an update makes it so."""
    inv = Inventory(any_db, user="tester")
    with pytest.raises(ValidationError):
        inv.add_sku("BIRRA", reorder_point=50, max_stock=10)
    inv.add_sku("BIRRA", reorder_point=10, max_stock=50)
    with pytest.raises(ValidationError) as caught:
        inv.update_sku("BIRRA", reorder_point=60)
    assert caught.value.context["field"] == "max_stock"
    assert inv.get_sku("BIRRA").reorder_point == 10


def test_the_database_refuses_bad_planning_values_written_behind_the_library(
    any_db: Database,
) -> None:
    """The CHECK constraints of revision 0006 hold for a raw UPDATE too."""
    Inventory(any_db, user="tester").add_sku("BIRRA", reorder_point=10)
    for assignment in ("reorder_point = -1", "max_stock = 5", "shelf_life_days = 0"):
        with pytest.raises(InventoryError), any_db.unit_of_work() as uow:
            uow.execute(text(f"UPDATE skus SET {assignment} WHERE sku = 'BIRRA'"))


def test_shelf_life_gives_a_received_lot_its_default_expiry(any_db: Database) -> None:
    """A line without expiry of a SKU with a shelf life makes a lot expiring that many days on."""
    inv = Inventory(any_db, user="tester")
    inv.add_sku("LATTE", shelf_life_days=7)
    inv.add_sku("SALE")
    inv.receive(
        "DDT-1",
        [
            ReceiptLine("LATTE", 10),
            ReceiptLine("LATTE", 5, expiry=date(2026, 3, 5)),
            ReceiptLine("SALE", 3),
        ],
        on=D,
    )
    lots = inv.lots("LATTE")
    assert [(lot.expiry_date, lot.qty_remaining) for lot in lots] == [
        (date(2026, 3, 5), 5),
        (date(2026, 3, 9), 10),
    ]
    assert inv.lots("SALE") == []


def _shop(inv: Inventory) -> list[str]:
    codes = []
    for n, (category, active) in enumerate(
        [("Bevande", True), ("Latticini", True), (None, False), ("Bevande", False)] * 5
    ):
        code = f"S{n:02d}{'_%' if n % 7 == 0 else ''}"
        inv.add_sku(
            code, f"Articolo {n} Ambra" if n % 3 else f"art {n}", category=category, active=active
        )
        codes.append(code)
    return codes


def test_list_skus_pages_through_every_sku_once_in_code_order(any_db: Database) -> None:
    """Following next_after visits every SKU exactly once, in code order."""
    inv = Inventory(any_db, user="tester")
    codes = _shop(inv)
    seen: list[str] = []
    after = None
    while True:
        page = inv.list_skus(limit=3, after=after)
        seen.extend(info.sku for info in page.items)
        if page.next_after is None:
            break
        after = page.next_after
    assert seen == sorted(codes)


def test_list_skus_filters_and_takes_like_wildcards_literally(any_db: Database) -> None:
    """active, category and search combine; '%' and '_' in a search match only themselves."""
    inv = Inventory(any_db, user="tester")
    codes = _shop(inv)
    page = inv.list_skus(active=True, category="Bevande", limit=100)
    assert {i.sku for i in page.items} == {c for n, c in enumerate(codes) if n % 4 == 0}
    assert {i.sku for i in inv.list_skus(search="_%").items} == {c for c in codes if "_%" in c}
    assert {i.sku for i in inv.list_skus(search="AMBRA").items} == {
        c for n, c in enumerate(codes) if n % 3
    }


@pytest.mark.parametrize(
    ("kwargs", "field"),
    [
        ({"limit": 0}, "limit"),
        ({"limit": 10_001}, "limit"),
        ({"active": "yes"}, "active"),
        ({"search": ""}, "search"),
        ({"after": " x"}, "after"),
        ({"category": 3}, "category"),
    ],
)
def test_list_skus_refuses_bad_arguments(kwargs: dict[str, Any], field: str, db: Database) -> None:
    """A bad filter, cursor or limit of list_skus is a ValidationError naming it."""
    with pytest.raises(ValidationError) as caught:
        Inventory(db, user="tester").list_skus(**kwargs)
    assert caught.value.context["field"] == field


@settings(
    max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    skus=st.lists(
        st.tuples(
            st.text("ABab%_x", min_size=1, max_size=4),
            st.sampled_from([None, "A", "B"]),
            st.booleans(),
        ),
        max_size=12,
        unique_by=lambda t: t[0],
    ),
    active=st.sampled_from([None, True, False]),
    category=st.sampled_from([None, "A", "B"]),
    search=st.sampled_from([None, "a", "%", "_", "b_", "X"]),
    limit=st.integers(1, 5),
)
def test_list_skus_matches_a_python_filter(
    tmp_path_factory: pytest.TempPathFactory,
    skus: list[tuple[str, str | None, bool]],
    active: bool | None,
    category: str | None,
    search: str | None,
    limit: int,
) -> None:
    """Every page of list_skus concatenated is the brute-force filter of the SKUs."""
    path = tmp_path_factory.mktemp("list") / "inventory.db"
    db = Database.open(f"sqlite:///{path}", settings=test_settings())
    db.upgrade()
    try:
        inv = Inventory(db, user="tester")
        for code, cat, on in skus:
            inv.add_sku(code, f"d {code}", category=cat, active=on)
        expected = sorted(
            code
            for code, cat, on in skus
            if (active is None or on == active)
            and (category is None or cat == category)
            and (
                search is None
                or search.lower() in code.lower()
                or search.lower() in f"d {code}".lower()
            )
        )
        got: list[str] = []
        after = None
        for _ in range(20):
            page = inv.list_skus(
                active=active, category=category, search=search, limit=limit, after=after
            )
            assert len(page.items) <= limit
            got.extend(i.sku for i in page.items)
            if page.next_after is None:
                break
            after = page.next_after
        assert got == expected
    finally:
        db.close()


def test_csv_snapshot_round_trips_the_planning_fields(any_url: str, tmp_path: Path) -> None:
    """Export then import into an empty database brings every planning field back."""
    src = Database.open(any_url, settings=test_settings())
    src.upgrade()
    Inventory(src, user="tester").add_sku("BIRRA", **PLANNING)
    Inventory(src, user="tester").add_sku("VUOTO")
    snapshot = export_csv(src, tmp_path / "snap")
    src.close()
    dst = Database.open(f"sqlite:///{tmp_path / 'copy.db'}", settings=test_settings())
    dst.upgrade()
    try:
        import_csv(dst, snapshot)
        inv = Inventory(dst, user="tester")
        assert inv.get_sku("BIRRA") == Inventory(dst).get_sku("BIRRA")
        for name, value in PLANNING.items():
            assert getattr(inv.get_sku("BIRRA"), name) == value
        assert inv.get_sku("VUOTO").attributes == {}
    finally:
        dst.close()


def test_upgrading_from_0005_keeps_skus_with_unset_planning_fields(any_url: str) -> None:
    """A SKU written before revision 0006 reads back with every planning field unset."""
    db = Database.open(any_url, settings=test_settings())
    db.upgrade()
    Inventory(db, user="tester").add_sku("BIRRA", "Birra", pack_size=6)
    migrations.downgrade(db.engine, "0005_database_identity")
    migrations.upgrade(db.engine)
    info = Inventory(db, user="tester").get_sku("BIRRA")
    assert (info.pack_size, info.category, info.max_stock, info.attributes) == (6, None, None, {})
    db.close()
