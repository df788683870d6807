"""Invariant query objects and the health report."""

from __future__ import annotations

from typing import TYPE_CHECKING

from sqlalchemy import inspect

from inventory_core.errors import NotMigratedError

if TYPE_CHECKING:
    from inventory_core.db.database import Database


def startup_check(db: Database, *, full: bool = False) -> None:
    """The checks run by ``Database.open``: every table of the schema is present.

    Raises:
        NotMigratedError: a table of the schema is missing.
    """
    from inventory_core.models import metadata

    with db.read() as uow:
        present = set(inspect(uow.connection).get_table_names())
    missing = sorted(set(metadata.tables) - present)
    if missing:
        raise NotMigratedError(f"missing tables: {', '.join(missing)}")
