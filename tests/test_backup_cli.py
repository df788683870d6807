"""The backup commands of the inventory-core CLI, run in-process on real files."""

from __future__ import annotations

import zipfile
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from inventory_core import Database
from inventory_core.backup import BackupService
from inventory_core.cli import app
from tests.backup_support import seed
from tests.db_support import test_settings

runner = CliRunner()
COMMANDS = ["backup", "backups", "verify", "restore", "retention", "export", "import", "bundle"]


@pytest.fixture
def url(tmp_path: Path) -> str:
    """A seeded, migrated SQLite database."""
    path = tmp_path / "shop.db"
    with Database.open(path, settings=test_settings()) as db:
        db.upgrade()
        seed(db, skus=2, events_per_sku=2)
    return f"sqlite:///{path}"


def invoke(url: str, *args: str) -> Any:
    """Run one command against ``url``."""
    return runner.invoke(app, ["--db", url, *args])


def newest(url: str) -> Path:
    """The newest backup of the database at ``url``."""
    with Database.open(url, settings=test_settings(), check=None) as db:
        return BackupService(db, db.settings.backup_dir).list()[0].path


@pytest.mark.parametrize("command", COMMANDS)
def test_every_backup_command_has_help(command: str) -> None:
    """Each command prints a help text that explains it."""
    result = runner.invoke(app, [command, "--help"])
    assert result.exit_code == 0
    assert len(result.output.strip().splitlines()) > 3


def test_backup_then_backups_lists_it(url: str) -> None:
    """`backup --reason` writes a backup that `backups` shows in its table."""
    made = invoke(url, "backup", "--reason", "before-inventory")
    assert made.exit_code == 0, made.output
    listed = invoke(url, "backups")
    assert listed.exit_code == 0
    assert "before-inventory" in listed.output and "yes" in listed.output


def test_verify_reports_ok_and_a_damaged_backup(url: str) -> None:
    """`verify` exits 0 on a good backup and 1 with the error code on a damaged one."""
    invoke(url, "backup")
    path = newest(url)
    assert invoke(url, "verify", str(path)).exit_code == 0
    path.write_bytes(path.read_bytes()[:4096])
    bad = invoke(url, "verify", str(path))
    assert bad.exit_code == 1
    assert "BAK_012" in bad.output + (bad.stderr or "")


def test_restore_refuses_without_yes_when_not_interactive(url: str) -> None:
    """Without a terminal and without --yes the restore is refused with exit 3."""
    invoke(url, "backup")
    result = invoke(url, "restore", str(newest(url)))
    assert result.exit_code == 3
    assert "--yes" in result.output + (result.stderr or "")


def test_restore_dry_run_prints_the_plan_and_yes_restores(url: str) -> None:
    """--dry-run prints the per-table plan; --yes performs the restore."""
    invoke(url, "backup")
    path = newest(url)
    plan = invoke(url, "restore", str(path), "--dry-run")
    assert plan.exit_code == 0 and "transactions" in plan.output and "pre-restore" in plan.output
    done = invoke(url, "restore", str(path), "--yes")
    assert done.exit_code == 0, done.output
    assert "Restored" in done.output


def test_restore_over_a_database_that_no_longer_opens(url: str, tmp_path: Path) -> None:
    """A truncated live database is kept aside and replaced by the backup."""
    invoke(url, "backup")
    path = newest(url)
    live = tmp_path / "shop.db"
    with live.open("r+b") as handle:
        handle.truncate(8192)
    assert invoke(url, "backups").exit_code == 3
    done = invoke(url, "restore", str(path), "--yes")
    assert done.exit_code == 0, done.output
    assert list(tmp_path.glob("shop.db.damaged-*"))
    with Database.open(live, settings=test_settings(), check="full") as db, db.read() as uow:
        assert uow.connection.exec_driver_sql("SELECT count(*) FROM skus").scalar() == 2


def test_retention_dry_run_lists_and_deletes_nothing(url: str) -> None:
    """`retention --dry-run` reports and keeps every file."""
    for _ in range(3):
        invoke(url, "backup")
    result = invoke(url, "retention", "--dry-run")
    assert result.exit_code == 0 and "Would delete 0" in result.output


def test_export_import_and_bundle(url: str, tmp_path: Path) -> None:
    """`export --zip` then `import` into a new database, and `bundle --no-data`."""
    exported = invoke(url, "export", str(tmp_path / "snap"), "--zip")
    assert exported.exit_code == 0, exported.output
    target = f"sqlite:///{tmp_path / 'new.db'}"
    assert runner.invoke(app, ["--db", target, "init"]).exit_code == 0
    imported = invoke(target, "import", str(tmp_path / "snap.zip"))
    assert imported.exit_code == 0, imported.output
    assert "Imported" in imported.output
    bundled = invoke(url, "bundle", str(tmp_path / "dbg.zip"), "--no-data")
    assert bundled.exit_code == 0, bundled.output
    assert "database.db" not in zipfile.ZipFile(tmp_path / "dbg.zip").namelist()
