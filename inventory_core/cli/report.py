"""``report``: reports over the ledger (``report stock SKU``: the daily stock history)."""

from __future__ import annotations

from datetime import date
from pathlib import Path
from typing import Annotated

import typer
from rich.table import Table

from inventory_core.cli.app import app, console, open_db
from inventory_core.cli.dates import DATE_FORMAT, iso_date
from inventory_core.ledger.stock_history import StockHistory, plot_stock_history, stock_history

report_app = typer.Typer(help="Reports over the ledger.", no_args_is_help=True)
app.add_typer(report_app, name="report")


def print_history(history: StockHistory) -> None:
    """The series as a table, one row per day."""
    table = Table(title=f"Stock of {history.sku}, {history.start} to {history.end} (end of day)")
    for column in ("day", "on_hand", "on_order", "received", "sold", "waste", "adjust", "count"):
        table.add_column(column, justify="left" if column == "day" else "right")
    for d in history.days:
        flows = (d.received, d.sold, d.wasted, d.adjusted)
        count = "" if d.counted is None else str(d.counted)
        table.add_row(
            str(d.day), str(d.on_hand), str(d.on_order), *(str(v or "") for v in flows), count
        )
    console.print(table)


@report_app.command("stock")
def stock(
    ctx: typer.Context,
    sku: Annotated[str, typer.Argument(help="The SKU whose history to show.")],
    start: Annotated[
        date | None,
        typer.Option(
            "--from",
            parser=iso_date,
            metavar=DATE_FORMAT,
            help="First day, as YYYY-MM-DD (default: first event).",
        ),
    ] = None,
    end: Annotated[
        date | None,
        typer.Option(
            "--to",
            parser=iso_date,
            metavar=DATE_FORMAT,
            help="Last day, as YYYY-MM-DD (default: last event).",
        ),
    ] = None,
    png: Annotated[
        Path | None, typer.Option("--png", help="Also draw the chart into this PNG file.")
    ] = None,
) -> None:
    """Daily on_hand and on_order of one SKU, as a table and optionally a chart."""
    with open_db(ctx, check=None, read_only=True, need_schema=True) as db:
        history = stock_history(db, sku, start, end)
    print_history(history)
    if png is not None:
        console.print(f"Chart written to {plot_stock_history(history, png)}", highlight=False)
