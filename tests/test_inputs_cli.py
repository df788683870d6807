"""Input at the edges: CLI date options parse YYYY-MM-DD strictly, a missing driver is VAL_003."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import typer
from typer.testing import CliRunner

from inventory_core import Database, Inventory
from inventory_core.cli import app
from tests.db_support import test_settings
from tests.ledger_support import day

runner = CliRunner()
DATE_NAMES = {"since", "from", "to", "on", "asof", "start", "end", "date", "until", "before"}
"""Option names that mean a date: each must say YYYY-MM-DD and parse it strictly."""
NOT_ISO = ["yesterday", "2026-2-1", "1773273600", "12/02/2026", "2026-02-30", "2026-02-01x"]


def _options(command: Any, path: tuple[str, ...] = ()) -> Iterator[Any]:
    """(command path, option) for every option of every command, subcommands included."""
    if hasattr(command, "commands"):
        for name, sub in command.commands.items():
            yield from _options(sub, (*path, name))
        return
    for param in command.params:
        if param.param_type_name == "option":
            yield path, param


def date_options() -> list[tuple[tuple[str, ...], str]]:
    """Every CLI option whose name means a date, as (command path, option flag)."""
    root = typer.main.get_command(app)
    found = []
    for path, option in _options(root):
        flag = max(option.opts, key=len)
        if flag.lstrip("-") in DATE_NAMES:
            found.append((path, flag))
    return found


@pytest.fixture
def shop(tmp_path: Path) -> str:
    """A SQLite file with one SKU, its count and a sale, as a URL."""
    url = f"sqlite:///{tmp_path / 'shop.db'}"
    with Database.open(url, settings=test_settings()) as db:
        db.upgrade()
        inv = Inventory(db, user="tester")
        inv.add_sku("BIRRA")
        inv.snapshot("BIRRA", 10, on=day(0))
        inv.sell("BIRRA", 1, on=day(1))
        inv.order("BIRRA", 6, on=day(0))
    return url


REQUIRED_ARGS: dict[tuple[str, ...], list[str]] = {
    ("report", "stock"): ["BIRRA"],
    ("history",): ["BIRRA"],
    ("lots",): ["BIRRA"],
    ("pipeline",): ["BIRRA"],
    ("count",): ["BIRRA", "9"],
    ("close-order",): ["1", "--reason", "supplier out"],
    ("expiring",): ["--within", "7"],
    ("order",): ["--from-proposals", "--dry-run"],
}
"""What each command needs beside its date option."""


def _args(path: tuple[str, ...], flag: str, value: str) -> list[str]:
    return [*path, *REQUIRED_ARGS.get(path, []), flag, value]


def test_the_cli_has_date_options_and_each_says_its_format() -> None:
    """report stock --from/--to and audit tail --since exist and show YYYY-MM-DD in --help."""
    found = date_options()
    assert {(p, f) for p, f in found} >= {
        (("report", "stock"), "--from"),
        (("report", "stock"), "--to"),
        (("audit", "tail"), "--since"),
    }
    for path, flag in found:
        shown = runner.invoke(app, [*path, "--help"], env={"COLUMNS": "200"})
        assert shown.exit_code == 0
        line = next(row for row in shown.output.splitlines() if flag in row)
        assert "YYYY-MM-DD" in line, line


@pytest.mark.parametrize("value", NOT_ISO)
def test_every_date_option_refuses_what_is_not_iso(shop: str, value: str) -> None:
    """Each date option turns non-ISO text into a usage error naming the option and format."""
    for path, flag in date_options():
        result = runner.invoke(app, ["--db", shop, *_args(path, flag, value)])
        assert result.exit_code == 2, (path, flag, result.output)
        assert flag in result.output and "YYYY-MM-DD" in result.output


def test_date_options_accept_iso_days(shop: str) -> None:
    """YYYY-MM-DD works for every date option (and a time for --since)."""
    for path, flag in date_options():
        result = runner.invoke(app, ["--db", shop, *_args(path, flag, "2026-02-01")])
        assert result.exit_code == 0, (path, flag, result.output)
    result = runner.invoke(app, ["--db", shop, "audit", "tail", "--since", "2000-01-01T08:00"])
    assert result.exit_code == 0 and "snapshot" in result.output


NO_PSYCOPG = "import sys; sys.modules['psycopg'] = None; "


def _without_psycopg(code: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "INVENTORY_CORE_LANG": "en", "COLUMNS": "200"}
    return subprocess.run(
        [sys.executable, "-c", NO_PSYCOPG + code],
        capture_output=True,
        text=True,
        env=env,
        timeout=120,
        check=False,
    )


def test_a_postgresql_url_without_psycopg_is_val_003_with_the_install_hint() -> None:
    """Database.open of a PostgreSQL URL without psycopg raises VAL_003 naming the extra."""
    done = _without_psycopg(
        "from inventory_core import Database\n"
        "from inventory_core.errors import OptionalDependencyError\n"
        "try:\n"
        "    Database.open('postgresql://nobody@127.0.0.1:1/none')\n"
        "except OptionalDependencyError as exc:\n"
        "    print(exc.code, exc.message, exc.recovery_steps[0])\n"
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.startswith("VAL_003 A PostgreSQL database needs the optional package")
    assert "'psycopg'" in done.stdout
    assert 'pip install "inventory-core[postgres]"' in done.stdout


def test_the_cli_shows_val_003_not_inv_000_without_psycopg() -> None:
    """inventory-core --db postgresql://... info prints VAL_003 and the pip hint, exit 3."""
    done = _without_psycopg(
        "from inventory_core.cli import main; "
        "sys.argv = ['inventory-core', '--db', 'postgresql://nobody@127.0.0.1:1/none', 'info']; "
        "main()"
    )
    assert done.returncode == 3, done.stderr
    assert "Error VAL_003" in done.stderr and "INV_000" not in done.stderr
    assert 'pip install "inventory-core[postgres]"' in done.stderr
