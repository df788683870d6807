"""The shop's write commands: ``count``, ``close-order`` and ``order --from-proposals``.

Each is one call of :class:`~inventory_core.inventory.Inventory` (one unit of work, one
audit row); the database is backed up first like every writing command.
"""

from __future__ import annotations

import csv
from dataclasses import asdict
from datetime import date
from pathlib import Path
from typing import Annotated

import typer

from inventory_core.cli.app import app, console, open_db
from inventory_core.cli.dates import DATE_FORMAT, iso_date
from inventory_core.cli.output import AsCsv, AsJson, emit
from inventory_core.cli.shop import PROPOSAL_COLUMNS, AsOf
from inventory_core.errors import ValidationError
from inventory_core.errors.i18n import gettext as _
from inventory_core.inventory import Inventory

COUNT_COLUMNS = ("sku", "date", "expected", "counted", "sold", "wasted", "adjusted")


def read_counts(path: Path) -> dict[str, int]:
    """``{sku: counted}`` from a CSV file with the columns ``sku`` and ``counted``.

    Raises:
        ValidationError: the file cannot be read, lacks a column, repeats a SKU or holds a
            count that is not a whole number.
    """
    try:
        with path.open(encoding="utf-8-sig", newline="") as handle:
            records = list(csv.DictReader(handle))
    except (OSError, UnicodeDecodeError, csv.Error) as exc:
        raise ValidationError(
            _("cannot read {path}: {reason}").format(path=path, reason=exc), field="file"
        ) from None
    counts: dict[str, int] = {}
    for line, record in enumerate(records, start=2):
        sku, counted = record.get("sku"), record.get("counted")
        if sku is None or counted is None:
            raise ValidationError(_("needs the columns sku and counted"), field="file")
        if sku in counts:
            raise ValidationError(
                _("line {line}: {sku} is counted twice").format(line=line, sku=sku),
                field="file",
            )
        try:
            counts[sku] = int(counted.strip())
        except ValueError:
            raise ValidationError(
                _("line {line}: {value} is not a whole number").format(
                    line=line, value=repr(counted)
                ),
                field="counted",
            ) from None
    if not counts:
        raise ValidationError(_("holds no counts"), field="file")
    return counts


@app.command()
def count(
    ctx: typer.Context,
    sku: Annotated[
        str | None, typer.Argument(metavar="[SKU]", help="The SKU counted (or use --file).")
    ] = None,
    counted: Annotated[
        int | None, typer.Argument(metavar="[COUNTED]", help="Units on the shelf.")
    ] = None,
    on: Annotated[
        date | None,
        typer.Option(
            "--on", parser=iso_date, metavar="DATE", help=f"Day counted ({DATE_FORMAT}; today)."
        ),
    ] = None,
    file: Annotated[
        Path | None,
        typer.Option(
            "--file", metavar="PATH", help="CSV with the columns sku,counted: a whole count."
        ),
    ] = None,
    as_json: AsJson = False,
    as_csv: AsCsv = False,
) -> None:
    """Record an end-of-day shelf count: the day's sale, then waste or adjust for the rest."""
    if file is not None and (sku is not None or counted is not None):
        raise typer.BadParameter(_("give SKU COUNTED or --file, not both."))
    if file is None and (sku is None or counted is None):
        raise typer.BadParameter(_("give SKU COUNTED, or --file PATH."))
    counts = read_counts(file) if file is not None else {str(sku): int(counted or 0)}
    day = on or date.today()
    with open_db(ctx, write=True, need_schema=True) as db:
        results = Inventory(db).count_end_of_day_many(counts, on=day)
    emit(results, COUNT_COLUMNS, f"Count of {day}", as_json, as_csv)


@app.command("close-order")
def close_order(
    ctx: typer.Context,
    order_id: Annotated[int, typer.Argument(metavar="ORDER_ID", help="The order to close.")],
    reason: Annotated[
        str, typer.Option("--reason", metavar="TEXT", help="Why the rest will not come.")
    ],
    on: Annotated[
        date | None,
        typer.Option(
            "--on",
            parser=iso_date,
            metavar="DATE",
            help=f"Day of the close ({DATE_FORMAT}; today).",
        ),
    ] = None,
) -> None:
    """Close an order short: its open remainder stops counting in on_order."""
    with open_db(ctx, write=True, need_schema=True) as db:
        done = Inventory(db).close_order(order_id, reason=reason, on=on)
    console.print(
        f"Order {done.order_id} ({done.sku}) closed on {done.date}: "
        f"{done.qty} units will not be delivered.",
        highlight=False,
    )


@app.command("order")
def order(
    ctx: typer.Context,
    from_proposals: Annotated[
        bool,
        typer.Option("--from-proposals", help="Order what 'proposals' proposes."),
    ] = False,
    asof: AsOf = None,
    dry_run: Annotated[
        bool, typer.Option("--dry-run", help="Show the orders, write nothing.")
    ] = False,
    as_json: AsJson = False,
    as_csv: AsCsv = False,
) -> None:
    """Place orders; with --from-proposals, every reorder proposal in one unit of work."""
    if not from_proposals:
        raise typer.BadParameter(_("only --from-proposals is supported."))
    with open_db(ctx, write=not dry_run, read_only=dry_run, need_schema=True) as db:
        inventory = Inventory(db)
        found = inventory.reorder_proposals(asof)
        ids = [] if dry_run or not found else inventory.order_many(found, on=date.today())
    rows = [{**asdict(p), "order_id": ids[i] if ids else None} for i, p in enumerate(found)]
    title = "Orders (dry run)" if dry_run else "Orders placed"
    emit(rows, (*PROPOSAL_COLUMNS, "order_id"), title, as_json, as_csv)
