"""The ``inventory-core audit`` commands, through typer's CliRunner on a real SQLite file."""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path

import pytest
from typer.testing import CliRunner

from inventory_core import Database, audit
from inventory_core.cli import app
from inventory_core.inventory import Inventory
from tests.audit_support import tamper
from tests.db_support import test_settings

runner = CliRunner()


@pytest.fixture
def shop(tmp_path: Path) -> tuple[str, str]:
    """A database with a SKU, a count and two sales in one run; returns (path, run id)."""
    path = tmp_path / "shop.db"
    with Database.open(f"sqlite:///{path}", settings=test_settings()) as db:
        db.upgrade()
        with audit.run(user="operator_01") as run_id:
            inv = Inventory(db)
            inv.add_sku("BIRRA", "Birra Lager 0.5L", pack_size=24)
            inv.snapshot("BIRRA", 288, on=date(2026, 2, 1))
            inv.sell("BIRRA", 23, on=date(2026, 2, 12))
            inv.sell("BIRRA", 5, on=date(2026, 2, 13))
    return str(path), run_id


def _cli(path: str, *args: str) -> tuple[int, str]:
    result = runner.invoke(app, ["--db", path, "audit", *args])
    return result.exit_code, result.output


def test_verify_says_the_chain_is_intact(shop: tuple[str, str]) -> None:
    """On an untouched database, audit verify reports the chain intact and exits 0."""
    code, out = _cli(shop[0], "verify")
    assert code == 0, out
    assert "Audit chain intact: 4 rows" in out


def test_verify_names_the_row_edited_by_hand_and_fails(shop: tuple[str, str]) -> None:
    """After one row is edited with raw SQL, audit verify names that row and exits non-zero."""
    with Database.open(f"sqlite:///{shop[0]}", check=None) as db:
        tamper(db, "UPDATE audit_log SET \"user\" = 'mallory' WHERE audit_id = 3")
    code, out = _cli(shop[0], "verify")
    assert code != 0
    assert "AUD_002" in out
    assert "broken at row 3" in out and "edited" in out


def test_verify_json_reports_the_broken_row(shop: tuple[str, str]) -> None:
    """audit verify --json prints the report with the broken row id and exits non-zero."""
    with Database.open(f"sqlite:///{shop[0]}", check=None) as db:
        tamper(db, "DELETE FROM audit_log WHERE audit_id = 2")
    code, out = _cli(shop[0], "verify", "--json")
    report = json.loads(out)
    assert code != 0
    assert (report["ok"], report["first_broken_id"]) == (False, 3)


def test_verify_against_a_manifest(shop: tuple[str, str], tmp_path: Path) -> None:
    """audit verify --against passes for the live manifest and fails for a foreign head."""
    with Database.open(f"sqlite:///{shop[0]}", check=None) as db:
        head_hash, rows = audit.head(db)
    good = tmp_path / "good.json"
    good.write_text(json.dumps({"audit_head_hash": head_hash, "audit_rows": rows}))
    bad = tmp_path / "bad.json"
    bad.write_text(json.dumps({"audit_head_hash": "a" * 64, "audit_rows": rows}))
    assert _cli(shop[0], "verify", "--against", str(good))[0] == 0
    code, out = _cli(shop[0], "verify", "--against", str(bad), "--json")
    assert code != 0 and "rewritten" in json.loads(out)["reason"]


def test_tail_json_shows_run_ids(shop: tuple[str, str]) -> None:
    """audit tail -n 2 --json prints the two newest rows with their run id and user."""
    code, out = _cli(shop[0], "tail", "-n", "2", "--json")
    rows = json.loads(out)
    assert code == 0
    assert [(r["operation"], r["run_id"], r["user"]) for r in rows] == [
        ("sell", shop[1], "operator_01"),
        ("sell", shop[1], "operator_01"),
    ]
    assert [r["details"]["qty"] for r in rows] == [23, 5]


def test_tail_prints_a_table(shop: tuple[str, str]) -> None:
    """audit tail without --json prints a table of the rows."""
    code, out = _cli(shop[0], "tail")
    assert code == 0
    assert "Last 4 audit rows" in out and "add_sku" in out and "snapshot" in out


def test_run_lists_the_rows_of_one_run(shop: tuple[str, str]) -> None:
    """audit run RUN_ID --json lists the four rows of that run."""
    code, out = _cli(shop[0], "run", shop[1], "--json")
    assert code == 0
    assert [r["operation"] for r in json.loads(out)] == ["add_sku", "snapshot", "sell", "sell"]


def test_sku_lists_the_rows_of_one_sku(shop: tuple[str, str]) -> None:
    """audit sku SKU --json lists that SKU's rows, and an unknown SKU lists none."""
    code, out = _cli(shop[0], "sku", "BIRRA", "--json")
    assert code == 0 and len(json.loads(out)) == 4
    code, out = _cli(shop[0], "sku", "VINO", "--json")
    assert code == 0 and json.loads(out) == []


@pytest.mark.parametrize("command", ["tail", "run", "sku", "verify"])
def test_every_audit_command_has_help_text(command: str) -> None:
    """Each audit command and each of its options documents itself in --help."""
    result = runner.invoke(app, ["audit", command, "--help"])
    assert result.exit_code == 0
    assert "--json" in result.output and "Print JSON" in result.output
    options = [line for line in result.output.splitlines() if line.strip().startswith("│ --")]
    assert all(len(line.split()) > 3 for line in options), result.output


def test_audit_commands_do_not_create_a_mistyped_database(tmp_path: Path) -> None:
    """audit verify on a path that does not exist fails with an error and creates no file."""
    missing = tmp_path / "typo.db"
    code, out = _cli(str(missing), "verify")
    assert code == 3
    assert "Error" in out
    assert not missing.exists()
