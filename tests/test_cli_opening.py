"""How the CLI opens a database: only init creates one, reading commands never write a byte."""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import sqlite3
import subprocess
import sys
from datetime import date
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from inventory_core import Database, Inventory, audit
from inventory_core.cli import app
from tests.db_support import test_settings

runner = CliRunner()

MISSING_PATH_COMMANDS = {
    "info": ["info"],
    "check": ["check"],
    "backup": ["backup"],
    "backups": ["backups"],
    "export": ["export", "{tmp}/out"],
    "export-zip": ["export", "{tmp}/out.zip", "--zip"],
    "import": ["import", "{tmp}/snapshot"],
    "report": ["report", "stock", "BIRRA"],
    "profile": ["profile"],
    "audit-tail": ["audit", "tail"],
    "audit-verify": ["audit", "verify"],
    "upgrade": ["upgrade"],
    "generate": ["generate", "--skus", "2", "--events", "10"],
    "maintenance": ["maintenance", "analyze"],
    "retention": ["retention"],
    "bundle": ["bundle", "{tmp}/bundle.zip"],
    "verify": ["verify", "{tmp}/some.db"],
}

READING_COMMANDS = {
    "info": ["info"],
    "check": ["check", "--full"],
    "export": ["export", "{out}/snapshot"],
    "report": ["report", "stock", "BIRRA"],
    "audit-verify": ["audit", "verify"],
    "audit-tail": ["audit", "tail"],
    "backups": ["backups"],
    "profile": ["profile", "--repeat", "1"],
}


def invoke(db: str | Path, *args: str) -> Any:
    """Run the CLI in-process against ``db``."""
    return runner.invoke(app, ["--db", str(db), *args])


def tree(folder: Path) -> dict[str, tuple[int, int, str]]:
    """Every file under ``folder`` with its mtime, size and sha256; folders as empty entries."""
    found: dict[str, tuple[int, int, str]] = {}
    for path in sorted(folder.rglob("*")):
        info = path.stat()
        digest = hashlib.sha256(path.read_bytes()).hexdigest() if path.is_file() else ""
        found[str(path.relative_to(folder))] = (info.st_mtime_ns, info.st_size, digest)
    return found


def make_shop(path: Path) -> None:
    """A migrated database with one SKU, a count and a sale."""
    with Database.open(path, settings=test_settings()) as db:
        db.upgrade()
        with audit.run(user="operator_01"):
            inv = Inventory(db)
            inv.add_sku("BIRRA", "Birra Lager 0.5L", pack_size=24)
            inv.snapshot("BIRRA", 288, on=date(2026, 2, 1))
            inv.sell("BIRRA", 23, on=date(2026, 2, 12))


# -- a path that does not exist -----------------------------------------------------------


@pytest.mark.parametrize("command", MISSING_PATH_COMMANDS)
def test_a_mistyped_path_gives_io_003_and_creates_nothing(tmp_path: Path, command: str) -> None:
    """Every command but init reports a missing database and leaves no file or folder."""
    args = [a.format(tmp=tmp_path) for a in MISSING_PATH_COMMANDS[command]]
    before = tree(tmp_path)
    result = invoke(tmp_path / "typo" / "shop.db", *args)
    assert result.exit_code == (2 if command == "check" else 3), result.output
    assert "IO_003" in result.output
    assert str(tmp_path / "typo" / "shop.db") in result.output, "the path is shown resolved"
    assert tree(tmp_path) == before


def test_a_mistyped_name_suggests_the_database_beside_it(tmp_path: Path) -> None:
    """`--db shpo.db check` names shop.db, the existing database of a close spelling."""
    make_shop(tmp_path / "shop.db")
    result = invoke(tmp_path / "shpo.db", "check")
    assert result.exit_code == 2
    assert "IO_003" in result.output
    assert f"Did you mean '{tmp_path / 'shop.db'}'?" in result.output
    assert not (tmp_path / "shpo.db").exists()


def test_init_still_creates_the_database_and_its_folder(tmp_path: Path) -> None:
    """init is the one command that creates a database file (and its folder)."""
    path = tmp_path / "new" / "shop.db"
    result = invoke(path, "init")
    assert result.exit_code == 0, result.output
    assert path.is_file()


# -- a database without the schema --------------------------------------------------------


@pytest.mark.parametrize(
    "args",
    [["check"], ["export", "{tmp}/out"], ["report", "stock", "X"], ["audit", "verify"], ["backup"]],
    ids=["check", "export", "report", "audit-verify", "backup"],
)
def test_an_empty_database_is_reported_as_not_migrated(tmp_path: Path, args: list[str]) -> None:
    """A database without tables gives DB_011 (run init), not rows of 'no such table'."""
    path = tmp_path / "shop.db"
    path.touch()
    before = tree(tmp_path)
    result = invoke(path, *(a.format(tmp=tmp_path) for a in args))
    assert result.exit_code in (2, 3), result.output
    assert "DB_011" in result.output and "inventory-core init" in result.output
    assert "FAIL" not in result.output and "no such table" not in result.output
    assert tree(tmp_path) == before


# -- reading commands on read-only files --------------------------------------------------


@pytest.fixture
def read_only_shop(tmp_path: Path) -> Any:
    """A shop database as on read-only media: file 0444 in a folder 0555."""
    media = tmp_path / "media"
    media.mkdir()
    path = media / "shop.db"
    make_shop(path)
    path.chmod(0o444)
    media.chmod(0o555)
    yield path
    media.chmod(0o755)
    path.chmod(0o644)


@pytest.mark.parametrize("command", READING_COMMANDS)
def test_reading_commands_read_a_read_only_file_and_change_nothing(
    read_only_shop: Path, tmp_path: Path, command: str
) -> None:
    """info, check, export, report, audit and profile work on read-only media, writing nothing."""
    out = tmp_path / "out"
    out.mkdir()
    media = read_only_shop.parent
    before = tree(media)
    args = [a.format(out=out) for a in READING_COMMANDS[command]]
    result = invoke(read_only_shop, *args)
    assert result.exit_code in ((0, 1) if command == "profile" else (0,)), result.output
    assert "Error" not in result.output
    assert tree(media) == before, "no byte, mtime or new file in the database's folder"


def test_a_reading_command_leaves_a_writable_database_byte_for_byte(tmp_path: Path) -> None:
    """`check --full` on an ordinary database file keeps its bytes and mtime (no optimize)."""
    path = tmp_path / "shop.db"
    make_shop(path)
    before = tree(tmp_path)
    result = invoke(path, "check", "--full")
    assert result.exit_code == 0, result.output
    assert tree(tmp_path) == before


def test_info_shows_the_read_only_way_and_export_reads_it(
    read_only_shop: Path, tmp_path: Path
) -> None:
    """info says how it opened; the export of a read-only file imports into a new database."""
    facts = json.loads(invoke(read_only_shop, "info", "--json").output)
    assert facts["access"] == "read-only (immutable)"
    assert facts["rows"]["skus"] == 1
    assert invoke(read_only_shop, "export", str(tmp_path / "snap")).exit_code == 0
    fresh = tmp_path / "fresh.db"
    assert invoke(fresh, "init").exit_code == 0
    imported = invoke(fresh, "import", str(tmp_path / "snap"))
    assert imported.exit_code == 0, imported.output


def test_a_file_even_root_cannot_write_is_read_instead_of_refused(tmp_path: Path) -> None:
    """chattr +i: `info` and `audit verify` read it where they used to answer DB_008."""
    chattr = shutil.which("chattr")
    path = tmp_path / "shop.db"
    make_shop(path)
    if chattr is None or subprocess.run([chattr, "+i", str(path)]).returncode != 0:
        pytest.skip("chattr +i is not supported here")
    try:
        info = invoke(path, "info")
        verified = invoke(path, "audit", "verify")
        written = invoke(path, "upgrade")
    finally:
        subprocess.run([chattr, "-i", str(path)], check=True)
    assert info.exit_code == 0 and "DB_008" not in info.output, info.output
    assert verified.exit_code == 0 and "Audit chain intact" in verified.output
    assert written.exit_code == 3 and "DB_008" in written.output, "writing commands still refuse"


# -- the default backup folder ------------------------------------------------------------


def test_backups_follow_the_database_not_the_working_directory(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Without INVENTORY_CORE_BACKUP_DIR, backup and backups use <db folder>/backups anywhere."""
    monkeypatch.delenv("INVENTORY_CORE_BACKUP_DIR")
    shop = tmp_path / "shop" / "shop.db"
    for folder in ("elsewhere", "third"):
        (tmp_path / folder).mkdir()
    assert invoke(shop, "init").exit_code == 0
    monkeypatch.chdir(tmp_path / "elsewhere")
    taken = invoke(shop, "backup")
    assert taken.exit_code == 0, taken.output
    folder = tmp_path / "shop" / "backups"
    assert f"Backup folder: {folder}" in taken.output
    backups = [p for p in folder.iterdir() if p.suffix == ".db"]
    assert len(backups) == 1
    assert list((tmp_path / "elsewhere").iterdir()) == []
    monkeypatch.chdir(tmp_path / "third")
    listed = invoke(shop, "backups")
    assert listed.exit_code == 0
    assert f"Backup folder: {folder}" in listed.output and backups[0].name in listed.output
    assert json.loads(invoke(shop, "info", "--json").output)["backup_dir"] == str(folder)


def test_an_empty_backup_list_says_where_it_looked(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """`backups` with none yet names the folder instead of printing an empty table."""
    monkeypatch.delenv("INVENTORY_CORE_BACKUP_DIR")
    make_shop(tmp_path / "shop.db")
    result = invoke(tmp_path / "shop.db", "backups")
    assert result.exit_code == 0
    assert f"Backup folder: {tmp_path / 'backups'}" in result.output
    assert "No backups" in result.output


def test_an_explicit_backup_dir_still_wins(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """INVENTORY_CORE_BACKUP_DIR (relative to the working directory) beats the default."""
    monkeypatch.setenv("INVENTORY_CORE_BACKUP_DIR", "kept")
    make_shop(tmp_path / "shop" / "shop.db")
    result = invoke(tmp_path / "shop" / "shop.db", "backup")
    assert result.exit_code == 0, result.output
    assert f"Backup folder: {tmp_path / 'kept'}" in result.output
    assert any(p.suffix == ".db" for p in (tmp_path / "kept").iterdir())
    assert not (tmp_path / "shop" / "backups").exists()


def test_backups_from_another_folder_in_a_real_process(tmp_path: Path) -> None:
    """`cd elsewhere && inventory-core --db /path/shop.db backups` finds the backup taken before."""
    shop = tmp_path / "shop" / "shop.db"
    make_shop(shop)
    env = {k: v for k, v in os.environ.items() if not k.startswith("INVENTORY_CORE_")}
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()

    def cli(*args: str) -> subprocess.CompletedProcess[str]:
        command = [sys.executable, "-m", "inventory_core", "--db", str(shop), *args]
        return subprocess.run(command, cwd=elsewhere, env=env, capture_output=True, text=True)

    taken = cli("backup", "--reason", "nightly")
    assert taken.returncode == 0, taken.stderr
    listed = cli("backups")
    assert listed.returncode == 0, listed.stderr
    assert "nightly" in listed.stdout and str(tmp_path / "shop" / "backups") in listed.stdout
    assert list(elsewhere.iterdir()) == []


# -- generate -----------------------------------------------------------------------------


def sku_codes(path: Path) -> list[str]:
    """The SKU codes in the SQLite file, through a separate read-only connection."""
    conn = sqlite3.connect(f"{path.as_uri()}?mode=ro", uri=True)
    try:
        return [row[0] for row in conn.execute("SELECT sku FROM skus ORDER BY sku")]
    finally:
        conn.close()


def test_generate_refuses_a_ledger_with_skus_and_writes_nothing(tmp_path: Path) -> None:
    """generate beside a user's three SKUs exits 3 with VAL_030 and adds no GEN-* SKU."""
    path = tmp_path / "shop.db"
    with Database.open(path, settings=test_settings()) as db:
        db.upgrade()
        inv = Inventory(db, user="owner")
        for sku in ("BIRRA", "ACQUA", "VINO"):
            inv.add_sku(sku, sku.title(), pack_size=6)
    result = invoke(path, "generate", "--skus", "3", "--events", "30", "--days", "10")
    assert result.exit_code == 3
    assert "VAL_030" in result.output and "--into-existing" in result.output
    assert "3 SKUs and 0 ledger events" in result.output
    assert sku_codes(path) == ["ACQUA", "BIRRA", "VINO"]


def test_generate_into_existing_adds_beside_the_data(tmp_path: Path) -> None:
    """--into-existing writes the demo SKUs and keeps the ones already there."""
    path = tmp_path / "shop.db"
    make_shop(path)
    args = ["generate", "--skus", "3", "--events", "30", "--days", "10", "--into-existing"]
    result = invoke(path, *args)
    assert result.exit_code == 0, result.output
    assert sku_codes(path) == ["BIRRA", "GEN-0000000", "GEN-0000001", "GEN-0000002"]
