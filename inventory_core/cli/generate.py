"""``generate``: fill a database with realistic, deterministic data (for demos and benchmarks)."""

from __future__ import annotations

from typing import Annotated

import typer
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

from inventory_core.cli.app import app, console, err_console, open_db
from inventory_core.tools.generate import generate as generate_data


@app.command()
def generate(
    ctx: typer.Context,
    skus: Annotated[int, typer.Option("--skus", min=1, help="How many SKUs to create.")],
    events: Annotated[
        int, typer.Option("--events", min=1, help="How many ledger events in total.")
    ],
    days: Annotated[int, typer.Option("--days", min=1, help="Days of history.")] = 365,
    seed: Annotated[int, typer.Option("--seed", help="Random seed: same seed, same data.")] = 0,
    into_existing: Annotated[
        bool,
        typer.Option(
            "--into-existing", help="Also write into a database that already holds SKUs or events."
        ),
    ] = False,
) -> None:
    """Write SKUs, promotions and a year of orders, receipts, sales and counts (bulk path).

    The database must exist ('init' creates it) and, unless --into-existing, hold no SKUs
    and no events: demo data never mixes into a real ledger by accident.
    """
    columns = (TextColumn("events"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn())
    with (
        open_db(ctx, write=True, migrate=True) as db,
        Progress(*columns, console=err_console, transient=True) as bar,
    ):
        if db.revision() is None:
            db.upgrade()
        task = bar.add_task("events", total=events)
        result = generate_data(
            db,
            skus=skus,
            events=events,
            days=days,
            seed=seed,
            into_existing=into_existing,
            progress=lambda done, total: bar.update(task, completed=done, total=total),
        )
    console.print(
        f"Generated {result.skus:,} SKUs, {result.events:,} events, "
        f"{result.promotions:,} promotions, {result.reversals} reversals "
        f"in {result.seconds:.1f} s ({result.events_per_second:,.0f} events/s)",
        highlight=False,
    )
