"""Input validation: bad values raise ValidationError naming the field, and write nothing."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

import pytest

from inventory_core import Database, Inventory, ReceiptLine
from inventory_core.errors import DuplicateError, ValidationError
from inventory_core.ledger.inputs import ean13_check_digit
from tests.ledger_support import day, row_counts


@pytest.fixture
def inv(db: Database) -> Inventory:
    """An Inventory on SQLite with one SKU."""
    inventory = Inventory(db, user="tester")
    inventory.add_sku("BIRRA")
    inventory.snapshot("BIRRA", 10, on=day(0))
    return inventory


@pytest.mark.parametrize(
    "code",
    ["", " BIRRA", "BIRRA ", "A" * 65, "BIR\nRA", "BIR\x00RA", "BI\u200bRA", 42, None],
)
def test_bad_sku_codes_are_refused_naming_the_field(inv: Inventory, code: Any) -> None:
    """Empty, over-long, padded, control-character or non-string codes name 'sku'."""
    before = row_counts(inv.db)
    with pytest.raises(ValidationError) as info:
        inv.add_sku(code)
    assert info.value.context["field"] == "sku"
    with pytest.raises(ValidationError) as info:
        inv.sell(code, 1, on=day(1))
    assert info.value.context["field"] == "sku"
    assert row_counts(inv.db) == before


def test_a_64_character_code_with_inner_spaces_is_accepted(inv: Inventory) -> None:
    """The longest allowed code, with spaces inside, is stored as given."""
    code = "A B" + "x" * 61
    assert inv.add_sku(code).sku == code


@pytest.mark.parametrize(
    ("method", "qty"),
    [
        ("sell", 0),
        ("sell", -1),
        ("waste", 0),
        ("order", 0),
        ("unfulfilled", -3),
        ("adjust", 0),
        ("snapshot", -1),
        ("sell", 1.5),
        ("sell", True),
        ("sell", "3"),
        ("sell", 10**10),
    ],
)
def test_quantities_with_the_wrong_sign_or_type_are_refused(
    inv: Inventory, method: str, qty: Any
) -> None:
    """Each event's qty rule (> 0, >= 0 or != 0, an integer) names 'qty'."""
    before = row_counts(inv.db)
    with pytest.raises(ValidationError) as info:
        getattr(inv, method)("BIRRA", qty, on=day(1))
    assert info.value.context["field"] == "qty"
    assert row_counts(inv.db) == before


@pytest.mark.parametrize(
    "when", [datetime(2026, 2, 3, 10, 0), "not a date", date(1800, 1, 1), None]
)
def test_dates_must_be_real_dates(inv: Inventory, when: Any) -> None:
    """A datetime, garbage text or an out-of-range date names 'on'."""
    with pytest.raises(ValidationError) as info:
        inv.sell("BIRRA", 1, on=when)
    assert info.value.context["field"] == "on"


def test_ean13_check_digit_is_verified(inv: Inventory) -> None:
    """A valid EAN-13 is stored; a wrong check digit or length names 'ean'."""
    good = "400638133393" + str(ean13_check_digit("400638133393"))
    assert good == "4006381333931"
    assert inv.add_sku("WATER", ean=good).ean == good
    for bad in ("4006381333932", "400638133393", "40063813339X1"):
        with pytest.raises(ValidationError) as info:
            inv.add_sku("OTHER", ean=bad)
        assert info.value.context["field"] == "ean"


def test_adding_an_existing_sku_is_a_duplicate(inv: Inventory) -> None:
    """add_sku of an existing code raises DuplicateError before touching the table."""
    before = row_counts(inv.db)
    with pytest.raises(DuplicateError, match="BIRRA"):
        inv.add_sku("BIRRA", "again")
    assert row_counts(inv.db) == before


def test_master_data_numbers_are_checked(inv: Inventory) -> None:
    """pack_size below 1 and negative moq or lead time are refused by field."""
    for field, value in (("pack_size", 0), ("moq", -1), ("lead_time_days", -2)):
        with pytest.raises(ValidationError) as info:
            inv.add_sku("NEW", **{field: value})
        assert info.value.context["field"] == field
    with pytest.raises(ValidationError) as info:
        inv.update_sku("BIRRA", colour="red")
    assert info.value.context["field"] == "colour"


def test_bad_receipt_lines_name_the_line(inv: Inventory) -> None:
    """A bad line of a document names lines[i].field; an empty document names 'lines'."""
    before = row_counts(inv.db)
    with pytest.raises(ValidationError) as info:
        inv.receive("D1", [ReceiptLine("BIRRA", 5), ReceiptLine("BIRRA", 0)], on=day(1))
    assert info.value.context["field"] == "lines[1].qty"
    with pytest.raises(ValidationError) as info:
        inv.receive("D1", [ReceiptLine(" BIRRA", 5)], on=day(1))
    assert info.value.context["field"] == "lines[0].sku"
    with pytest.raises(ValidationError) as info:
        inv.receive("D1", [], on=day(1))
    assert info.value.context["field"] == "lines"
    with pytest.raises(ValidationError) as info:
        inv.receive("", [ReceiptLine("BIRRA", 5)], on=day(1))
    assert info.value.context["field"] == "document_id"
    assert row_counts(inv.db) == before


def test_expected_date_before_the_order_is_refused(inv: Inventory) -> None:
    """An order expected before it was placed names 'expected'."""
    with pytest.raises(ValidationError) as info:
        inv.order("BIRRA", 5, on=day(3), expected=day(2))
    assert info.value.context["field"] == "expected"


def test_revert_needs_a_reason(inv: Inventory) -> None:
    """A blank reason names 'reason' and reverts nothing."""
    tid = inv.sell("BIRRA", 1, on=day(1))
    with pytest.raises(ValidationError) as info:
        inv.revert(tid, reason="  ")
    assert info.value.context["field"] == "reason"
    assert not inv.history("BIRRA")[-1].reversed


def test_record_many_names_the_bad_event(inv: Inventory) -> None:
    """A bad event in a batch names events[i].field and nothing of the batch is written."""
    before = row_counts(inv.db)
    batch = [
        {"sku": "BIRRA", "event": "SALE", "qty": 1, "date": day(1)},
        {"sku": "BIRRA", "event": "SALE", "qty": -1, "date": day(1)},
    ]
    with pytest.raises(ValidationError) as info:
        inv.record_many(batch)
    assert info.value.context["field"] == "events[1].qty"
    with pytest.raises(ValidationError) as info:
        inv.record_many(
            [{"sku": "BIRRA", "event": "SALE", "qty": 1, "date": day(1), "expiry": day(9)}]
        )
    assert info.value.context["field"] == "events[0].expiry"
    assert row_counts(inv.db) == before
