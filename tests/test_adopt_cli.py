"""`inventory-core adopt`: dry run, import, report files, re-run, errors without traceback."""

from __future__ import annotations

import csv
import json
from pathlib import Path

from typer.testing import CliRunner

from inventory_core.cli import app
from tests.adopt_support import every_case

runner = CliRunner()


def test_dry_run_then_import_then_rerun(tmp_path: Path) -> None:
    """--dry-run writes nothing; the import writes; the same source again says so."""
    folder = every_case().write_folder(tmp_path / "data")
    url = f"sqlite:///{tmp_path / 'shop.db'}"
    assert runner.invoke(app, ["--db", url, "init"]).exit_code == 0
    dry = runner.invoke(app, ["--db", url, "adopt", str(folder), "--dry-run", "--json"])
    assert dry.exit_code == 0, dry.output
    data = json.loads(dry.output)
    assert data["dry_run"] and data["totals"]["clamped SALE"] == 2
    skus = runner.invoke(app, ["--db", url, "info", "--json"])
    assert json.loads(skus.output)["rows"]["skus"] == 0
    done = runner.invoke(app, ["--db", url, "adopt", str(folder), "--report", "r.csv"])
    assert done.exit_code == 0, done.output
    assert "Imported 4 SKUs" in done.output
    rows = list(csv.reader((tmp_path / "r.csv").open(encoding="utf-8")))
    assert rows[0][0] == "section" and any(r[0] == "stock" for r in rows)
    again = runner.invoke(app, ["--db", url, "adopt", str(folder), "--report", "r.json"])
    assert "already imported" in again.output
    assert json.loads((tmp_path / "r.json").read_text(encoding="utf-8"))["already_imported"]


def test_bad_input_is_a_coded_error_without_traceback(tmp_path: Path) -> None:
    """A bad date gives ADO_010 with file and line, and no traceback."""
    store = every_case()
    store.sales.append({"date": "ieri", "sku": "BIRRA", "qty_sold": "1"})
    folder = store.write_folder(tmp_path / "data")
    url = f"sqlite:///{tmp_path / 'shop.db'}"
    assert runner.invoke(app, ["--db", url, "init"]).exit_code == 0
    result = runner.invoke(app, ["--db", url, "adopt", str(folder)])
    assert result.exit_code != 0
    assert "ADO_010" in result.output and "sales.csv line 5" in result.output
    assert "Traceback" not in result.output


def test_export_legacy_writes_the_folder(tmp_path: Path) -> None:
    """`export-legacy FOLDER` after `adopt` writes skus.csv and transactions.csv."""
    folder = every_case().write_folder(tmp_path / "data")
    url = f"sqlite:///{tmp_path / 'shop.db'}"
    assert runner.invoke(app, ["--db", url, "init"]).exit_code == 0
    assert runner.invoke(app, ["--db", url, "adopt", str(folder)]).exit_code == 0
    result = runner.invoke(app, ["--db", url, "export-legacy", str(tmp_path / "back")])
    assert result.exit_code == 0, result.output
    assert "Wrote 4 SKUs" in result.output
    assert (tmp_path / "back" / "transactions.csv").read_text(encoding="utf-8").count("\n") > 10
