"""``init``, ``upgrade`` and ``info``: create, migrate and describe a database."""

from __future__ import annotations

import json
from typing import Annotated

import typer
from rich.table import Table

from inventory_core.cli.app import app, console, open_db
from inventory_core.opening import info as db_info


@app.command()
def init(ctx: typer.Context) -> None:
    """Create the database if needed and migrate it to the newest schema."""
    with open_db(ctx, check=None, migrate=True, create=True) as db:
        db.upgrade()
        console.print(f"Database ready at {db.display_url} (revision {db.revision()}).")


@app.command()
def upgrade(ctx: typer.Context) -> None:
    """Back up the database, then migrate it to the newest schema (alembic upgrade head)."""
    with open_db(ctx, check=None) as db:
        before = db.revision()
        backup = db.upgrade()
        console.print(f"Schema: {before or 'empty'} -> {db.revision()}.")
        if backup is not None:
            console.print(f"Backup taken first: {backup}")


@app.command()
def info(
    ctx: typer.Context,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON instead of a table.")] = False,
) -> None:
    """Show the database path, size, schema revision, SQLite version and PRAGMAs in effect."""
    with open_db(ctx, check=None, read_only=True) as db:
        facts = db_info.describe(db)
    if as_json:
        console.print_json(json.dumps(facts))
        return
    table = Table(title="inventory-core database", show_header=False)
    for key, value in facts.items():
        if isinstance(value, dict):
            value = ", ".join(f"{k}={v}" for k, v in value.items())
        table.add_row(key, str(value))
    console.print(table)
