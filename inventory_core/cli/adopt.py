"""``adopt``: move a shop in from desktop-order-system (a data folder or an ``app.db``)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated

import typer
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    TextColumn,
    TimeElapsedColumn,
    TimeRemainingColumn,
)
from rich.table import Table

from inventory_core.adopt import adopt as adopt_store
from inventory_core.adopt import open_source
from inventory_core.adopt.export import export_legacy
from inventory_core.adopt.findings import kind_text
from inventory_core.adopt.importer import AdoptResult
from inventory_core.adopt.report import report_data, write_report
from inventory_core.cli.app import app, console, err_console, open_db


def print_report(result: AdoptResult) -> None:
    """The report at a terminal: totals per kind, then per-SKU stock, legacy vs ours."""
    data = report_data(result)
    totals = Table(title=f"Rows not copied as they stood ({result.source})")
    totals.add_column("kind")
    totals.add_column("rows", justify="right")
    for kind, n in data["totals"].items():
        totals.add_row(kind_text(kind), str(n))
    console.print(totals)
    stock = Table(title=f"Stock as of {data['as_of']} (end of day)")
    for column in ("sku", "legacy", "ours", "difference"):
        stock.add_column(column, justify="left" if column == "sku" else "right")
    for row in data["stock"]:
        stock.add_row(
            row["sku"], str(row["legacy_on_hand"]), str(row["on_hand"]), str(row["difference"])
        )
    console.print(stock)
    if result.ignored:
        console.print("Ignored files: " + ", ".join(result.ignored), highlight=False)


@app.command()
def adopt(
    ctx: typer.Context,
    path: Annotated[Path, typer.Argument(help="The data folder or app.db to adopt.")],
    dry_run: Annotated[
        bool, typer.Option("--dry-run", help="Translate and report; write nothing.")
    ] = False,
    report: Annotated[
        Path | None, typer.Option("--report", help="Also write the report (.json or .csv).")
    ] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print the report as JSON.")] = False,
    skip_invalid: Annotated[
        bool,
        typer.Option("--skip-invalid", help="Leave out rows that cannot be translated (listed)."),
    ] = False,
) -> None:
    """Import a desktop-order-system store into an empty database, translated (docs/adopt.md)."""
    columns = (
        TextColumn("legacy rows"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        TimeRemainingColumn(),
    )
    with open_source(path) as source:
        if dry_run:
            result = adopt_store(None, source, skip_invalid=skip_invalid)
        else:
            with (
                open_db(ctx, write=True, migrate=True) as db,
                Progress(*columns, console=err_console, transient=True) as bar,
            ):
                if db.revision() is None:
                    db.upgrade()
                task = bar.add_task("legacy rows", total=None)
                result = adopt_store(
                    db,
                    source,
                    skip_invalid=skip_invalid,
                    progress=lambda done, total: bar.update(task, completed=done, total=total),
                )
    if report is not None:
        write_report(result, report)
    if as_json:
        console.print_json(json.dumps(report_data(result), default=str))
        return
    print_report(result)
    if result.already:
        console.print("This store was already imported: nothing was done.", highlight=False)
    elif result.dry_run:
        console.print("Dry run: nothing was written.", highlight=False)
    else:
        console.print(
            f"Imported {len(result.translation.skus):,} SKUs and "
            f"{len(result.translation.events):,} events.",
            highlight=False,
        )


@app.command("export-legacy")
def export_legacy_command(
    ctx: typer.Context,
    folder: Annotated[Path, typer.Argument(help="A new or empty folder to write into.")],
) -> None:
    """Write the ledger as a desktop-order-system data folder (the way back)."""
    with open_db(ctx, read_only=True, need_schema=True) as db:
        result = export_legacy(db, folder)
    console.print(
        f"Wrote {result.skus:,} SKUs and {result.events:,} events to {result.folder}",
        highlight=False,
    )
