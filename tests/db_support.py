"""Helpers for tests that open databases: test settings and throw-away PostgreSQL databases."""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from contextlib import contextmanager

from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

from inventory_core import Settings

PG_ENV = "INVENTORY_CORE_TEST_POSTGRES_URL"


def test_settings(**overrides: object) -> Settings:
    """Settings with short timeouts suitable for tests."""
    values: dict[str, object] = {"busy_timeout_ms": 2000, "retry_attempts": 5}
    values.update(overrides)
    return Settings.load(**values)


test_settings.__test__ = False  # type: ignore[attr-defined]


def pg_admin_url() -> str | None:
    """The PostgreSQL server the tests may create databases on, if one is configured."""
    return os.environ.get(PG_ENV)


@contextmanager
def fresh_pg_database(server: str) -> Iterator[str]:
    """A brand-new PostgreSQL database on ``server``, dropped on leaving."""
    name = f"ic_test_{uuid.uuid4().hex[:12]}"
    admin = create_engine(server, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    url = make_url(server).set(database=name).render_as_string(hide_password=False)
    try:
        yield url
    finally:
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()
