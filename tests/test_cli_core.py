"""The inventory-core command line: init, upgrade, info, errors, and help for every command."""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import typer
from typer.testing import CliRunner

from inventory_core.cli import app
from inventory_core.db import migrations
from inventory_core.errors import NotADatabaseError

REPO = Path(__file__).resolve().parents[1]

runner = CliRunner()


def invoke(*args: str, env: dict[str, str] | None = None) -> Any:
    """Run the CLI in-process and return click's Result."""
    return runner.invoke(app, list(args), env=env)


def test_init_then_info_shows_wal_and_foreign_keys(tmp_path: Path) -> None:
    """`--db sqlite:///x.db init` then `info` shows journal mode wal and foreign keys on."""
    url = f"sqlite:///{tmp_path / 'x.db'}"
    created = invoke("--db", url, "init")
    assert created.exit_code == 0, created.output
    assert migrations.head_revision() in created.output
    shown = invoke("--db", url, "info")
    assert shown.exit_code == 0, shown.output
    assert "journal_mode=wal" in shown.output
    assert "foreign_keys=1" in shown.output
    assert migrations.head_revision() in shown.output


def test_info_json_reports_pragmas_and_revision(tmp_path: Path) -> None:
    """`info --json` prints parseable JSON with the PRAGMAs, revision and row counts."""
    url = f"sqlite:///{tmp_path / 'x.db'}"
    assert invoke("--db", url, "init").exit_code == 0
    result = invoke("--db", url, "info", "--json")
    assert result.exit_code == 0, result.output
    facts = json.loads(result.output)
    assert facts["pragmas"]["journal_mode"] == "wal"
    assert facts["pragmas"]["foreign_keys"] == 1
    assert facts["schema_revision"] == facts["head_revision"]
    assert facts["rows"]["skus"] == 0


def test_a_plain_path_is_accepted_for_db(tmp_path: Path) -> None:
    """`--db shop.db` (no scheme) means a SQLite file at that path."""
    result = invoke("--db", str(tmp_path / "shop.db"), "init")
    assert result.exit_code == 0, result.output
    assert (tmp_path / "shop.db").is_file()


def test_upgrade_reports_the_revisions(tmp_path: Path) -> None:
    """`upgrade` on an empty database file migrates it and says from where to where."""
    (tmp_path / "x.db").touch()
    url = f"sqlite:///{tmp_path / 'x.db'}"
    result = invoke("--db", url, "upgrade")
    assert result.exit_code == 0, result.output
    assert f"empty -> {migrations.head_revision()}" in result.output


def test_errors_print_code_message_and_steps_without_traceback(tmp_path: Path) -> None:
    """A library error prints its code, message and numbered steps and exits 3."""
    path = tmp_path / "notes[1].db"
    path.write_text("not a database\n" * 100)
    result = invoke("--db", str(path), "info")
    assert result.exit_code == 3
    assert "DB_006" in result.output
    assert "notes[1].db' is not an SQLite database" in result.output, "brackets are not markup"
    assert "  1. " in result.output
    assert "Traceback" not in result.output


def test_info_on_a_missing_file_reports_it_and_creates_nothing(tmp_path: Path) -> None:
    """`info` on a mistyped path gives IO_003 and leaves no file or folder behind."""
    missing = tmp_path / "typo" / "shop.db"
    result = invoke("--db", str(missing), "info")
    assert result.exit_code == 3
    assert "IO_003" in result.output
    assert "inventory-core init" in result.output
    assert not missing.parent.exists()


def test_language_from_dotenv_reaches_the_messages(tmp_path: Path) -> None:
    """INVENTORY_CORE_LANG=it in .env (not the environment) also gives Italian messages."""
    (tmp_path / ".env").write_text("INVENTORY_CORE_LANG=it\n")
    result = invoke("--db", str(tmp_path / "missing.db"), "info")
    assert result.exit_code == 3
    assert "Non esiste alcun database" in result.output


def test_debug_shows_the_original_exception(tmp_path: Path) -> None:
    """With --debug the exception propagates instead of the short message."""
    path = tmp_path / "notes.db"
    path.write_text("not a database\n" * 100)
    result = invoke("--debug", "--db", str(path), "info")
    assert result.exit_code != 0
    assert isinstance(result.exception, NotADatabaseError)


def test_a_bad_setting_is_reported_with_its_variable(tmp_path: Path) -> None:
    """INVENTORY_CORE_BUSY_TIMEOUT_MS=abc gives VAL_002 naming the variable, exit 3."""
    result = invoke(
        "--db", str(tmp_path / "x.db"), "info", env={"INVENTORY_CORE_BUSY_TIMEOUT_MS": "abc"}
    )
    assert result.exit_code == 3
    assert "VAL_002" in result.output
    assert "INVENTORY_CORE_BUSY_TIMEOUT_MS" in result.output


def test_italian_messages_follow_the_language_variable(tmp_path: Path) -> None:
    """INVENTORY_CORE_LANG=it prints the error message and steps in Italian."""
    path = tmp_path / "notes.db"
    path.write_text("not a database\n" * 100)
    result = invoke("--db", str(path), "info", env={"INVENTORY_CORE_LANG": "it"})
    assert result.exit_code == 3
    assert "non è un database SQLite" in result.output


def _walk(command: Any, path: tuple[str, ...] = ()) -> Iterator[tuple[tuple[str, ...], Any]]:
    yield path, command
    for name, sub in sorted(getattr(command, "commands", {}).items()):
        yield from _walk(sub, (*path, name))


def test_every_command_and_option_has_help_text() -> None:
    """Every registered command, sub-command and option documents itself; --help exits 0."""
    root = typer.main.get_command(app)
    walked = list(_walk(root))
    assert {"init", "upgrade", "info"} <= {p[0] for p, _ in walked if len(p) == 1}
    for path, command in walked:
        assert (command.help or "").strip(), f"{' '.join(path)} has no help text"
        for param in command.params:
            if param.param_type_name == "option" and param.name != "help":
                assert (getattr(param, "help", "") or "").strip(), (
                    f"option {param.opts} of {' '.join(path) or 'the root'} has no help text"
                )
        result = invoke(*path, "--help")
        assert result.exit_code == 0, (path, result.output)
        assert "Usage" in result.output


def test_python_dash_m_runs_the_cli() -> None:
    """`python -m inventory_core --help` works like the console script."""
    result = subprocess.run(
        [sys.executable, "-m", "inventory_core", "--help"],
        capture_output=True,
        text=True,
        cwd=REPO,
        timeout=60,
    )
    assert result.returncode == 0, result.stderr
    assert "init" in result.stdout and "info" in result.stdout


@pytest.mark.postgres
def test_init_and_info_on_postgresql(pg_url: str) -> None:
    """`init` then `info --json` work on PostgreSQL too."""
    assert invoke("--db", pg_url, "init").exit_code == 0
    result = invoke("--db", pg_url, "info", "--json")
    assert result.exit_code == 0, result.output
    assert json.loads(result.output)["dialect"] == "postgresql"
