"""Shared fixtures: real SQLite files in tmp_path, and a fresh PostgreSQL database per test."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text

from inventory_core import Database
from tests.db_support import PG_ENV, fresh_pg_database, pg_admin_url, test_settings


@pytest.fixture(autouse=True)
def _isolated_env(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """Keep the developer's INVENTORY_CORE_* variables and .env out of the tests."""
    for name in list(os.environ):
        if name.startswith("INVENTORY_CORE_") and name != PG_ENV:
            monkeypatch.delenv(name, raising=False)
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("INVENTORY_CORE_BACKUP_DIR", str(tmp_path / "backups"))


@pytest.fixture
def sqlite_url(tmp_path: Path) -> str:
    """URL of a new SQLite file in tmp_path."""
    return f"sqlite:///{tmp_path / 'inventory.db'}"


@pytest.fixture(scope="session")
def pg_server() -> str:
    """The PostgreSQL test URL, or skip with a message when no server answers."""
    url = pg_admin_url()
    if not url:
        pytest.skip(f"PostgreSQL tests need {PG_ENV} (set by .ci/run)")
    engine = create_engine(url)
    try:
        with engine.connect() as conn:
            conn.execute(text("SELECT 1"))
    except Exception as exc:  # pragma: no cover - depends on the machine
        pytest.skip(f"PostgreSQL at {PG_ENV} does not answer: {exc}")
    finally:
        engine.dispose()
    return url


@pytest.fixture
def pg_url(pg_server: str) -> Iterator[str]:
    """URL of a brand-new PostgreSQL database, dropped after the test."""
    with fresh_pg_database(pg_server) as url:
        yield url


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def any_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """A fresh database URL, once on SQLite and once on PostgreSQL."""
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'inventory.db'}"
    return str(request.getfixturevalue("pg_url"))


@pytest.fixture
def db(sqlite_url: str) -> Iterator[Database]:
    """A migrated SQLite database."""
    database = Database.open(sqlite_url, settings=test_settings())
    database.upgrade()
    yield database
    database.close()


@pytest.fixture
def any_db(any_url: str) -> Iterator[Database]:
    """A migrated database on SQLite, and on PostgreSQL when available."""
    database = Database.open(any_url, settings=test_settings())
    database.upgrade()
    yield database
    database.close()
