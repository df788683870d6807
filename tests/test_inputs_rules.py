"""The input rules: strict dates, one NFC spelling per code, limits both backends store.

Every case runs on SQLite and on PostgreSQL and must give the same typed error, naming the
same field, with nothing written.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Callable
from datetime import date, datetime
from typing import Any

import pytest

from inventory_core import Database, Inventory, ReceiptLine, audit
from inventory_core.errors import (
    DuplicateError,
    InventoryError,
    StockLimitError,
    ValidationError,
)
from inventory_core.ledger.rules import MAX_INT, MAX_QTY
from inventory_core.ledger.stock_history import stock_history
from tests.ledger_support import day, row_counts

NFC = "\u00e9"
NFD = "e\u0301"
SALE = {"sku": "BIRRA", "event": "SALE", "qty": 1}


@pytest.fixture
def inv(any_db: Database) -> Inventory:
    """BIRRA counted at 100 with an open order (id 1), on SQLite and PostgreSQL."""
    inventory = Inventory(any_db, user="tester")
    inventory.add_sku("BIRRA")
    inventory.snapshot("BIRRA", 100, on=day(0))
    inventory.order("BIRRA", 10, on=day(0))
    return inventory


def refused(inv: Inventory, call: Callable[[], Any]) -> ValidationError:
    """Run ``call``; it must raise ValidationError and write nothing. Return the error."""
    before = row_counts(inv.db)
    with pytest.raises(ValidationError) as info:
        call()
    assert row_counts(inv.db) == before
    return info.value


DATE_PARAMETERS: list[tuple[str, Callable[[Inventory, Any], Any]]] = [
    ("on", lambda inv, v: inv.sell("BIRRA", 1, on=v)),
    ("on", lambda inv, v: inv.snapshot("BIRRA", 1, on=v)),
    ("on", lambda inv, v: inv.waste("BIRRA", 1, on=v)),
    ("on", lambda inv, v: inv.adjust("BIRRA", 1, on=v)),
    ("on", lambda inv, v: inv.unfulfilled("BIRRA", 1, on=v)),
    ("on", lambda inv, v: inv.order("BIRRA", 1, on=v)),
    ("expected", lambda inv, v: inv.order("BIRRA", 1, on=day(1), expected=v)),
    ("on", lambda inv, v: inv.receive("D1", [ReceiptLine("BIRRA", 1)], on=v)),
    ("lines[0].expiry", lambda inv, v: inv.receive(
        "D1", [ReceiptLine("BIRRA", 1, None, v)], on=day(1))),
    ("events[0].date", lambda inv, v: inv.record_many([{**SALE, "date": v}])),
    ("events[0].expiry", lambda inv, v: inv.record_many(
        [{**SALE, "event": "RECEIPT", "date": day(1), "expiry": v}])),
    ("asof", lambda inv, v: inv.stock("BIRRA", asof=v)),
    ("asof", lambda inv, v: inv.stock_all(asof=v)),
    ("start", lambda inv, v: inv.history("BIRRA", start=v)),
    ("end", lambda inv, v: inv.history("BIRRA", end=v)),
    ("start", lambda inv, v: stock_history(inv.db, "BIRRA", start=v)),
    ("end", lambda inv, v: stock_history(inv.db, "BIRRA", end=v)),
]  # fmt: skip
"""Every public parameter that takes a date, and the field its error names."""

NOT_DATES = [
    "2026-03-12", "1773273600", b"2026-02-01", 1769904000, 1769904000.0, 0,
    datetime(2026, 2, 1, 10, 30), datetime(2026, 2, 1),
]  # fmt: skip


def test_every_date_parameter_takes_a_date_and_nothing_else(inv: Inventory) -> None:
    """Strings, epochs, bytes, numbers and datetimes are VAL_001 naming the field and type."""
    wrong: list[str] = []
    for field, call in DATE_PARAMETERS:
        for value in NOT_DATES:
            error = refused(inv, lambda call=call, value=value: call(inv, value))
            named = (error.code, error.context["field"]) == ("VAL_001", field)
            typed = "datetime.date" in error.message and type(value).__name__ in error.message
            if not (named and typed):
                wrong.append(f"{field}={value!r}: {error}")
        for value in (date(2026, 3, 12), date(2026, 4, 1)):
            try:
                call(inv, value)
            except ValidationError as exc:
                wrong.append(f"{field}={value!r} refused: {exc}")
            except InventoryError:
                pass
    assert not wrong, "\n".join(wrong)


def test_a_datetime_is_refused_with_a_hint_to_take_its_date(inv: Inventory) -> None:
    """A datetime says it would lose its time, and how to pass the date."""
    error = refused(inv, lambda: inv.sell("BIRRA", 1, on=datetime(2026, 2, 1, 23, 30)))
    assert "not a datetime" in error.message and "value.date()" in error.message


ISSUE_EXAMPLES: list[tuple[str, Callable[[Inventory], Any]]] = [
    ("transaction_id", lambda inv: inv.revert(2**63, reason="typo")),
    ("lot_id", lambda inv: inv.waste("BIRRA", 1, on=day(1), lot_id=2**63)),
    ("lines[0].order_id", lambda inv: inv.receive(
        "D1", [ReceiptLine("BIRRA", 1, order_id=2**70)], on=day(1))),
    ("lines[0].order_id", lambda inv: inv.receive(
        "D1", [ReceiptLine("BIRRA", 1, order_id=2**31)], on=day(1))),
    ("limit", lambda inv: inv.history("BIRRA", limit=2**63)),
    ("sku", lambda inv: inv.get_sku(2**70)),  # type: ignore[arg-type]
    ("sku", lambda inv: inv.stock(2**70)),  # type: ignore[arg-type]
    ("sku", lambda inv: inv.lots(2**70)),  # type: ignore[arg-type]
    ("sku", lambda inv: inv.add_sku("A\ud800")),
    ("sku", lambda inv: inv.stock("A\ud800")),
    ("document_id", lambda inv: inv.receive("D\ud800", [ReceiptLine("BIRRA", 1)], on=day(1))),
    ("reason", lambda inv: inv.revert(1, reason="r\ud800")),
    ("user", lambda inv: Inventory(inv.db, user="u\ud800")),
    ("user", lambda inv: Inventory(inv.db, user=7)),  # type: ignore[arg-type]
    ("lines", lambda inv: inv.receive("D1", 5, on=day(1))),  # type: ignore[arg-type]
    ("events[0]", lambda inv: inv.record_many([5])),  # type: ignore[list-item]
    ("events[0]", lambda inv: inv.record_many(["x"])),  # type: ignore[list-item]
    ("events", lambda inv: inv.record_many(5)),  # type: ignore[arg-type]
    ("chunk_size", lambda inv: Inventory(inv.db, chunk_size=0)),
    ("chunk_size", lambda inv: Inventory(inv.db, chunk_size=-1)),
    ("chunk_size", lambda inv: setattr(inv, "chunk_size", -1)),
    ("note", lambda inv: inv.sell("BIRRA", 1, on=day(1), note="a\x00b")),
    ("note", lambda inv: inv.sell("BIRRA", 1, on=day(1), note="x" * 100_000)),
    ("description", lambda inv: inv.add_sku("NEW", "a\x00b")),
    ("description", lambda inv: inv.update_sku("BIRRA", description="x" * 100_000)),
    ("description", lambda inv: inv.update_sku("BIRRA", description=None)),
    ("pack_size", lambda inv: inv.update_sku("BIRRA", pack_size=None)),
    ("user", lambda inv: Inventory(inv.db, user="u\x00")),
    ("user", lambda inv: Inventory(inv.db, user="u" * 100_000)),
    ("reason", lambda inv: inv.revert(1, reason="x" * 501)),
    ("db", lambda inv: Inventory("sqlite:///x.db")),  # type: ignore[arg-type]
]  # fmt: skip
"""The values point 2 of the issue lists, and their neighbours."""


def test_out_of_range_and_unstorable_values_are_val_errors_before_any_write(
    inv: Inventory,
) -> None:
    """Each one is VAL_001 naming the field, the same on both backends, and writes nothing."""
    wrong: list[str] = []
    for field, call in ISSUE_EXAMPLES:
        error = refused(inv, lambda call=call: call(inv))
        if (error.code, error.context["field"]) != ("VAL_001", field):
            wrong.append(f"expected {field}, got {error}")
    assert not wrong, "\n".join(wrong)


def test_chunk_size_minus_one_no_longer_swallows_the_batch(inv: Inventory) -> None:
    """Inventory(chunk_size=-1) is refused instead of returning chunks=0 and writing nothing."""
    with pytest.raises(ValidationError, match="chunk_size"):
        Inventory(inv.db, chunk_size=-1).record_many([{**SALE, "date": day(1)}])
    result = Inventory(inv.db, chunk_size=1).record_many([{**SALE, "date": day(1)}] * 2)
    assert (result.events, result.chunks) == (2, 2)


def test_the_user_of_an_audit_run_is_checked_before_the_write(inv: Inventory) -> None:
    """A bad user given to audit.run is VAL_001 'user' at the write, which writes nothing."""
    for bad in (7, "u\x00", "u" * 65):
        with audit.run(user=bad):  # type: ignore[arg-type]
            error = refused(inv, lambda: Inventory(inv.db).sell("BIRRA", 1, on=day(1)))
        assert error.context["field"] == "user"


def test_a_decomposed_code_is_the_same_sku_as_its_composed_form(inv: Inventory) -> None:
    """ "e\u0301" is stored as "é": adding it twice is a duplicate, and every read finds it."""
    assert inv.add_sku("CAF" + NFD).sku == "CAF" + NFC
    with pytest.raises(DuplicateError):
        inv.add_sku("CAF" + NFC)
    inv.snapshot("CAF" + NFD, 5, on=day(0))
    inv.receive("DDT-" + NFD, [ReceiptLine("CAF" + NFD, 2, expiry=day(30))], on=day(1))
    replay = inv.receive("DDT-" + NFC, [ReceiptLine("CAF" + NFC, 2, expiry=day(30))], on=day(1))
    assert replay.replayed and replay.document_id == "DDT-" + NFC
    assert inv.get_sku("CAF" + NFD).sku == "CAF" + NFC
    assert inv.stock("CAF" + NFD).on_hand == 7
    assert [lot.qty_remaining for lot in inv.lots("CAF" + NFD)] == [2]
    assert len(inv.history("CAF" + NFD)) == 2
    assert list(inv.stock_all()) == sorted(["BIRRA", "CAF" + NFC])
    assert [e.operation for e in audit.by_sku(inv.db, "CAF" + NFD)][:2] == ["add_sku", "snapshot"]
    stored = {code for code in inv.stock_all()}
    assert all(unicodedata.is_normalized("NFC", code) for code in stored)


LOOK_ALIKES = [
    ("BI\u200bRRA", "U+200B ZERO WIDTH SPACE"),
    ("BIRRA\u2060", "U+2060 WORD JOINER"),
    ("\ufeffBIRRA", "U+FEFF ZERO WIDTH NO-BREAK SPACE"),
    ("BIR\u202eRA", "U+202E RIGHT-TO-LEFT OVERRIDE"),
    ("BIR\u00adRA", "U+00AD SOFT HYPHEN"),
    ("BIRRA\x1bX", "U+001B ESC"),
    ("BIR RA\u00a0X", "U+00A0 NO-BREAK SPACE"),
    ("BIRR\u0410", "U+0410 CYRILLIC CAPITAL LETTER A"),
    ("\u0392IRRA", "U+0392 GREEK CAPITAL LETTER BETA"),
    ("\uff22IRRA", "U+FF22 FULLWIDTH LATIN CAPITAL LETTER B"),
    ("BIRRA\u00b2", "U+00B2 SUPERSCRIPT TWO"),
    ("\u3164", "U+3164 HANGUL FILLER"),
    ("\u0301BIRRA", "U+0301 COMBINING ACUTE ACCENT"),
]


def test_invisible_and_look_alike_characters_are_refused_by_name(inv: Inventory) -> None:
    """A code with a character that prints as nothing or as another one names that character."""
    for code, named in LOOK_ALIKES:
        error = refused(inv, lambda code=code: inv.add_sku(code))
        assert error.context["field"] == "sku"
        assert named in error.message, error.message
        assert code not in error.message


def test_ordinary_unicode_codes_are_accepted(inv: Inventory) -> None:
    """Accented Latin, CJK, Cyrillic or Greek alone, inner spaces and symbols are codes."""
    for code in ["Café-Ü", "漢字-01", "ПИВО-05", "ΜΠΥΡΑ", "A B", "€-5", "Ñandú"]:
        assert inv.add_sku(code).sku == code
        assert inv.get_sku(code).sku == code


def test_document_ids_follow_the_code_rules(inv: Inventory) -> None:
    """A document id with a zero-width space is refused; its NFD form is the NFC one."""
    error = refused(inv, lambda: inv.receive("DDT\u200b1", [ReceiptLine("BIRRA", 1)], on=day(1)))
    assert error.context["field"] == "document_id"
    error = refused(
        inv,
        lambda: inv.record_many(
            [{**SALE, "event": "RECEIPT", "date": day(1), "document_id": "D\u200b"}]
        ),
    )
    assert error.context["field"] == "events[0].document_id"


def test_stock_above_a_32_bit_integer_is_refused_on_every_path(inv: Inventory) -> None:
    """on_hand past 2**31 - 1 is VAL_010 on single, backdated and bulk writes alike."""
    inv.adjust("BIRRA", MAX_QTY, on=day(1))
    inv.adjust("BIRRA", MAX_QTY, on=day(2))
    before = row_counts(inv.db)
    for call in (
        lambda: inv.adjust("BIRRA", MAX_QTY, on=day(3)),
        lambda: inv.adjust("BIRRA", MAX_QTY, on=day(0)),
        lambda: inv.record_many([{**SALE, "event": "ADJUST", "qty": MAX_QTY, "date": day(3)}]),
    ):
        with pytest.raises(StockLimitError) as info:
            call()
        assert info.value.code == "VAL_010" and "2147483647" in info.value.message
    inv.sell("BIRRA", 5, on=day(3))
    assert inv.stock("BIRRA").on_hand == 100 + 2 * MAX_QTY - 5
    assert row_counts(inv.db)["transactions"] == before["transactions"] + 1


def test_receipts_and_reversals_cannot_push_stock_past_the_limit(inv: Inventory) -> None:
    """A receipt or the reversal of a sale that would end above 2**31 - 1 is VAL_010."""
    sale = inv.sell("BIRRA", 100, on=day(1))
    inv.adjust("BIRRA", MAX_QTY, on=day(2))
    inv.adjust("BIRRA", MAX_QTY, on=day(3))
    before = row_counts(inv.db)
    with pytest.raises(StockLimitError):
        inv.receive("BIG", [ReceiptLine("BIRRA", MAX_QTY)], on=day(4))
    inv.adjust("BIRRA", MAX_INT - 2 * MAX_QTY, on=day(4))
    with pytest.raises(StockLimitError):
        inv.revert(sale, reason="typed twice")
    assert row_counts(inv.db)["transactions"] == before["transactions"] + 1
    assert row_counts(inv.db)["transaction_reversals"] == before["transaction_reversals"]
    assert inv.stock("BIRRA").on_hand == MAX_INT


def test_a_document_cannot_receive_more_of_one_sku_than_a_row_stores(inv: Inventory) -> None:
    """Lines of one SKU adding up past 10^9 name 'lines' (receiving_logs keeps their total)."""
    lines = [ReceiptLine("BIRRA", MAX_QTY), ReceiptLine("BIRRA", 1)]
    error = refused(inv, lambda: inv.receive("D1", lines, on=day(1)))
    assert error.context["field"] == "lines"
    big = {**SALE, "event": "RECEIPT", "qty": MAX_QTY, "date": day(1), "document_id": "D2"}
    error = refused(inv, lambda: inv.record_many([big, {**big, "qty": 1}]))
    assert error.context["field"] == "events"


def test_audit_tail_checks_its_since_and_row_count(inv: Inventory) -> None:
    """audit.tail refuses 'yesterday', 2026-2-1 and 2**70 rows; ISO prefixes still work."""
    for since in ("yesterday", "2026-2-1", "1773273600", "2026-02-30"):
        with pytest.raises(ValidationError, match="since"):
            audit.tail(inv.db, 5, since=since)
    with pytest.raises(ValidationError, match="'n'"):
        audit.tail(inv.db, 2**70)
    assert len(audit.tail(inv.db, 5, since="2000-01-01")) == 3
    assert audit.tail(inv.db, 5, since="2999-01-01T00:00") == []
