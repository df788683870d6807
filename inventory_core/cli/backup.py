"""Backup commands: backup, backups, verify, restore, retention, export, import, bundle."""

from __future__ import annotations

import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Annotated

import typer
from rich.progress import (
    BarColumn,
    Progress,
    TaskID,
    TaskProgressColumn,
    TextColumn,
    TimeElapsedColumn,
)
from rich.table import Table

from inventory_core.backup import (
    BackupInfo,
    BackupService,
    RestorePlan,
    RestoreResult,
    debug_bundle,
    export_csv,
    import_csv,
    restore_damaged,
)
from inventory_core.cli.app import app, console, err_console, open_db, state_of
from inventory_core.db.engine import normalize_url, sqlite_path
from inventory_core.errors import (
    BackupError,
    CorruptDatabaseError,
    NotADatabaseError,
    ValidationError,
)
from inventory_core.errors.i18n import gettext as _
from inventory_core.opening import Database

PathArg = Annotated[Path, typer.Argument(help="Path of the backup file.")]
OtherDatabase = Annotated[
    bool,
    typer.Option(
        "--other-database", help="Accept a backup of another database (its identity differs)."
    ),
]


@contextmanager
def _bar(label: str) -> Iterator[tuple[Progress, TaskID]]:
    columns = (TextColumn(label), BarColumn(), TaskProgressColumn(), TimeElapsedColumn())
    with Progress(*columns, console=err_console, transient=True) as bar:
        yield bar, bar.add_task(label, total=None)


def _service(db: Database) -> BackupService:
    return BackupService(db, db.backup_dir)


def _size(n: int) -> str:
    return f"{n / 1_048_576:.1f} MB" if n >= 1_048_576 else f"{n / 1024:.1f} KB"


@app.command("backup")
def backup_cmd(
    ctx: typer.Context,
    reason: Annotated[str, typer.Option(help="Why: becomes part of the file name.")] = "manual",
) -> None:
    """Take a verified online backup (with a manifest) into the backup folder."""
    with open_db(ctx, need_schema=True) as db, _bar("Backing up") as (bar, task):
        path = _service(db).backup(
            reason, progress=lambda d, t: bar.update(task, completed=d, total=t)
        )
    console.print(f"Backup written: {path}", highlight=False, soft_wrap=True)
    console.print(f"Backup folder: {db.backup_dir}", highlight=False, soft_wrap=True)


@app.command("backups")
def backups_cmd(ctx: typer.Context) -> None:
    """List the backups of this database, newest first, and the folder they are in."""
    with open_db(ctx, check=None, read_only=True) as db:
        entries: list[BackupInfo] = _service(db).list()
    console.print(f"Backup folder: {db.backup_dir}", highlight=False, soft_wrap=True)
    if not entries:
        console.print(
            f"No backups of {db.path or db.display_url} there yet.", highlight=False, soft_wrap=True
        )
        return
    table = Table(title="Backups (newest first)")
    for column in ("file", "reason", "size", "age", "verified"):
        table.add_column(column)
    for info in entries:
        age = str(info.age).split(".")[0]
        table.add_row(
            info.path.name, info.reason, _size(info.size), age, "yes" if info.verified else "NO"
        )
    console.print(table)


@app.command("verify")
def verify_cmd(ctx: typer.Context, path: PathArg, other_database: OtherDatabase = False) -> None:
    """Check a backup: checksum, integrity, every manifest claim, its audit chain, identity."""
    with open_db(ctx, check=None, read_only=True) as db, _bar("Verifying"):
        problems = _service(db).verify(path, allow_other_database=other_database)
    for problem in problems:
        err_console.print(f"[red]{problem.code}[/]: {problem.message}", highlight=False)
    if problems:
        raise typer.Exit(code=1)
    console.print(f"[green]OK[/]: {path} can be restored.")


def _print_plan(plan: RestorePlan) -> None:
    table = Table(
        title=f"Restore {plan.backup.name}: revision {plan.revision_now} -> {plan.revision_backup}",
        caption="'after' counts the rows in the backup file itself.",
    )
    for column in ("table", "now", "after", "change"):
        table.add_column(column, justify="right" if column != "table" else "left")
    for diff in plan.tables:
        table.add_row(diff.table, str(diff.now), str(diff.after), f"{diff.delta:+d}")
    console.print(table)
    if plan.other_database:
        console.print(
            f"[yellow]The backup is of another database[/] ({plan.database_backup}); this "
            f"one is {plan.database_now}.",
            highlight=False,
        )
    console.print(f"A safety backup will be taken first: {plan.safety_backup.name}")


def _confirm(yes: bool, question: str) -> None:
    if yes:
        return
    if not sys.stdin.isatty():
        raise ValidationError(
            _("a restore needs --yes when it cannot ask (stdin is not a terminal)"), field="--yes"
        )
    if not typer.confirm(question):
        raise typer.Exit(code=1)


def _restore_damaged(ctx: typer.Context, path: Path, yes: bool) -> None:
    settings = state_of(ctx).settings()
    live = sqlite_path(normalize_url(settings.database_url))
    if live is None:
        raise BackupError(_("only a SQLite database can be replaced while it does not open"))
    _confirm(yes, f"The database {live} does not open. Put {path.name} in its place?")
    aside = restore_damaged(live, path, settings)
    console.print(f"Restored {path.name}; the damaged file was kept as {aside.name}.")


@app.command("restore")
def restore_cmd(
    ctx: typer.Context,
    path: PathArg,
    dry_run: Annotated[
        bool, typer.Option("--dry-run", help="Show the plan; change nothing.")
    ] = False,
    yes: Annotated[bool, typer.Option("--yes", help="Do not ask for confirmation.")] = False,
    other_database: OtherDatabase = False,
) -> None:
    """Verify a backup, take a safety backup, restore it in one transaction, or roll back.

    Programs using the database may keep running: no write they were told succeeded is
    lost. A database that no longer opens (damaged, truncated) is kept aside instead.
    """
    try:
        db = open_db(ctx, check=None, create=True)
    except (CorruptDatabaseError, NotADatabaseError):
        if dry_run:
            raise
        _restore_damaged(ctx, path, yes)
        return
    with db:
        service = _service(db)
        plan = service.restore(path, dry_run=True, allow_other_database=other_database)
        assert isinstance(plan, RestorePlan)
        _print_plan(plan)
        if dry_run:
            return
        _confirm(yes, "Replace the live database with this backup?")
        with _bar("Restoring"):
            result = service.restore(path, allow_other_database=other_database, plan=plan)
        assert isinstance(result, RestoreResult)
    console.print(f"Restored {path.name}; safety backup {result.safety_backup.name}.")
    if result.writes_discarded:
        console.print(
            f"{result.writes_discarded} write(s) made after the backup you restored "
            f"({result.ledger_rows_discarded} ledger row(s)) are kept in the safety backup "
            f"{result.safety_backup.name}.",
            highlight=False,
        )


@app.command("retention")
def retention_cmd(
    ctx: typer.Context,
    dry_run: Annotated[bool, typer.Option("--dry-run", help="List what would be deleted.")] = False,
) -> None:
    """Delete the backups the retention policy (last N + daily/weekly/monthly) does not keep."""
    with open_db(ctx, check=None) as db:
        doomed = _service(db).apply_retention(dry_run=dry_run)
    verb = "Would delete" if dry_run else "Deleted"
    for info in doomed:
        console.print(f"{verb} {info.path.name}")
    console.print(f"{verb} {len(doomed)} backup(s).")


@app.command("export")
def export_cmd(
    ctx: typer.Context,
    folder: Annotated[Path, typer.Argument(help="Empty folder (or .zip with --zip) to write.")],
    as_zip: Annotated[bool, typer.Option("--zip", help="Write one zip file.")] = False,
) -> None:
    """Export every table as CSV (UTF-8 with BOM) with a manifest and a README."""
    with (
        open_db(ctx, read_only=True, need_schema=True) as db,
        _bar("Exporting") as (bar, task),
    ):
        target = export_csv(db, folder, zip=as_zip, progress=lambda t, n: bar.advance(task))
    console.print(f"Snapshot written: {target}")


@app.command("import")
def import_cmd(
    ctx: typer.Context,
    path: Annotated[Path, typer.Argument(help="Snapshot folder or zip made by 'export'.")],
) -> None:
    """Import a CSV snapshot into an empty, migrated database, all of it or nothing.

    The snapshot is checked against its manifest, read cell by cell in the exact form the
    export writes, and checked like 'check --full' (invariants, audit chain) before it
    commits; anything else is refused with a BAK_ code naming the file, row and column.
    """
    with open_db(ctx, need_schema=True) as db, _bar("Importing") as (bar, task):
        counts = import_csv(db, path, progress=lambda t, n: bar.advance(task))
    console.print(f"Imported {sum(counts.values())} rows into {len(counts)} tables.")


@app.command("bundle")
def bundle_cmd(
    ctx: typer.Context,
    path: Annotated[Path, typer.Argument(help="Zip file to write.")],
    no_data: Annotated[bool, typer.Option("--no-data", help="Leave the data out.")] = False,
) -> None:
    """Write a debug bundle: data copy, health report, logs, redacted settings, versions."""
    with open_db(ctx, check=None) as db, _bar("Bundling"):
        target = debug_bundle(db, path, include_data=not no_data)
    console.print(f"Debug bundle written: {target}")
