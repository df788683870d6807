"""Adopting a store's orders, receipts, lots and documents, and the report's differences."""

from __future__ import annotations

import hashlib
import json
from collections import defaultdict
from datetime import date, timedelta
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text

from inventory_core import Database, Inventory, audit
from inventory_core.adopt import adopt, importer, open_source
from inventory_core.adopt.export import export_legacy
from inventory_core.adopt.report import report_data
from inventory_core.errors import AdoptInputError
from inventory_core.invariants import check_all
from tests.adopt_support import (
    START,
    LegacyStore,
    every_case,
    legacy_fold,
    legacy_on_order,
    orders_and_lots,
    read_folder,
)
from tests.db_support import test_settings

CODES = ("BIRRA", "ACQUA", "VINO")


def _db(url: str) -> Database:
    database = Database.open(url, settings=test_settings())
    database.upgrade()
    return database


def _rows(url: str, sql: str) -> list[tuple[object, ...]]:
    """Rows read with a second connection, not through the library."""
    engine = create_engine(url)
    with engine.connect() as conn:
        rows = [tuple(r) for r in conn.execute(text(sql))]
    engine.dispose()
    return rows


def _assert_same_on_order(store: LegacyStore, database: Database, codes: list[str]) -> None:
    inv = Inventory(database)
    for code in codes:
        for offset in range(15):
            asof = START + timedelta(days=offset)
            stock = inv.stock(code, asof)
            assert stock.on_order == legacy_on_order(store, code, asof), (code, asof)
            assert stock.on_hand == legacy_fold(store, code, asof), (code, asof)
            assert inv.on_order_by_date(code, asof).total == stock.on_order, (code, asof)


@pytest.mark.parametrize("form", ["folder", "app.db"])
def test_orders_receipts_and_closures_follow_the_legacy_on_order(
    tmp_path: Path, any_url: str, form: str
) -> None:
    """on_order and the open orders equal the legacy fold's on_order on every day."""
    store = orders_and_lots()
    path = (
        store.write_folder(tmp_path / "data")
        if form == "folder"
        else store.write_db(tmp_path / "app.db")
    )
    database = _db(any_url)
    with open_source(path) as source:
        result = adopt(database, source)
    _assert_same_on_order(store, database, list(CODES))
    late = Inventory(database).on_order_by_date("BIRRA", START + timedelta(days=5))
    assert [(d.expected, d.qty) for d in late.dated] == [
        (START + timedelta(days=5), 14),
        (START + timedelta(days=8), 12),
    ]
    orders = _rows(
        any_url, "SELECT sku, qty_ordered, qty_received, status FROM order_logs ORDER BY order_id"
    )
    assert orders == [
        ("ACQUA", 20, 8, "CLOSED"),
        ("ACQUA", 6, 0, "PENDING"),
        ("BIRRA", 24, 10, "PARTIAL"),
        ("BIRRA", 12, 0, "PENDING"),
    ]
    closures = _rows(any_url, "SELECT sku, date, qty, reason FROM order_closures")
    assert [(c[0], str(c[1]), c[2]) for c in closures] == [("ACQUA", "2026-01-11", 12)]
    assert "legacy SNAPSHOT transactions" in str(closures[0][3])
    linked = _rows(any_url, "SELECT document_id, qty FROM order_receipts ORDER BY qty")
    assert linked[0][1] == 8 and linked[1] == ("DDT-7", 10)
    stated = {r["sku"]: r for r in report_data(result)["stock"]}
    assert stated["ACQUA"]["legacy_on_order"] == stated["ACQUA"]["on_order"] == 6
    assert check_all(database).status.value == "HEALTHY"
    assert audit.verify(database).ok
    database.close()


def _legacy_ids_digest(url: str) -> tuple[int, str]:
    """The count and sha256 of the stored legacy order ids, computed as docs/adopt.md says."""
    rows = _rows(
        url,
        "SELECT order_id, legacy_order_id FROM order_logs "
        "WHERE legacy_order_id IS NOT NULL ORDER BY order_id",
    )
    lines = "".join(f"{order_id}\t{legacy}\n" for order_id, legacy in rows)
    return len(rows), hashlib.sha256(lines.encode("utf-8")).hexdigest()


@pytest.mark.parametrize("chunk", [1, 20_000])
def test_orders_written_with_each_batch_keep_their_legacy_ids(
    tmp_path: Path, any_url: str, chunk: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Orders written batch by batch (a SKU a batch, or all in one) keep their legacy ids in
    order_logs, and the import's audit record states their count and sha256."""
    monkeypatch.setattr(importer, "CHUNK", chunk)
    store = orders_and_lots()
    database = _db(any_url)
    with open_source(store.write_folder(tmp_path / "data")) as source:
        adopt(database, source)
    _assert_same_on_order(store, database, list(CODES))
    named = _rows(
        any_url, "SELECT sku, legacy_order_id FROM order_logs ORDER BY sku, order_date, order_id"
    )
    assert named == [
        ("ACQUA", "ORD-20260105-ACQUA"),
        ("ACQUA", None),
        ("BIRRA", "ORD-B1"),
        ("BIRRA", "ORD-B2"),
    ]
    (details,) = _rows(any_url, "SELECT details FROM audit_log WHERE operation = 'import'")[0]
    stated = json.loads(str(details))
    assert (stated["legacy_order_ids"], stated["legacy_order_ids_sha256"]) == _legacy_ids_digest(
        any_url
    )
    assert stated["orders"] == 4 and stated["orders_closed"] == 1
    assert check_all(database).status.value == "HEALTHY"
    assert audit.verify(database).ok
    database.close()


def test_a_legacy_id_changed_later_no_longer_matches_the_import_record(
    tmp_path: Path, sqlite_url: str
) -> None:
    """An order's legacy id edited behind the library's back gives another sha256 than the
    one the import's audit record states."""
    database = _db(sqlite_url)
    with open_source(orders_and_lots().write_folder(tmp_path / "data")) as source:
        adopt(database, source)
    database.close()
    (details,) = _rows(sqlite_url, "SELECT details FROM audit_log WHERE operation = 'import'")[0]
    stated = json.loads(str(details))["legacy_order_ids_sha256"]
    assert _legacy_ids_digest(sqlite_url)[1] == stated
    engine = create_engine(sqlite_url)
    with engine.begin() as conn:
        conn.execute(
            text("UPDATE order_logs SET legacy_order_id = 'ORD-X' WHERE legacy_order_id = 'ORD-B2'")
        )
    engine.dispose()
    assert _legacy_ids_digest(sqlite_url)[1] != stated


def test_every_case_snapshot_closes_the_order_it_zeroed(tmp_path: Path, sqlite_url: str) -> None:
    """The SNAPSHOT over BIRRA's open order closes it; on_order is the legacy one after it."""
    store = every_case()
    database = _db(sqlite_url)
    with open_source(store.write_folder(tmp_path / "data")) as source:
        adopt(database, source)
    for code in ("BIRRA", "PANE"):
        for offset in range(11):
            asof = START + timedelta(days=offset)
            assert Inventory(database).stock(code, asof).on_order == legacy_on_order(
                store, code, asof
            )
    assert _rows(sqlite_url, "SELECT status, expected_date FROM order_logs") == [
        ("CLOSED", "2026-01-08")
    ]
    database.close()


def test_lots_are_trimmed_to_on_hand_and_listed(tmp_path: Path, any_url: str) -> None:
    """Legacy lots become lots that fit in on hand (first expiry trimmed first), each
    difference listed; a lot of a SKU without events is left out."""
    database = _db(any_url)
    with open_source(orders_and_lots().write_folder(tmp_path / "data")) as source:
        result = adopt(database, source)
    inv = Inventory(database)
    assert [(lot.expiry_date, lot.qty_remaining) for lot in inv.lots("VINO")] == [
        (START + timedelta(days=10), 4),
        (date(2026, 3, 1), 6),
    ]
    assert [lot.qty_remaining for lot in inv.lots("BIRRA")] == [20]
    kinds = result.translation.totals()
    assert kinds["lot trimmed to on hand"] == 1
    assert kinds["lot left out"] == 1
    assert kinds["lots differ from on hand"] == 2
    assert check_all(database, only=["lots_consistent"]).result("lots_consistent").ok
    database.close()


def test_settings_and_holidays_are_kept_as_they_stood(tmp_path: Path, sqlite_url: str) -> None:
    """settings.json and holidays.json land whole in settings and in the import's audit row."""
    store = orders_and_lots()
    database = _db(sqlite_url)
    with open_source(store.write_db(tmp_path / "app.db")) as source:
        result = adopt(database, source)
    database.close()
    kept = dict(_rows(sqlite_url, "SELECT key, value FROM settings"))
    assert json.loads(str(kept["legacy.settings"])) == store.settings
    assert json.loads(str(kept["legacy.holidays"])) == store.holidays
    (details,) = _rows(sqlite_url, "SELECT details FROM audit_log WHERE operation = 'import'")
    assert json.loads(str(details[0]))["holidays.json"] == store.holidays
    assert result.translation.totals()["document kept"] == 2


def test_stock_differences_of_the_findings_explain_the_stock_table(tmp_path: Path) -> None:
    """Per SKU the findings' stock differences add up to the report's stock difference."""
    store = every_case()
    store.transactions += [
        {
            "date": "2026-01-05",
            "sku": "VINO",
            "event": "SNAPSHOT",
            "qty": "-5",
            "receipt_date": "",
            "note": "",
        },
        {
            "date": "2026-01-06",
            "sku": "VINO",
            "event": "RECEIPT",
            "qty": "10",
            "receipt_date": "",
            "note": "",
        },
        {
            "date": "2026-01-07",
            "sku": "VINO",
            "event": "SALE",
            "qty": "7",
            "receipt_date": "",
            "note": "",
        },
    ]
    with open_source(store.write_folder(tmp_path / "data")) as source:
        data = report_data(adopt(None, source))
    moved: dict[str, int] = defaultdict(int)
    for finding in data["findings"]:
        moved[finding["sku"]] += finding["stock_difference"]
    for row in data["stock"]:
        assert moved[row["sku"]] == row["difference"], row
    vino = next(r for r in data["stock"] if r["sku"] == "VINO")
    assert (vino["legacy_on_hand"], vino["on_hand"]) == (0, 3)
    assert any(f["stock_difference"] == 5 for f in data["findings"] if f["sku"] == "VINO")


def test_export_keeps_orders_expected_dates_and_receipts(tmp_path: Path) -> None:
    """export-legacy writes ORDER receipt_date, order_logs and receiving_logs; adopting the
    exported folder again gives the same orders."""
    urls = [f"sqlite:///{tmp_path / name}" for name in ("first.db", "again.db")]
    first = _db(urls[0])
    with open_source(orders_and_lots().write_folder(tmp_path / "data")) as source:
        adopt(first, source)
    export_legacy(first, tmp_path / "back")
    first.close()
    back = read_folder(tmp_path / "back")
    ordered = [(r["sku"], r["receipt_date"]) for r in back.transactions if r["event"] == "ORDER"]
    assert sorted(ordered) == [
        ("ACQUA", "2026-01-09"),
        ("ACQUA", "2026-01-15"),
        ("BIRRA", "2026-01-10"),
        ("BIRRA", "2026-01-13"),
    ]
    assert [r["status"] for r in back.order_logs] == ["CLOSED", "PENDING", "PARTIAL", "PENDING"]
    assert [(r["document_id"], r["order_ids"]) for r in back.receiving_logs][1] == ("DDT-7", "[3]")
    again = _db(urls[1])
    with open_source(tmp_path / "back") as source:
        adopt(again, source)
    again.close()
    query = (
        "SELECT sku, order_date, expected_date, qty_ordered, qty_received, status "
        "FROM order_logs ORDER BY order_id"
    )
    assert _rows(urls[1], query) == _rows(urls[0], query)


def test_findings_and_ado_details_speak_italian(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """With INVENTORY_CORE_LANG=it the finding texts and an ADO_010 detail are Italian."""
    monkeypatch.setenv("INVENTORY_CORE_LANG", "it")
    store = every_case()
    with open_source(store.write_folder(tmp_path / "data")) as source:
        data = report_data(adopt(None, source))
    clamped = next(f for f in data["findings"] if f["kind"] == "clamped SALE")
    assert clamped["kind_text"] == "SALE troncata"
    assert "troncato a 0" in clamped["legacy_effect"]
    store.transactions.append(dict(store.transactions[0], date="12/01/2026"))
    bad = store.write_folder(tmp_path / "bad")
    with open_source(bad) as source, pytest.raises(AdoptInputError) as caught:
        adopt(None, source)
    assert "non è una data" in str(caught.value)


def test_receipt_on_the_day_of_a_count_fills_the_orders_it_zeroed(
    tmp_path: Path, sqlite_url: str
) -> None:
    """A receipt the same day as a SNAPSHOT over an open order fills that order first, so
    on_order stays the legacy figure (legacy: 0 after the count, the receipt clamped)."""
    store = LegacyStore(skus=[orders_and_lots().skus[0]])
    day = [(START + timedelta(days=i)).isoformat() for i in range(3)]
    store.transactions = [
        {
            "date": day[0],
            "sku": "BIRRA",
            "event": "ORDER",
            "qty": "12",
            "receipt_date": "",
            "note": "",
        },
        {
            "date": day[1],
            "sku": "BIRRA",
            "event": "RECEIPT",
            "qty": "38",
            "receipt_date": "",
            "note": "",
        },
        {
            "date": day[1],
            "sku": "BIRRA",
            "event": "SNAPSHOT",
            "qty": "34",
            "receipt_date": "",
            "note": "",
        },
        {
            "date": day[1],
            "sku": "BIRRA",
            "event": "ORDER",
            "qty": "24",
            "receipt_date": "",
            "note": "",
        },
    ]
    database = _db(sqlite_url)
    with open_source(store.write_folder(tmp_path / "data")) as source:
        adopt(database, source)
    _assert_same_on_order(store, database, ["BIRRA"])
    assert Inventory(database).stock("BIRRA", START + timedelta(days=2)).on_order == 24
    assert _rows(sqlite_url, "SELECT status FROM order_logs ORDER BY order_id") == [
        ("RECEIVED",),
        ("PENDING",),
    ]
    assert check_all(database).status.value == "HEALTHY"
    database.close()
