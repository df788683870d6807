"""Alembic environment of inventory_core, built on the library's own engine factory.

Many stores on one PostgreSQL server (one schema each, see :mod:`inventory_core.db.stores`):
``alembic -x schema=shop_42 upgrade head`` migrates one store (``INVENTORY_CORE_STORE_SCHEMA``
when no ``-x schema``), ``alembic -x all_stores=true upgrade head`` every store the server
database holds (each schema with an ``alembic_version`` table), one transaction per store.
Each store keeps its own ``alembic_version`` table, in its schema.
"""

from __future__ import annotations

import os
from logging.config import fileConfig

from sqlalchemy import Connection, Engine

from alembic import context
from inventory_core.config import Settings
from inventory_core.db import stores
from inventory_core.db.engine import WRITE_OPTION, make_engine, normalize_url
from inventory_core.models import metadata

config = context.config

if config.config_file_name is not None and config.attributes.get("engine") is None:
    fileConfig(config.config_file_name, disable_existing_loggers=False)


def _url() -> str:
    x_url = context.get_x_argument(as_dictionary=True).get("url")
    url = (
        config.attributes.get("url")
        or x_url
        or os.environ.get("INVENTORY_CORE_DATABASE_URL")
        or Settings.load().database_url
    )
    return str(url)


def _schemas(url: str) -> list[str | None]:
    """The stores to migrate: ``-x schema=``, ``-x all_stores=true``, or the settings'."""
    x_args = context.get_x_argument(as_dictionary=True)
    parsed = normalize_url(url)
    if x_args.get("all_stores", "").lower() in {"1", "true", "yes"}:
        engine = make_engine(parsed)
        try:
            return list(stores.known_stores(engine))
        finally:
            engine.dispose()
    wanted = x_args.get("schema") or Settings.load().store_schema
    return [stores.store_schema(parsed, wanted)]


def _configure(connection: Connection) -> None:
    schema = connection.info.get(stores.SCHEMA_INFO)
    context.configure(
        connection=connection,
        target_metadata=metadata,
        render_as_batch=connection.dialect.name == "sqlite",
        transactional_ddl=True,
        compare_type=True,
        version_table_schema=schema if isinstance(schema, str) else None,
    )


def run_migrations_offline() -> None:
    """Emit the SQL of the migrations instead of running them (``alembic upgrade --sql``)."""
    url = normalize_url(_url())
    wanted = context.get_x_argument(as_dictionary=True).get("schema")
    schema = stores.store_schema(url, wanted or Settings.load().store_schema)
    context.configure(
        url=url,
        target_metadata=metadata,
        literal_binds=True,
        render_as_batch=url.get_backend_name() == "sqlite",
        transactional_ddl=True,
        version_table_schema=schema,
    )
    with context.begin_transaction():
        if schema is not None:  # the script then runs in the store's schema, as online
            context.execute(f'CREATE SCHEMA IF NOT EXISTS "{schema}"')
            context.execute(f"SET LOCAL search_path TO {schema}")
        context.run_migrations()


def run_migrations_online() -> None:
    """Run the migrations in one transaction: a failure leaves the schema as it was."""
    engine = config.attributes.get("engine")
    if engine is not None:
        _migrate(engine)
        return
    url = _url()
    database = normalize_url(url).database or ""
    if normalize_url(url).get_backend_name() == "sqlite" and database:
        os.makedirs(os.path.dirname(os.path.abspath(database)) or ".", exist_ok=True)
    for schema in _schemas(url):
        if schema is not None:
            stores.ensure_schema(normalize_url(url), schema, create=True)
        engine = make_engine(url, schema=schema)
        try:
            _migrate(engine)
        finally:
            engine.dispose()


def _migrate(engine: Engine) -> None:
    with engine.connect() as connection:
        connection.execution_options(**{WRITE_OPTION: True})
        _configure(connection)
        with context.begin_transaction():
            context.run_migrations()


if context.is_offline_mode():
    run_migrations_offline()
else:
    run_migrations_online()
