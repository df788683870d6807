"""Alembic environment of inventory_core, built on the library's own engine factory."""

from __future__ import annotations

import os
from logging.config import fileConfig

from sqlalchemy import Connection

from alembic import context
from inventory_core.config import Settings
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


def _configure(connection: Connection) -> None:
    context.configure(
        connection=connection,
        target_metadata=metadata,
        render_as_batch=connection.dialect.name == "sqlite",
        transactional_ddl=True,
        compare_type=True,
    )


def run_migrations_offline() -> None:
    """Emit the SQL of the migrations instead of running them (``alembic upgrade --sql``)."""
    url = normalize_url(_url())
    context.configure(
        url=url,
        target_metadata=metadata,
        literal_binds=True,
        render_as_batch=url.get_backend_name() == "sqlite",
        transactional_ddl=True,
    )
    with context.begin_transaction():
        context.run_migrations()


def run_migrations_online() -> None:
    """Run the migrations in one transaction: a failure leaves the schema as it was."""
    engine = config.attributes.get("engine")
    owned = engine is None
    if engine is None:
        url = _url()
        database = normalize_url(url).database or ""
        if normalize_url(url).get_backend_name() == "sqlite" and database:
            os.makedirs(os.path.dirname(os.path.abspath(database)) or ".", exist_ok=True)
        engine = make_engine(url)
    try:
        with engine.connect() as connection:
            connection.execution_options(**{WRITE_OPTION: True})
            _configure(connection)
            with context.begin_transaction():
                context.run_migrations()
    finally:
        if owned:
            engine.dispose()


if context.is_offline_mode():
    run_migrations_offline()
else:
    run_migrations_online()
