"""``inventory-core check`` and ``inventory-core maintenance`` through the real CLI."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import create_engine, text
from typer.testing import CliRunner

from inventory_core.cli import app
from inventory_core.models import metadata
from tests.invariants_support import execute, seeded_database, unguarded

runner = CliRunner()


@pytest.fixture
def seeded_url(any_url: str) -> str:
    """A seeded database on SQLite and PostgreSQL, closed."""
    seeded_database(any_url).close()
    return any_url


def invoke(url: str, *args: str) -> Any:
    """Run the CLI against ``url``."""
    return runner.invoke(app, ["--db", url, *args])


def rows_naming(url: str, sku: str) -> int:
    """How many rows of every table point at ``sku`` through a foreign key."""
    engine = create_engine(url)
    total = 0
    try:
        with engine.connect() as conn:
            for table in metadata.sorted_tables:
                for fk in table.foreign_keys:
                    if fk.column.table.name == "skus":
                        query = text(
                            f"SELECT count(*) FROM {table.name} WHERE {fk.parent.name} = :s"
                        )
                        total += conn.execute(query, {"s": sku}).scalar_one()
    finally:
        engine.dispose()
    return total


def test_check_json_on_a_healthy_database_says_healthy(seeded_url: str) -> None:
    """check --json prints HEALTHY and exits 0."""
    result = invoke(seeded_url, "check", "--json")
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout)["status"] == "HEALTHY"


def test_deleting_a_sku_behind_the_foreign_keys_is_unhealthy(seeded_url: str) -> None:
    """A SKU deleted with foreign keys off: UNHEALTHY, exit 2, each orphan row listed."""
    expected = rows_naming(seeded_url, "PASTA")
    with unguarded(seeded_url) as conn:
        execute(conn, "DELETE FROM skus WHERE sku = 'PASTA'")
    result = invoke(seeded_url, "check", "--json")
    assert result.exit_code == 2, result.output
    report = json.loads(result.stdout)
    assert report["status"] == "UNHEALTHY"
    referential = next(r for r in report["results"] if r["name"] == "referential_integrity")
    assert referential["count"] == expected
    assert len(referential["sample"]) == min(10, expected)
    assert all(row["value"] == "PASTA" for row in referential["sample"])


def test_table_output_lists_failures_with_rows_and_steps(seeded_url: str) -> None:
    """Without --json the CLI prints a table, the offending rows and the recovery steps."""
    with unguarded(seeded_url) as conn:  # demand history: a table the trail does not seal
        execute(conn, "UPDATE sales SET qty_sold = 99 WHERE sku = 'PASTA'")
    result = invoke(seeded_url, "check")
    assert result.exit_code == 1, result.output
    assert "demand_history" in result.stdout and "FAIL" in result.stdout
    assert '"qty_sold": 99' in result.stdout
    assert "set each listed sales row" in result.stdout
    assert "DEGRADED" in result.stdout


def test_an_order_edited_by_hand_is_unhealthy_through_its_seal(seeded_url: str) -> None:
    """An order's status changed by hand fails orders_consistent and the ledger seal."""
    with unguarded(seeded_url) as conn:
        execute(conn, "UPDATE order_logs SET status = 'RECEIVED' WHERE order_id = 2")
    result = invoke(seeded_url, "check")
    assert result.exit_code == 2, result.output
    assert '"expected_status": "PARTIAL"' in result.stdout
    assert "order_logs row 2 differs from the state audit row" in result.stdout
    assert "UNHEALTHY" in result.stdout


def test_only_and_verbose_show_just_that_query(sqlite_url: str) -> None:
    """--only runs the named invariants and -v prints each one's SQL."""
    seeded_database(sqlite_url).close()
    result = invoke(sqlite_url, "check", "--only", "snapshot_unique", "-v")
    assert result.exit_code == 0, result.output
    assert "snapshot_unique" in result.stdout and "stock_never_negative" not in result.stdout
    assert "HAVING count(*) > 1" in result.stdout


def test_unknown_only_name_is_an_error(sqlite_url: str) -> None:
    """A misspelt --only name is refused with the validation error code."""
    seeded_database(sqlite_url).close()
    result = invoke(sqlite_url, "check", "--only", "nope")
    assert result.exit_code == 3 and "VAL_001" in result.output


def test_a_file_that_cannot_be_opened_exits_2(tmp_path: Path) -> None:
    """A file that is not a database is reported (code and steps) with exit code 2."""
    bogus = tmp_path / "bogus.db"
    bogus.write_bytes(b"this is not sqlite" * 20)
    result = invoke(str(bogus), "check")
    assert result.exit_code == 2
    assert "DB_006" in result.output


def test_full_check_reports_damaged_pages_as_unhealthy(sqlite_url: str) -> None:
    """check --full on a database with a torn index page exits 2 naming sqlite_integrity."""
    from tests.invariants_support import damage_index_page

    seeded_database(sqlite_url).close()
    damage_index_page(Path(sqlite_url.removeprefix("sqlite:///")), "ix_audit_log_run_id")
    result = invoke(sqlite_url, "check", "--full", "--json")
    assert result.exit_code == 2, result.output
    failed = json.loads(result.stdout)["failures"]
    assert "sqlite_integrity" in failed


def test_vacuum_dry_run_changes_nothing(sqlite_url: str, tmp_path: Path) -> None:
    """maintenance vacuum --dry-run names the statement and takes no backup."""
    seeded_database(sqlite_url).close()
    result = invoke(sqlite_url, "maintenance", "vacuum", "--dry-run")
    assert result.exit_code == 0, result.output
    assert "Would run: VACUUM" in result.stdout and "would be taken" in result.stdout
    assert not list((tmp_path / "backups").glob("*pre-vacuum*"))


def test_vacuum_backs_up_first_and_reports_sizes(sqlite_url: str, tmp_path: Path) -> None:
    """maintenance vacuum takes a backup, prints its path and the size before and after."""
    seeded_database(sqlite_url).close()
    result = invoke(sqlite_url, "maintenance", "vacuum")
    assert result.exit_code == 0, result.output
    backups = list((tmp_path / "backups").glob("*pre-vacuum.db"))
    assert len(backups) == 1 and str(backups[0].name) in result.stdout.replace("\n", "")
    assert "Size:" in result.stdout and "->" in result.stdout
    engine = create_engine(sqlite_url)
    with engine.connect() as conn:
        operation = conn.execute(
            text("SELECT operation FROM audit_log ORDER BY audit_id DESC LIMIT 1")
        ).scalar_one()
    engine.dispose()
    assert operation == "maintenance"


@pytest.mark.parametrize("action", ["analyze", "reindex", "optimize", "checkpoint"])
def test_maintenance_actions_run_and_leave_the_database_healthy(
    seeded_url: str, action: str
) -> None:
    """Each maintenance action runs on both dialects and the database stays HEALTHY."""
    result = invoke(seeded_url, "maintenance", action)
    assert result.exit_code == 0, result.output
    assert result.stdout.startswith("Ran:")
    assert invoke(seeded_url, "check", "--json").exit_code == 0


@pytest.mark.parametrize(
    "command",
    [["check"], ["maintenance"]] + [["maintenance", a] for a in ("analyze", "reindex", "vacuum",
                                                                  "optimize", "checkpoint")],
)  # fmt: skip
def test_every_command_has_help(command: list[str]) -> None:
    """Each command and option documents itself in --help."""
    result = runner.invoke(app, [*command, "--help"])
    assert result.exit_code == 0
    assert "Usage" in result.output and len(result.output.splitlines()) > 5


def test_the_quickstart_database_checks_healthy(tmp_path: Path) -> None:
    """The database examples/quickstart.py creates passes check --json with exit 0."""
    url = f"sqlite:///{tmp_path / 'quickstart.db'}"
    script = Path(__file__).resolve().parents[1] / "examples" / "quickstart.py"
    env = {**os.environ, "INVENTORY_CORE_DATABASE_URL": url}
    subprocess.run([sys.executable, str(script)], check=True, env=env, capture_output=True)
    result = invoke(url, "check", "--json")
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout)["status"] == "HEALTHY"
