"""``check`` (the health report) and ``maintenance`` (analyze, reindex, vacuum...)."""

from __future__ import annotations

import json
from typing import Annotated

import typer
from rich.table import Table

from inventory_core.cli.app import app, console, open_db, print_error
from inventory_core.errors import InventoryError
from inventory_core.invariants import HealthReport, HealthStatus, InvariantResult, check_all
from inventory_core.opening import maintenance as upkeep

STATUS_STYLE = {
    HealthStatus.HEALTHY: "bold green",
    HealthStatus.DEGRADED: "bold yellow",
    HealthStatus.UNHEALTHY: "bold red",
}


def _mark(result: InvariantResult) -> str:
    if result.skipped:
        return "[dim]skipped[/]"
    return "[green]ok[/]" if result.ok else "[red]FAIL[/]"


def print_report(report: HealthReport, *, verbose: bool) -> None:
    """The report as a table, then each failure's rows and steps (and SQL with -v)."""
    table = Table(title=f"inventory-core check ({'full' if report.full else 'quick'})")
    for column in ("invariant", "severity", "result", "count", "ms"):
        table.add_column(column, justify="right" if column in ("count", "ms") else "left")
    for r in report.results:
        table.add_row(r.name, r.severity.value, _mark(r), str(r.count), f"{r.elapsed_ms:.1f}")
    console.print(table)
    for r in report.results:
        if verbose and r.sql:
            console.print(f"[bold]{r.name}[/] SQL:\n{r.sql}", highlight=False, soft_wrap=True)
        if r.ok:
            continue
        console.print(f"[bold red]{r.name}[/]: {r.description} ({r.count} rows)")
        if r.detail:
            console.print(f"  {r.detail}", highlight=False)
        for row in r.sample:
            console.print(f"  {json.dumps(row, ensure_ascii=False)}", highlight=False)
        for number, step in enumerate(r.recovery_steps, start=1):
            console.print(f"  {number}. {step}", highlight=False)
    console.print(f"Status: [{STATUS_STYLE[report.status]}]{report.status.value}[/]")


@app.command()
def check(
    ctx: typer.Context,
    only: Annotated[
        list[str] | None,
        typer.Option(
            "--only", help="Run only this invariant (repeat for several).", metavar="NAME"
        ),
    ] = None,
    full: Annotated[
        bool, typer.Option("--full", help="Run SQLite integrity_check instead of quick_check.")
    ] = False,
    as_json: Annotated[bool, typer.Option("--json", help="Print the report as JSON.")] = False,
    verbose: Annotated[
        bool, typer.Option("-v", "--verbose", help="Print each query's SQL.")
    ] = False,
) -> None:
    """Check every invariant; exit 0 healthy, 1 degraded, 2 unhealthy or unreadable."""
    try:
        db = open_db(ctx, check=None, read_only=True, need_schema=True)
    except InventoryError as exc:
        print_error(exc)
        raise typer.Exit(code=HealthStatus.UNHEALTHY.exit_code) from None
    with db:
        report = check_all(db, full=full, only=only)
    if as_json:
        console.print_json(report.to_json())
    else:
        print_report(report, verbose=verbose)
    raise typer.Exit(code=report.status.exit_code)


maintenance_app = typer.Typer(
    help="Database upkeep: analyze, reindex, vacuum, optimize, checkpoint.",
    no_args_is_help=True,
)
app.add_typer(maintenance_app, name="maintenance")

DryRun = Annotated[bool, typer.Option("--dry-run", help="Show what would run, change nothing.")]


def _maintain(ctx: typer.Context, action: upkeep.Action, dry_run: bool) -> None:
    with open_db(ctx) as db:
        result = upkeep.run(db, action, dry_run=dry_run)
    verb = "Would run" if result.dry_run else "Ran"
    console.print(f"{verb}: {'; '.join(result.statements)}", highlight=False)
    if result.backup is not None:
        console.print(f"Backup taken first: {result.backup}", highlight=False)
    elif result.backup_first and db.path is not None:
        console.print("Backup: one would be taken first.")
    after = "" if result.size_after is None else f" -> {result.size_after:,} bytes"
    console.print(f"Size: {result.size_before:,} bytes{after}", highlight=False)
    for row in result.output:
        console.print(f"Result: {', '.join(str(v) for v in row)}", highlight=False)


@maintenance_app.command()
def analyze(ctx: typer.Context, dry_run: DryRun = False) -> None:
    """Refresh the query planner's statistics (ANALYZE)."""
    _maintain(ctx, "analyze", dry_run)


@maintenance_app.command()
def reindex(ctx: typer.Context, dry_run: DryRun = False) -> None:
    """Back up, then rebuild every index (REINDEX); fixes index-only damage."""
    _maintain(ctx, "reindex", dry_run)


@maintenance_app.command()
def vacuum(ctx: typer.Context, dry_run: DryRun = False) -> None:
    """Back up, then rewrite the database compactly (VACUUM); shows the size before and after."""
    _maintain(ctx, "vacuum", dry_run)


@maintenance_app.command()
def optimize(ctx: typer.Context, dry_run: DryRun = False) -> None:
    """Let the database refresh what it needs (PRAGMA optimize / VACUUM ANALYZE)."""
    _maintain(ctx, "optimize", dry_run)


@maintenance_app.command()
def checkpoint(ctx: typer.Context, dry_run: DryRun = False) -> None:
    """Copy the WAL into the database file and truncate it (PRAGMA wal_checkpoint)."""
    _maintain(ctx, "checkpoint", dry_run)
