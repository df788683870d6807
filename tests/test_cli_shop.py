"""The shop commands of the CLI: stock, skus, history, lots, pipeline, proposals, expiring,
count, close-order and order --from-proposals, on real databases."""

from __future__ import annotations

import csv
import io
import json
import os
import subprocess
import sys
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from inventory_core import Database
from inventory_core.cli import app
from inventory_core.errors import OrderNotClosedError, OrderNotOpenError
from inventory_core.inventory import Inventory
from inventory_core.ledger.inputs import ReceiptLine
from inventory_core.ledger.stock_history import draw_stock_history, stock_history
from tests.db_support import test_settings

runner = CliRunner()
DAY = date(2026, 3, 2)


def invoke(url: str, *args: str, env: dict[str, str] | None = None) -> Any:
    """Run the CLI in-process against ``url`` and return click's Result."""
    return runner.invoke(app, ["--db", url, *args], env=env)


def make_shop(url: str) -> int:
    """A small shop: milk with lots and sales, bread on order, a low beer; the order id."""
    db = Database.open(url, settings=test_settings())
    db.upgrade()
    try:
        inv = Inventory(db)
        inv.add_sku("MILK", "Latte intero", category="dairy", reorder_point=5, max_stock=40)
        inv.add_sku("BREAD", "Pane", category="bakery", lead_time_days=2)
        inv.add_sku("BEER", "Birra", category="drinks", reorder_point=10, pack_size=6)
        inv.add_sku("OLD", "Retired", active=False)
        inv.receive("D1", [ReceiptLine("MILK", 12, expiry=date(2026, 3, 5))], on=DAY)
        inv.receive("D2", [ReceiptLine("MILK", 6, expiry=date(2026, 3, 20))], on=DAY)
        inv.sell("MILK", 4, on=date(2026, 3, 3))
        order_id = inv.order("BREAD", 30, on=DAY, expected=date(2026, 3, 4))
        inv.receive("D3", [ReceiptLine("BREAD", 10, order_id=order_id)], on=date(2026, 3, 4))
        inv.receive("D4", [ReceiptLine("BEER", 3)], on=DAY)
        return order_id
    finally:
        db.close()


def rows_of(result: Any) -> list[dict[str, Any]]:
    """The JSON rows a command printed."""
    assert result.exit_code == 0, result.output
    parsed: list[dict[str, Any]] = json.loads(result.stdout)
    return parsed


def test_stock_json_csv_and_library_agree(sqlite_url: str) -> None:
    """`stock --json` and `stock --csv` give the same rows as Inventory.stock_all."""
    make_shop(sqlite_url)
    by_json = rows_of(invoke(sqlite_url, "stock", "--json"))
    shown = invoke(sqlite_url, "stock", "--csv")
    by_csv = list(csv.DictReader(io.StringIO(shown.stdout)))
    assert {r["sku"]: r["on_hand"] for r in by_json} == {
        "BEER": 3,
        "BREAD": 10,
        "MILK": 14,
        "OLD": 0,
    }
    assert [r["sku"] for r in by_csv] == [r["sku"] for r in by_json]
    assert [int(r["on_order"]) for r in by_csv] == [r["on_order"] for r in by_json]
    bread = next(r for r in by_json if r["sku"] == "BREAD")
    assert bread["on_order"] == 20


def test_stock_asof_names_and_category(sqlite_url: str) -> None:
    """`stock MILK --asof` counts events before the day; `--category` filters."""
    make_shop(sqlite_url)
    before_sale = rows_of(invoke(sqlite_url, "stock", "MILK", "--asof", "2026-03-03", "--json"))
    assert [(r["sku"], r["on_hand"]) for r in before_sale] == [("MILK", 18)]
    dairy = rows_of(invoke(sqlite_url, "stock", "--category", "dairy", "--json"))
    assert [r["sku"] for r in dairy] == ["MILK"]


def test_stock_table_at_a_terminal(sqlite_url: str) -> None:
    """Without --json/--csv the rows are a table naming each SKU."""
    make_shop(sqlite_url)
    result = invoke(sqlite_url, "stock")
    assert result.exit_code == 0, result.output
    assert "MILK" in result.output and "on_hand" in result.output


def test_skus_search_inactive_and_paging(sqlite_url: str) -> None:
    """`skus` lists active SKUs; --search, --inactive, --limit and --offset select."""
    make_shop(sqlite_url)
    assert [r["sku"] for r in rows_of(invoke(sqlite_url, "skus", "--json"))] == [
        "BEER",
        "BREAD",
        "MILK",
    ]
    assert [
        r["sku"] for r in rows_of(invoke(sqlite_url, "skus", "--search", "latte", "--json"))
    ] == ["MILK"]
    assert [r["sku"] for r in rows_of(invoke(sqlite_url, "skus", "--inactive", "--json"))] == [
        "OLD"
    ]
    page = rows_of(invoke(sqlite_url, "skus", "--limit", "1", "--offset", "1", "--json"))
    assert [r["sku"] for r in page] == ["BREAD"]
    assert page[0]["category"] == "bakery"


def test_history_lots_pipeline_expiring(sqlite_url: str) -> None:
    """history, lots (now and as of a day), pipeline and expiring show the ledger's rows."""
    make_shop(sqlite_url)
    events = rows_of(invoke(sqlite_url, "history", "MILK", "--from", "2026-03-03", "--json"))
    assert [(e["event"], e["qty"], e["date"]) for e in events] == [("SALE", 4, "2026-03-03")]
    now = rows_of(invoke(sqlite_url, "lots", "MILK", "--json"))
    assert [lot["qty_remaining"] for lot in now] == [8, 6]
    then = rows_of(invoke(sqlite_url, "lots", "MILK", "--asof", "2026-03-03", "--json"))
    assert [lot["qty_remaining"] for lot in then] == [12, 6]
    open_rows = rows_of(invoke(sqlite_url, "pipeline", "BREAD", "--json"))
    assert open_rows == [{"expected": "2026-03-04", "qty": 20, "orders": 1}]
    soon = rows_of(
        invoke(sqlite_url, "expiring", "--within", "3", "--asof", "2026-03-04", "--json")
    )
    assert [(lot["sku"], lot["expiry_date"]) for lot in soon] == [("MILK", "2026-03-05")]


def test_proposals_then_order_from_proposals(sqlite_url: str) -> None:
    """`proposals` lists the SKUs at or below their reorder point; `order` writes them."""
    make_shop(sqlite_url)
    proposed = rows_of(invoke(sqlite_url, "proposals", "--json"))
    assert [p["sku"] for p in proposed] == ["BEER"]
    assert proposed[0]["qty"] % 6 == 0
    dry = rows_of(invoke(sqlite_url, "order", "--from-proposals", "--dry-run", "--json"))
    assert [r["order_id"] for r in dry] == [None]
    assert rows_of(invoke(sqlite_url, "stock", "BEER", "--json"))[0]["on_order"] == 0
    placed = rows_of(invoke(sqlite_url, "order", "--from-proposals", "--json"))
    assert isinstance(placed[0]["order_id"], int)
    beer = rows_of(invoke(sqlite_url, "stock", "BEER", "--json"))[0]
    assert beer["on_order"] == proposed[0]["qty"]


def test_count_one_and_from_a_file(sqlite_url: str, tmp_path: Path) -> None:
    """`count SKU COUNTED --on D` derives the sale; `count --file` counts a whole shop."""
    make_shop(sqlite_url)
    one = rows_of(invoke(sqlite_url, "count", "MILK", "10", "--on", "2026-03-05", "--json"))
    assert (one[0]["expected"], one[0]["counted"], one[0]["sold"]) == (14, 10, 4)
    sheet = tmp_path / "count.csv"
    sheet.write_text("sku,counted\nMILK,9\nBEER,5\n", encoding="utf-8")
    many = rows_of(
        invoke(sqlite_url, "count", "--file", str(sheet), "--on", "2026-03-06", "--json")
    )
    assert {r["sku"]: (r["sold"], r["adjusted"]) for r in many} == {"MILK": (1, 0), "BEER": (0, 2)}


def test_count_file_with_a_bad_number_is_a_coded_error(sqlite_url: str, tmp_path: Path) -> None:
    """A count that is not a whole number is VAL_001 naming the line; nothing written."""
    make_shop(sqlite_url)
    sheet = tmp_path / "count.csv"
    sheet.write_text("sku,counted\nMILK,9.5\n", encoding="utf-8")
    result = invoke(sqlite_url, "count", "--file", str(sheet))
    assert result.exit_code == 3
    assert "VAL_001" in result.output and "line 2" in result.output


def test_close_order_then_on_order_drops(sqlite_url: str) -> None:
    """`close-order ID --reason` stops the remainder counting in on_order."""
    order_id = make_shop(sqlite_url)
    done = invoke(sqlite_url, "close-order", str(order_id), "--reason", "supplier out")
    assert done.exit_code == 0, done.output
    assert "20 units" in done.output
    bread = rows_of(invoke(sqlite_url, "stock", "BREAD", "--json"))[0]
    assert bread["on_order"] == 0
    again = invoke(sqlite_url, "close-order", str(order_id), "--reason", "twice")
    assert again.exit_code == 3


def test_unknown_sku_points_at_skus(sqlite_url: str) -> None:
    """An unknown SKU is REPO_001 whose recovery step names the `skus` command."""
    make_shop(sqlite_url)
    result = invoke(sqlite_url, "lots", "NOPE")
    assert result.exit_code == 3
    assert "REPO_001" in result.output and "inventory-core skus" in result.output


def test_read_commands_write_nothing(sqlite_url: str, tmp_path: Path) -> None:
    """The read commands leave the database file byte for byte as it was."""
    make_shop(sqlite_url)
    path = tmp_path / "inventory.db"
    before = path.read_bytes()
    for args in (
        ("stock",),
        ("skus",),
        ("history", "MILK"),
        ("lots", "MILK"),
        ("pipeline", "BREAD"),
        ("proposals",),
        ("expiring", "--within", "9"),
    ):
        assert invoke(sqlite_url, *args).exit_code == 0, args
    assert path.read_bytes() == before


def run_cli(*args: str, lang: str = "en") -> subprocess.CompletedProcess[str]:
    """The real console entry point in a subprocess (its exit code is what a shell sees)."""
    env = {**os.environ, "INVENTORY_CORE_LANG": lang}
    return subprocess.run(
        [sys.executable, "-m", "inventory_core", *args],
        capture_output=True,
        text=True,
        env=env,
        check=False,
    )


def test_bad_date_and_int_are_usage_errors_in_italian(sqlite_url: str) -> None:
    """A bad --asof or --within exits 2 with the usage error in Italian."""
    make_shop(sqlite_url)
    bad_date = run_cli("--db", sqlite_url, "stock", "--asof", "2026-2-1", lang="it")
    assert bad_date.returncode == 2
    assert "non è una data" in bad_date.stderr
    bad_int = run_cli("--db", sqlite_url, "expiring", "--within", "tre", lang="it")
    assert bad_int.returncode == 2
    assert "Valore non valido per '--within'" in bad_int.stderr


def test_version_and_help_value_names() -> None:
    """`--version` prints the version; help shows SKU/DATE/PATH, no <bool>, no {sku}."""
    version = run_cli("--version")
    assert version.returncode == 0 and version.stdout.startswith("inventory-core ")
    for args in (
        ("--help",),
        ("stock", "--help"),
        ("report", "stock", "--help"),
        ("count", "--help"),
    ):
        shown = run_cli(*args)
        assert shown.returncode == 0, args
        assert "<bool>" not in shown.stdout and "{" not in shown.stdout, args
    assert "DATE" in run_cli("lots", "--help").stdout
    assert "SKU" in run_cli("report", "stock", "--help").stdout


@pytest.mark.postgres
def test_stock_and_pipeline_on_postgresql(pg_url: str) -> None:
    """On PostgreSQL, `stock --json` and `pipeline` give the same numbers as on SQLite."""
    make_shop(pg_url)
    rows = rows_of(invoke(pg_url, "stock", "--json"))
    assert {r["sku"]: r["on_hand"] for r in rows}["MILK"] == 14
    assert rows_of(invoke(pg_url, "pipeline", "BREAD", "--json"))[0]["qty"] == 20


@pytest.mark.parametrize(("first", "last"), [(2, 2), (2, 5), (2, 12), (1, 31)])
def test_short_chart_range_is_labelled_with_days(sqlite_url: str, first: int, last: int) -> None:
    """The x tick labels of the stock chart are whole days (YYYY-MM-DD), never hours."""
    pytest.importorskip("matplotlib")
    import matplotlib.pyplot as plt

    make_shop(sqlite_url)
    with Database.open(sqlite_url, settings=test_settings()) as db:
        history = stock_history(db, "MILK", date(2026, 3, first), date(2026, 3, last))
    figure = draw_stock_history(history)
    try:
        figure.canvas.draw()
        labels = [t.get_text() for t in figure.axes[0].get_xticklabels() if t.get_text()]
    finally:
        plt.close(figure)
    assert labels
    shown = [date.fromisoformat(text) for text in labels]
    assert all(date(2026, 3, first) <= d <= date(2026, 3, last) for d in shown), labels
    assert len(set(shown)) == len(shown), labels


def test_reopening_an_open_order_says_reopen_not_close(sqlite_url: str) -> None:
    """reopen_order of a PARTIAL order is WF_014 about reopening (still an OrderNotOpenError)."""
    order_id = make_shop(sqlite_url)
    with (
        Database.open(sqlite_url, settings=test_settings()) as db,
        pytest.raises(OrderNotClosedError) as raised,
    ):
        Inventory(db).reopen_order(order_id, reason="oops")
    assert isinstance(raised.value, OrderNotOpenError)
    assert raised.value.code == "WF_014"
    assert "only a CLOSED order can be reopened" in raised.value.message


def test_stock_history_counts_order_closures(sqlite_url: str) -> None:
    """After a close short, report stock's on_order drops from the close's day, as stock()."""
    order_id = make_shop(sqlite_url)
    with Database.open(sqlite_url, settings=test_settings()) as db:
        inv = Inventory(db)
        inv.close_order(order_id, reason="short", on=date(2026, 3, 6))
        history = stock_history(db, "BREAD", date(2026, 3, 2), date(2026, 3, 8))
        for d in history.days:
            expected = inv.stock("BREAD", asof=d.day + timedelta(days=1)).on_order
            assert d.on_order == expected, d
    assert [d.on_order for d in history.days] == [30, 30, 20, 20, 0, 0, 0]
