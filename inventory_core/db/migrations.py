"""Alembic plumbing: where the migration scripts live, the head revision, upgrade/downgrade.

The scripts sit in the repository's top-level ``alembic/`` folder; wheels carry them as
``inventory_core/_alembic``. Both the ``alembic`` command (through ``alembic/env.py``) and
:meth:`Database.upgrade` run them on an engine built by :func:`make_engine`, so the PRAGMA
and ``BEGIN IMMEDIATE`` hooks apply to migrations too.
"""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path

from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Connection, Engine

from alembic import command
from inventory_core.db.preflight import connect_readonly
from inventory_core.errors import DatabaseError
from inventory_core.errors.i18n import gettext as _

_PACKAGE_DIR = Path(__file__).resolve().parents[1]


def script_location() -> Path:
    """The folder of the Alembic environment (``env.py`` and ``versions/``)."""
    for candidate in (_PACKAGE_DIR / "_alembic", _PACKAGE_DIR.parent / "alembic"):
        if (candidate / "env.py").is_file():
            return candidate
    raise DatabaseError(_("the Alembic migration scripts are missing from the installation"))


def alembic_config(engine: Engine | None = None, url: str | None = None) -> Config:
    """An Alembic :class:`Config` pointing at the packaged scripts.

    The engine (or URL) travels in ``config.attributes`` rather than in the ini option, so
    passwords with ``%`` and other ConfigParser syntax need no escaping.
    """
    config = Config()
    config.set_main_option("script_location", str(script_location()))
    config.attributes["engine"] = engine
    config.attributes["url"] = url
    return config


@lru_cache(maxsize=1)
def head_revision() -> str:
    """The newest revision the code knows."""
    head = ScriptDirectory.from_config(alembic_config()).get_current_head()
    if head is None:
        raise DatabaseError(_("no migration revision found"))
    return head


@lru_cache(maxsize=1)
def known_revisions() -> frozenset[str]:
    """Every revision id the code ships."""
    script = ScriptDirectory.from_config(alembic_config())
    return frozenset(rev.revision for rev in script.walk_revisions())


def current_revision(connection: Connection) -> str | None:
    """The revision stamped in the database, or None when it was never migrated."""
    return MigrationContext.configure(connection).get_current_revision()


def sqlite_revision(path: Path) -> str | None:
    """Read the stamped revision of a SQLite file without creating or changing any file."""
    conn = connect_readonly(path)
    try:
        row = conn.execute(
            "SELECT name FROM sqlite_master WHERE type='table' AND name='alembic_version'"
        ).fetchone()
        if row is None:
            return None
        version = conn.execute("SELECT version_num FROM alembic_version").fetchone()
        return None if version is None else str(version[0])
    finally:
        conn.close()


def upgrade(engine: Engine, revision: str = "head") -> None:
    """Run ``alembic upgrade`` in-process on ``engine`` (transactional DDL)."""
    command.upgrade(alembic_config(engine), revision)


def downgrade(engine: Engine, revision: str = "base") -> None:
    """Run ``alembic downgrade`` in-process on ``engine``."""
    command.downgrade(alembic_config(engine), revision)


def check(engine: Engine) -> None:
    """Run ``alembic check``: raises when the models and the migrations disagree."""
    command.check(alembic_config(engine))


__all__ = [
    "alembic_config",
    "check",
    "current_revision",
    "downgrade",
    "head_revision",
    "known_revisions",
    "script_location",
    "sqlite_revision",
    "upgrade",
]
