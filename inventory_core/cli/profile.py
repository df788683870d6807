"""``profile``: time the critical queries of a database against their targets."""

from __future__ import annotations

import json
from typing import Annotated

import typer
from rich.table import Table

from inventory_core.cli.app import app, console, open_db
from inventory_core.tools.profile import ProfileReport, profile

STYLE = {"PASS": "green", "WARN": "yellow", "FAIL": "bold red"}


def print_profile(report: ProfileReport, *, explain: bool) -> None:
    """The timings as a table, then (with ``explain``) each query's plan."""
    table = Table(
        title=f"{report.database}: {report.skus:,} SKUs, {report.events:,} events, SKU {report.sku}"
    )
    for column in ("query", "median ms", "p95 ms", "target ms", "status"):
        table.add_column(column, justify="left" if column == "query" else "right")
    for q in report.queries:
        table.add_row(
            q.name,
            f"{q.median_ms:.3f}",
            f"{q.p95_ms:.3f}",
            f"{q.target_ms:g}",
            f"[{STYLE[q.status]}]{q.status}[/]",
        )
    console.print(table)
    for q in report.queries if explain else ():
        console.print(f"[bold]{q.name}[/]", highlight=False)
        for line in q.plan:
            console.print(f"  {line}", highlight=False, markup=False)
        for scan in q.full_scans:
            console.print(f"  [red]full scan of a ledger table:[/] {scan}", highlight=False)
    console.print(f"Overall: [{STYLE[report.status]}]{report.status}[/]")


@app.command("profile")
def profile_command(
    ctx: typer.Context,
    explain: Annotated[
        bool, typer.Option("--explain", help="Print each query's plan (EXPLAIN QUERY PLAN).")
    ] = False,
    as_json: Annotated[bool, typer.Option("--json", help="Print the profile as JSON.")] = False,
    sku: Annotated[
        str | None, typer.Option("--sku", help="SKU to probe (default: the newest event's).")
    ] = None,
    repeat: Annotated[int, typer.Option("--repeat", min=1, help="Timed runs per query.")] = 20,
) -> None:
    """Time get/list/history/lots/stock/stock_all/audit queries; exit 1 if any FAILs."""
    with open_db(ctx, check=None, read_only=True, need_schema=True) as db:
        report = profile(db, sku=sku, repeat=repeat, with_plans=explain or as_json)
    if as_json:
        console.print_json(json.dumps(report.to_dict()))
    else:
        print_profile(report, explain=explain)
    raise typer.Exit(code=1 if report.status == "FAIL" else 0)
