"""Adopting a desktop-order-system store: readers, translation, import safety."""

from __future__ import annotations

import os
import sqlite3
import subprocess
import sys
import time
from datetime import date, timedelta
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from inventory_core import Database, Inventory, audit
from inventory_core.adopt import adopt, open_source
from inventory_core.adopt.export import export_legacy
from inventory_core.errors import AdoptError, AdoptInputError, AdoptTargetError
from tests.adopt_support import (
    LegacyStore,
    every_case,
    legacy_fold,
    legacy_on_order,
    random_store,
    read_folder,
)
from tests.db_support import test_settings

CODES = ("BIRRA", "PANE", "LATTE", "GHOST")


def _db(url: str) -> Database:
    database = Database.open(url, settings=test_settings())
    database.upgrade()
    return database


def _assert_same_stock(store: LegacyStore, database: Database, codes: list[str]) -> None:
    inv = Inventory(database)
    days = sorted({r["date"] for r in store.transactions} | {r["date"] for r in store.sales})
    for code in codes:
        for day in days:
            asof = date.fromisoformat(day) + timedelta(days=1)
            stock = inv.stock(code, asof)
            assert stock.on_hand == legacy_fold(store, code, asof), (code, day)
            assert stock.on_order == legacy_on_order(store, code, asof), (code, day)


def test_folder_import_matches_the_legacy_fold(tmp_path: Path, any_url: str) -> None:
    """Every case of LEGACY.md imports with our stock equal to the legacy fold, day by day."""
    store = every_case()
    folder = store.write_folder(tmp_path / "data")
    database = _db(any_url)
    with open_source(folder) as source:
        result = adopt(database, source)
    assert result.ignored == ["skus_backup.csv"]
    kinds = result.translation.totals()
    for kind in (
        "clamped SALE",
        "clamped WASTE",
        "negative SALE",
        "absolute ADJUST",
        "SNAPSHOT zeroed open orders",
        "unknown SKU",
        "EAN not an EAN-13",
        "non-stock event",
        "sales row counted by an explicit SALE",
    ):
        assert kinds.get(kind), kind
    _assert_same_stock(store, database, list(CODES))
    assert [p["sku"] for p in result.translation.promotions] == ["BIRRA"]
    database.close()


@pytest.mark.parametrize("version", [1, 2, 3, 5, 7])
def test_app_db_is_read_without_change(tmp_path: Path, sqlite_url: str, version: int) -> None:
    """An app.db of any schema version imports and keeps its bytes and mtime."""
    path = every_case().write_db(tmp_path / "app.db", version)
    before = (path.read_bytes(), os.stat(path).st_mtime_ns)
    database = _db(sqlite_url)
    with open_source(path) as source:
        assert source.schema_version == version
        adopt(database, source)
    assert (path.read_bytes(), os.stat(path).st_mtime_ns) == before
    _assert_same_stock(every_case(), database, list(CODES))
    database.close()


def test_read_only_app_db_opens_immutable(tmp_path: Path) -> None:
    """A read-only app.db is read (immutable) and translated."""
    path = every_case().write_db(tmp_path / "app.db")
    path.chmod(0o444)
    with open_source(path) as source:
        result = adopt(None, source)
    assert result.dry_run and result.translation.events


def test_dry_run_writes_nothing(tmp_path: Path, sqlite_url: str) -> None:
    """--dry-run gives the report and leaves the database empty."""
    folder = every_case().write_folder(tmp_path / "data")
    database = _db(sqlite_url)
    with open_source(folder) as source:
        result = adopt(database, source, dry_run=True)
    assert result.translation.findings
    assert Inventory(database).list_skus().items == ()
    database.close()


def test_rerun_is_a_no_op_and_another_source_is_refused(tmp_path: Path, sqlite_url: str) -> None:
    """The same source again does nothing; another one is refused."""
    folder = every_case().write_folder(tmp_path / "data")
    database = _db(sqlite_url)
    with open_source(folder) as source:
        first = adopt(database, source)
    with open_source(folder) as source:
        again = adopt(database, source)
    assert not first.already and again.already
    other = random_store(1).write_folder(tmp_path / "other")
    with open_source(other) as source, pytest.raises(AdoptTargetError):
        adopt(database, source)
    database.close()


def test_non_empty_target_is_refused(tmp_path: Path, sqlite_url: str) -> None:
    """A database holding a SKU is not adopted into."""
    database = _db(sqlite_url)
    Inventory(database).add_sku("MINE")
    folder = every_case().write_folder(tmp_path / "data")
    with open_source(folder) as source, pytest.raises(AdoptTargetError):
        adopt(database, source)
    database.close()


def test_bad_row_names_file_line_column_or_is_skipped(tmp_path: Path, sqlite_url: str) -> None:
    """An unparsable date is ADO_010 with file/line/column; --skip-invalid lists it."""
    store = every_case()
    store.transactions.append(
        {
            "date": "12/01/2026",
            "sku": "BIRRA",
            "event": "SALE",
            "qty": "1",
            "receipt_date": "",
            "note": "",
        }
    )
    store.transactions.append(
        {
            "date": "2026-01-12",
            "sku": "BIRRA",
            "event": "TELEPORT",
            "qty": "1",
            "receipt_date": "",
            "note": "",
        }
    )
    folder = store.write_folder(tmp_path / "data")
    database = _db(sqlite_url)
    with open_source(folder) as source, pytest.raises(AdoptInputError) as caught:
        adopt(database, source)
    assert caught.value.context == {"file": "transactions.csv", "line": 14, "column": "date"}
    assert Inventory(database).list_skus().items == ()
    with open_source(folder) as source:
        result = adopt(database, source, skip_invalid=True)
    assert result.translation.totals()["invalid"] == 2
    database.close()


def test_broken_encoding_is_reported(tmp_path: Path) -> None:
    """Bytes that are not UTF-8 are ADO_010 naming the file and line."""
    folder = every_case().write_folder(tmp_path / "data")
    with (folder / "sales.csv").open("ab") as out:
        out.write(b"2026-01-20,BIRRA,\xff\n")
    with open_source(folder) as source, pytest.raises(AdoptInputError) as caught:
        adopt(None, source)
    assert caught.value.context["file"] == "sales.csv"
    assert caught.value.context["line"] == 5


def test_missing_required_file_is_reported(tmp_path: Path) -> None:
    """A folder without transactions.csv is refused by name."""
    folder = every_case().write_folder(tmp_path / "data")
    (folder / "transactions.csv").unlink()
    with pytest.raises(AdoptInputError, match="transactions"):
        open_source(folder)


@settings(
    max_examples=15, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(seed=st.integers(0, 10**6))
def test_random_histories_match_the_legacy_fold(
    tmp_path_factory: pytest.TempPathFactory, seed: int
) -> None:
    """For random legacy histories, the legacy fold and our stock (on hand and on order)
    agree on every SKU and date."""
    work = tmp_path_factory.mktemp("adopt")
    store = random_store(seed)
    folder = store.write_folder(work / "data")
    database = _db(f"sqlite:///{work / 'x.db'}")
    with open_source(folder) as source:
        adopt(database, source)
    _assert_same_stock(store, database, [s["sku"] for s in store.skus])
    database.close()


KILLER = """
import sys
from inventory_core import Database
from inventory_core.adopt import adopt, open_source
from inventory_core.adopt import importer
importer.CHUNK = 200
database = Database.open(sys.argv[2])
database.upgrade()
def progress(done, total):
    print("chunk", done, flush=True)
with open_source(sys.argv[1]) as source:
    adopt(database, source, progress=progress)
print("done", flush=True)
"""


def test_kill_9_leaves_the_target_empty_or_whole(tmp_path: Path, sqlite_url: str) -> None:
    """kill -9 during an import leaves no SKU and no event behind, then a re-run imports it all."""
    store = random_store(7, skus=20, days=60)
    folder = store.write_folder(tmp_path / "data")
    database = _db(sqlite_url)
    database.close()
    child = subprocess.Popen(
        [sys.executable, "-c", KILLER, str(folder), sqlite_url],
        stdout=subprocess.PIPE,
        text=True,
        cwd=Path(__file__).resolve().parents[1],
    )
    assert child.stdout is not None
    line = child.stdout.readline()
    assert line.startswith("chunk"), line
    child.kill()
    child.wait()
    time.sleep(0.1)
    database = _db(sqlite_url)
    assert Inventory(database).list_skus().items == ()
    with open_source(folder) as source:
        adopt(database, source)
    _assert_same_stock(store, database, [s["sku"] for s in store.skus])
    database.close()


@settings(
    max_examples=10, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(seed=st.integers(0, 10**6))
def test_round_trip_legacy_ours_legacy(tmp_path_factory: pytest.TempPathFactory, seed: int) -> None:
    """export-legacy of an adopted store folds (legacy rules) to our stock, every SKU and day."""
    work = tmp_path_factory.mktemp("trip")
    store = random_store(seed)
    database = _db(f"sqlite:///{work / 'x.db'}")
    with open_source(store.write_folder(work / "data")) as source:
        adopt(database, source)
    export_legacy(database, work / "back")
    back = read_folder(work / "back")
    assert {s["sku"] for s in back.skus} == {s["sku"] for s in store.skus}
    _assert_same_stock(back, database, [s["sku"] for s in store.skus])
    _assert_same_stock(store, database, [s["sku"] for s in store.skus])
    assert _orders(back) == _orders(store)
    assert len(back.order_logs) == len(_orders(store))
    database.close()


def _orders(store: LegacyStore) -> list[tuple[str, str, str, str]]:
    """The ORDER rows of a store with their expected date (``receipt_date``)."""
    return sorted(
        (r["date"], r["sku"], r["qty"], r["receipt_date"])
        for r in store.transactions
        if r["event"] == "ORDER" and int(r["qty"]) > 0
    )


def test_export_legacy_refuses_a_folder_with_files(tmp_path: Path, db: Database) -> None:
    """export-legacy never writes into a folder that holds files."""
    (tmp_path / "full").mkdir()
    (tmp_path / "full" / "keep.txt").write_text("x", encoding="utf-8")
    with pytest.raises(AdoptError):
        export_legacy(db, tmp_path / "full")
    assert sorted(p.name for p in (tmp_path / "full").iterdir()) == ["keep.txt"]


def test_promotions_of_known_skus_are_imported(tmp_path: Path, sqlite_url: str) -> None:
    """promo_calendar rows land in our promo calendar; one of an unknown SKU is listed instead."""
    path = every_case().write_db(tmp_path / "app.db")
    database = _db(sqlite_url)
    with open_source(path) as source:
        result = adopt(database, source)
    assert result.translation.totals()["promotion left out"] == 1
    database.close()
    with sqlite3.connect(tmp_path / "inventory.db") as conn:
        rows = conn.execute("SELECT sku, start_date, end_date FROM promo_calendar").fetchall()
    assert rows == [("BIRRA", "2026-01-07", "2026-01-10")]


def test_legacy_audit_log_is_kept_as_history(tmp_path: Path, sqlite_url: str) -> None:
    """Each legacy audit_log row becomes an audit row; the chain still verifies."""
    folder = every_case().write_folder(tmp_path / "data")
    database = _db(sqlite_url)
    with open_source(folder) as source:
        adopt(database, source)
    report = audit.verify(database)
    assert report.ok, report
    database.close()
    with sqlite3.connect(tmp_path / "inventory.db") as conn:
        rows = conn.execute(
            "SELECT user, details FROM audit_log WHERE operation = 'legacy_audit'"
        ).fetchall()
    assert len(rows) == 1 and rows[0][0] == "mario"
    assert "description changed" in rows[0][1]
