"""Quickstart: open (or create) the database, migrate it, and describe it.

Run with ``make demo``; the database URL comes from INVENTORY_CORE_DATABASE_URL.
"""

from __future__ import annotations

from inventory_core import Database
from inventory_core.db.info import describe


def main() -> None:
    """Open, migrate and describe the database."""
    with Database.open() as db:
        db.upgrade()
        facts = describe(db)
        print(f"Database {facts['url']} at schema revision {facts['schema_revision']}")


if __name__ == "__main__":
    main()
