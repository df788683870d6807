"""The debug bundle: a zip with data, health, logs, redacted settings, versions, audit tail."""

from __future__ import annotations

import json
import sqlite3
import zipfile
from pathlib import Path

import pytest

from inventory_core import Database
from inventory_core.backup import debug_bundle
from inventory_core.backup.bundle import redact
from tests.backup_support import seed
from tests.db_support import test_settings


def test_bundle_holds_every_part(db: Database, tmp_path: Path) -> None:
    """The zip has a consistent database copy, health, settings, versions and the audit tail."""
    seed(db, skus=2, events_per_sku=30)
    (tmp_path / "logs").mkdir()
    (tmp_path / "logs" / "inventory.log").write_text("an event\n")
    path = debug_bundle(db, tmp_path / "bundle")
    assert path.suffix == ".zip" and oct(path.stat().st_mode)[-3:] == "600"
    archive = zipfile.ZipFile(path)
    names = set(archive.namelist())
    assert {
        "database.db",
        "health.json",
        "settings.json",
        "versions.json",
        "audit_tail.json",
        "logs/inventory.log",
    } <= names
    tail = json.loads(archive.read("audit_tail.json"))
    assert len(tail) == 50 and tail[-1]["audit_id"] == 62
    versions = json.loads(archive.read("versions.json"))
    assert set(versions) >= {"python", "sqlite", "sqlalchemy", "alembic", "inventory_core"}
    assert "status" in json.loads(archive.read("health.json"))
    archive.extract("database.db", tmp_path / "x")
    conn = sqlite3.connect(tmp_path / "x" / "database.db")
    assert conn.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
    assert conn.execute("SELECT count(*) FROM transactions").fetchone()[0] == 60
    conn.close()


def test_bundle_without_data_leaves_the_database_out(db: Database, tmp_path: Path) -> None:
    """--no-data produces a bundle with no database copy."""
    path = debug_bundle(db, tmp_path / "b.zip", include_data=False)
    names = zipfile.ZipFile(path).namelist()
    assert "database.db" not in names and "health.json" in names


def test_secrets_are_redacted() -> None:
    """Passwords in URLs and secret-looking names are replaced by ***."""
    assert redact("database_url", "postgresql+psycopg://app:s3cret@db/inv") == (
        "postgresql+psycopg://app:***@db/inv"
    )
    assert redact("api_token", "abc") == "***"
    assert redact("smtp_password", "abc") == "***"
    assert redact("lang", "it") == "it"


@pytest.mark.postgres
def test_bundle_on_postgresql_carries_a_csv_snapshot(pg_url: str, tmp_path: Path) -> None:
    """On PostgreSQL the data travels as a CSV snapshot and the password is hidden."""
    with Database.open(pg_url, settings=test_settings()) as database:
        database.upgrade()
        seed(database, skus=1, events_per_sku=1)
        path = debug_bundle(database, tmp_path / "pg.zip")
    archive = zipfile.ZipFile(path)
    assert "snapshot/manifest.json" in archive.namelist()
    settings = json.loads(archive.read("settings.json"))
    assert "postgres" in settings["database_url"]
