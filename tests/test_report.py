"""The daily stock report: the ledger's fold per day, as a table and a chart."""

from __future__ import annotations

import subprocess
import sys
from datetime import timedelta
from pathlib import Path

import pytest
from typer.testing import CliRunner

from inventory_core import Database, Inventory, ReceiptLine
from inventory_core.cli import app
from inventory_core.errors import NotFoundError
from inventory_core.ledger.stock_history import stock_history
from inventory_core.tools.generate import generate, sku_code
from tests.db_support import test_settings
from tests.ledger_support import day, oracle


def busy_sku(db: Database) -> None:
    """BIRRA: counts, an order received in two parts, sales, waste, an adjustment, a reversal."""
    inv = Inventory(db, user="tester")
    inv.add_sku("BIRRA", "Birra", pack_size=6)
    inv.snapshot("BIRRA", 10, on=day(0))
    order_id = inv.order("BIRRA", 30, on=day(1))
    inv.sell("BIRRA", 4, on=day(2))
    inv.receive("DDT-1", [ReceiptLine("BIRRA", 12, order_id=order_id)], on=day(3))
    wrong = inv.sell("BIRRA", 5, on=day(3))
    inv.revert(wrong, reason="typed twice")
    inv.waste("BIRRA", 2, on=day(5))
    inv.receive("DDT-2", [ReceiptLine("BIRRA", 40, order_id=None)], on=day(6))
    inv.snapshot("BIRRA", 50, on=day(8))
    inv.adjust("BIRRA", -3, on=day(9))
    inv.sell("BIRRA", 7, on=day(9))


def test_daily_series_equals_the_ledger_fold(any_db: Database) -> None:
    """Each day's on_hand/on_order equals stock() and reference_fold as of the next day."""
    busy_sku(any_db)
    history = stock_history(any_db, "BIRRA", day(-2), day(12))
    inv = Inventory(any_db)
    assert len(history.days) == 15
    for entry in history.days:
        asof = entry.day + timedelta(days=1)
        expected = inv.stock("BIRRA", asof=asof)
        folded = oracle(any_db, asof, ["BIRRA"])["BIRRA"]
        assert (entry.on_hand, entry.on_order) == (expected.on_hand, expected.on_order)
        assert (entry.on_hand, entry.on_order) == (folded.on_hand, folded.on_order)
    by_day = {d.day: d for d in history.days}
    assert by_day[day(3)].sold == 0 and by_day[day(3)].received == 12
    assert by_day[day(8)].counted == 50 and by_day[day(1)].on_order == 30
    assert by_day[day(6)].on_order == 0


def test_generated_series_matches_stock_every_day(tmp_path: Path) -> None:
    """Over a generated half year, the series agrees with stock() on every day."""
    with Database.open(tmp_path / "g.db", settings=test_settings()) as db:
        db.upgrade()
        generate(db, skus=3, events=600, days=150, seed=4)
        sku = sku_code(1)
        history = stock_history(db, sku)
        inv = Inventory(db)
        for entry in history.days:
            stock = inv.stock(sku, asof=entry.day + timedelta(days=1))
            assert (entry.on_hand, entry.on_order) == (stock.on_hand, stock.on_order)


def test_unknown_sku_is_refused(db: Database) -> None:
    """A SKU that does not exist raises NotFoundError."""
    with pytest.raises(NotFoundError):
        stock_history(db, "NOPE")


def test_png_option_writes_a_chart(tmp_path: Path) -> None:
    """``report stock SKU --png`` prints the table and writes a PNG file."""
    pytest.importorskip("matplotlib")
    path = tmp_path / "shop.db"
    with Database.open(path, settings=test_settings()) as db:
        db.upgrade()
        busy_sku(db)
    chart = tmp_path / "birra.png"
    result = CliRunner().invoke(
        app,
        ["--db", str(path), "report", "stock", "BIRRA", "--to", str(day(10)), "--png", str(chart)],
    )
    assert result.exit_code == 0, result.output
    assert "on_order" in result.output and str(day(9)) in result.output
    assert chart.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_chart_without_matplotlib_gives_a_clear_error(tmp_path: Path) -> None:
    """Without matplotlib the command exits 3 with VAL_003 and the pip install step."""
    path = tmp_path / "shop.db"
    with Database.open(path, settings=test_settings()) as db:
        db.upgrade()
        busy_sku(db)
    blocked = (
        "import sys; sys.modules['matplotlib'] = None; "
        "from inventory_core.cli import main; "
        f"sys.argv = ['inventory-core', '--db', {str(path)!r}, 'report', 'stock', 'BIRRA', "
        f"'--png', {str(tmp_path / 'x.png')!r}]; main()"
    )
    done = subprocess.run(
        [sys.executable, "-c", blocked], capture_output=True, text=True, timeout=60
    )
    assert done.returncode == 3, done.stderr
    assert "VAL_003" in done.stderr and 'pip install "inventory-core[plots]"' in done.stderr
    assert "Traceback" not in done.stderr
    assert not (tmp_path / "x.png").exists()
