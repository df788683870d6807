"""``audit tail|run|sku|verify``: read the audit trail and check its hash chain."""

from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path
from typing import Annotated

import typer
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn
from rich.table import Table

from inventory_core import audit
from inventory_core.audit.queries import AuditEntry
from inventory_core.cli.app import EXIT_ERROR, app, console, err_console, open_db
from inventory_core.cli.dates import iso_since

audit_app = typer.Typer(
    help="Read the audit trail (who changed what, when, in which run) and verify its chain.",
    no_args_is_help=True,
)
app.add_typer(audit_app, name="audit")

JsonOption = Annotated[bool, typer.Option("--json", help="Print JSON instead of a table.")]


def _show(entries: Sequence[AuditEntry], as_json: bool, title: str) -> None:
    """Print audit rows as JSON lines-in-a-list or as a rich table."""
    if as_json:
        console.print_json(json.dumps([entry.to_dict() for entry in entries]))
        return
    table = Table(title=title)
    for column in ("id", "timestamp (UTC)", "operation", "user", "sku", "run id", "details"):
        table.add_column(column, overflow="fold")
    for e in entries:
        details = json.dumps(e.details, ensure_ascii=False, separators=(",", ":"))
        row = (str(e.audit_id), e.timestamp, e.operation, e.user, e.sku or "", e.run_id, details)
        table.add_row(*row)
    console.print(table)


@audit_app.command("tail")
def tail_command(
    ctx: typer.Context,
    n: Annotated[int, typer.Option("-n", "--lines", min=1, help="How many rows to show.")] = 20,
    since: Annotated[
        str | None,
        typer.Option(
            parser=iso_since,
            metavar="YYYY-MM-DD[THH:MM[:SS]]",
            help="Only rows at or after this UTC day or time, as YYYY-MM-DD or "
            "YYYY-MM-DDTHH:MM[:SS] (e.g. 2026-02-12T08:00).",
        ),
    ] = None,
    as_json: JsonOption = False,
) -> None:
    """Show the newest audit rows, oldest of them first."""
    with open_db(ctx, check=None, read_only=True, need_schema=True) as db:
        entries = audit.tail(db, n, since=since)
    _show(entries, as_json, f"Last {len(entries)} audit rows")


@audit_app.command("run")
def run_command(
    ctx: typer.Context,
    run_id: Annotated[str, typer.Argument(help="The run id (a UUID) shown by 'audit tail'.")],
    as_json: JsonOption = False,
) -> None:
    """Show every audit row written in one run."""
    with open_db(ctx, check=None, read_only=True, need_schema=True) as db:
        entries = audit.by_run(db, run_id)
    _show(entries, as_json, f"Run {run_id}: {len(entries)} audit rows")


@audit_app.command("sku")
def sku_command(
    ctx: typer.Context,
    sku: Annotated[str, typer.Argument(help="The SKU code.")],
    as_json: JsonOption = False,
) -> None:
    """Show every audit row about one SKU."""
    with open_db(ctx, check=None, read_only=True, need_schema=True) as db:
        entries = audit.by_sku(db, sku)
    _show(entries, as_json, f"SKU {sku}: {len(entries)} audit rows")


@audit_app.command("verify")
def verify_command(
    ctx: typer.Context,
    against: Annotated[
        Path | None,
        typer.Option(
            "--against",
            help="A backup manifest (JSON with audit_head_hash and audit_rows): also check "
            "that the chain still holds the head recorded then.",
            metavar="MANIFEST",
        ),
    ] = None,
    as_json: JsonOption = False,
) -> None:
    """Walk the audit hash chain and check the ledger rows it seals; name what was edited,
    deleted or inserted behind the library's back (exit 3)."""
    with open_db(ctx, check=None, read_only=True, need_schema=True) as db:
        total = audit.head(db)[1]
        columns = (TextColumn("verifying"), BarColumn(), MofNCompleteColumn())
        with Progress(*columns, console=err_console, transient=True) as bar:
            task = bar.add_task("verify", total=total)
            report = audit.verify(db, against, progress=lambda n: bar.update(task, completed=n))
    if as_json:
        console.print_json(json.dumps(report.to_dict()))
        if not report.ok:
            raise typer.Exit(code=EXIT_ERROR)
        return
    report.raise_if_broken()
    console.print(
        f"Audit chain intact: {report.rows_checked} rows, head {report.head_hash}; "
        f"{report.ledger_rows_checked} ledger rows sealed by it.",
        highlight=False,
    )
