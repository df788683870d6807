"""Many stores on one PostgreSQL server: one schema per store, each store on its own.

``Database.open(url, schema="shop_42")`` keeps every table, sequence, view, trigger function
and the ``alembic_version`` row of one store in the PostgreSQL schema ``shop_42``. The
mechanism is the session's ``search_path``, set to that schema alone when the server starts
the session (libpq ``options=-c search_path=shop_42``, so it holds from the first statement,
SQLAlchemy's own ``current_schema()`` probe included, and nothing can run before it). The
library's statements name no schema, so the same statements serve every store; ``public``
is not on the path, so a table missing from the store is an error, never another store's
table read by mistake.

What the server shares between stores is made per store here:

- advisory locks: :func:`lock_key` derives a key per store from each of the library's
  constant keys (the audit chain head, which the restore's hold also takes), so
  two stores never queue on each other. The default store (no schema, or ``public``) keeps
  the constant keys, so a process that opens it without a schema takes the same locks;
- identity and serial sequences are created by the migrations in the first schema of the
  path, the store's;
- ``pg_dump --schema`` and ``pg_restore --schema`` (:mod:`inventory_core.backup.postgres`)
  touch that schema only.

On SQLite a store is its own file: a schema is refused (``StoreSchemaUnsupportedError``).
"""

from __future__ import annotations

import hashlib
import os
from typing import Any

from sqlalchemy import Connection, Engine, create_engine, text
from sqlalchemy import exc as sa_exc
from sqlalchemy.engine import URL
from sqlalchemy.pool import NullPool

from inventory_core.config import check_store_schema
from inventory_core.errors import StoreSchemaUnsupportedError, translate_db_errors
from inventory_core.obs.redaction import redact_url

SCHEMA_INFO = "inventory_core_schema"
"""Key of the store's schema in a pooled connection's ``info`` (None: the default store)."""
DEFAULT_SCHEMA = "public"

_KNOWN_STORES = text(
    "SELECT n.nspname AS schema FROM pg_catalog.pg_class c "
    "JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace "
    "WHERE c.relname = 'alembic_version' AND c.relkind = 'r' "
    "AND n.nspname NOT LIKE 'pg\\_%' AND n.nspname <> 'information_schema' "
    "ORDER BY n.nspname"
)
_SCHEMA_EXISTS = text("SELECT 1 FROM pg_catalog.pg_namespace WHERE nspname = :schema")


def store_schema(url: URL, schema: str | None) -> str | None:
    """The checked schema of a store at ``url``, or None for the default store.

    Raises:
        StoreSchemaNameError: the name breaks the identifier rules.
        StoreSchemaUnsupportedError: a schema on a SQLite URL.
    """
    if schema is None:
        return None
    if url.get_backend_name() != "postgresql":
        raise StoreSchemaUnsupportedError(schema=str(schema)[:80], field="schema")
    return check_store_schema(schema)


def store_lock_key(base: int, schema: str | None) -> int:
    """The advisory-lock key ``base`` for the store in ``schema``.

    The default store keeps ``base``; any other gets 63 bits of SHA-256 of the base and the
    name (non-negative, as the restore's watchdog reads keys back from ``pg_locks``).
    """
    if schema is None or schema == DEFAULT_SCHEMA:
        return base
    digest = hashlib.sha256(f"{base}:{schema}".encode()).digest()
    return int.from_bytes(digest[:8], "big") & (2**63 - 1)


def lock_key(base: int, connection: Connection) -> int:
    """:func:`store_lock_key` for the store ``connection`` belongs to (one line at each lock)."""
    schema = connection.info.get(SCHEMA_INFO)
    return store_lock_key(base, schema if isinstance(schema, str) else None)


def connect_args(schema: str | None, url: URL | None = None) -> dict[str, Any]:
    """Driver arguments that start every session of the store with its ``search_path``.

    The URL's own libpq ``options`` (``?options=-c statement_timeout=5000``) are kept ahead
    of it: the driver's arguments replace the URL's, so they must carry both.
    """
    if schema is None:
        return {}
    given = "" if url is None else url.query.get("options", "")
    own = " ".join(given) if isinstance(given, tuple) else given
    return {"options": f"{own} -c search_path={schema}".strip()}


def ensure_schema(url: URL, schema: str, *, create: bool) -> bool:
    """Whether the store's schema exists, creating it first when ``create`` is set.

    Runs on a connection of its own, outside the store's engine: a session whose
    ``search_path`` names a missing schema has no current schema, and SQLAlchemy reads the
    current schema on an engine's first connection.
    """
    engine = create_engine(url, poolclass=NullPool)
    try:
        with translate_db_errors(path=redact_url(url), schema=schema), engine.connect() as conn:
            if conn.execute(_SCHEMA_EXISTS, {"schema": schema}).first() is not None:
                return True
            if not create:
                return False
            try:
                conn.execute(text(f'CREATE SCHEMA IF NOT EXISTS "{check_store_schema(schema)}"'))
                conn.commit()
            except sa_exc.IntegrityError:
                # Two processes created it at once (CREATE SCHEMA IF NOT EXISTS races).
                conn.rollback()
            return True
    finally:
        engine.dispose()


def server_name(url: URL, schema: str | None = None) -> str:
    """Names a database without a file, for its default backup folder: ``host-port-db``,
    and ``host-port-db-schema`` for a store in a schema of its own."""
    if url.get_backend_name() == "sqlite":
        return "memory"
    parts = (url.host or "localhost", str(url.port or 5432), url.database or "postgres")
    name = "-".join(part.replace(os.sep, "_") for part in parts)
    return name if schema is None else f"{name}-{schema}"


def backup_stem(url: URL, schema: str | None) -> str:
    """The prefix of a server store's backup names: ``database`` or ``database.schema``."""
    name = str(url.database or "postgres")
    return name if schema is None else f"{name}.{schema}"


def known_stores(engine: Engine) -> list[str]:
    """The schemas of the server database that hold a migrated store (an ``alembic_version``)."""
    with engine.connect() as conn:
        return [str(row.schema) for row in conn.execute(_KNOWN_STORES)]


__all__ = [
    "DEFAULT_SCHEMA",
    "SCHEMA_INFO",
    "backup_stem",
    "connect_args",
    "ensure_schema",
    "known_stores",
    "lock_key",
    "server_name",
    "store_lock_key",
    "store_schema",
]
