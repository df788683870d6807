"""The shop's read commands: ``stock``, ``skus``, ``history``, ``lots``, ``pipeline``,
``proposals`` and ``expiring``.

Each opens the database read-only (like ``info`` and ``check``: not a byte written), asks
:class:`~inventory_core.inventory.Inventory` one question and shows the answer with
:func:`~inventory_core.cli.output.emit`: a table, or the same rows as ``--json`` / ``--csv``.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import asdict
from datetime import date
from typing import Annotated, Any

import typer

from inventory_core.cli.app import app, open_db
from inventory_core.cli.dates import DATE_FORMAT, iso_date
from inventory_core.cli.output import AsCsv, AsJson, emit
from inventory_core.inventory import Inventory
from inventory_core.ledger.readmodels import SkuInfo

AsOf = Annotated[
    date | None,
    typer.Option(
        "--asof",
        parser=iso_date,
        metavar="DATE",
        help=f"As of this day ({DATE_FORMAT}): events before it count (default: all).",
    ),
]
Sku = Annotated[str, typer.Argument(metavar="SKU", help="The SKU code.")]
Category = Annotated[
    str | None,
    typer.Option("--category", metavar="TEXT", help="Only the SKUs of this category."),
]

STOCK_COLUMNS = ("sku", "on_hand", "on_order", "unfulfilled", "asof")
SKU_COLUMNS = (
    "sku",
    "description",
    "ean",
    "category",
    "active",
    "pack_size",
    "moq",
    "lead_time_days",
    "shelf_life_days",
    "reorder_point",
    "safety_stock",
    "max_stock",
    "attributes",
)
HISTORY_COLUMNS = ("transaction_id", "date", "event", "qty", "document_id", "note", "reversed")
LOT_COLUMNS = (
    "lot_id",
    "sku",
    "document_id",
    "received_date",
    "expiry_date",
    "qty_received",
    "qty_remaining",
)
PIPELINE_COLUMNS = ("expected", "qty", "orders")
PROPOSAL_COLUMNS = (
    "sku",
    "qty",
    "on_hand",
    "arriving",
    "unfulfilled",
    "position",
    "reorder_point",
    "target",
    "pack_size",
    "moq",
    "lead_time_days",
    "horizon",
)


@contextmanager
def reading(ctx: typer.Context) -> Iterator[Inventory]:
    """The database opened read-only (refused without the schema), as an Inventory."""
    with open_db(ctx, check=None, read_only=True, need_schema=True) as db:
        yield Inventory(db)


def _skus(inventory: Inventory, **filters: Any) -> Iterator[SkuInfo]:
    """Every SKU matching ``filters``, page by page, in code order."""
    after: str | None = None
    while True:
        page = inventory.list_skus(after=after, limit=1000, **filters)
        yield from page.items
        if page.next_after is None:
            return
        after = page.next_after


@app.command()
def stock(
    ctx: typer.Context,
    skus: Annotated[
        list[str] | None,
        typer.Argument(metavar="[SKU]...", help="The SKUs to show (default: every SKU)."),
    ] = None,
    asof: AsOf = None,
    category: Category = None,
    as_json: AsJson = False,
    as_csv: AsCsv = False,
) -> None:
    """On hand, on order and unfulfilled of each SKU (all of them, or those named)."""
    with reading(ctx) as inventory:
        if skus:
            found = [inventory.stock(code, asof) for code in skus]
        else:
            every = inventory.stock_all(asof)
            found = list(every.values())
        if category is not None:
            wanted = {info.sku for info in _skus(inventory, category=category)}
            found = [s for s in found if s.sku in wanted]
    emit(found, STOCK_COLUMNS, "Stock", as_json, as_csv)


@app.command("skus")
def list_skus(
    ctx: typer.Context,
    search: Annotated[
        str | None,
        typer.Option("--search", metavar="TEXT", help="Part of the code or description."),
    ] = None,
    category: Category = None,
    inactive: Annotated[
        bool, typer.Option("--inactive", help="Show the inactive SKUs instead of the active.")
    ] = False,
    limit: Annotated[
        int, typer.Option("--limit", metavar="N", min=1, max=10_000, help="At most N SKUs.")
    ] = 100,
    offset: Annotated[
        int, typer.Option("--offset", metavar="N", min=0, help="Skip the first N SKUs.")
    ] = 0,
    as_json: AsJson = False,
    as_csv: AsCsv = False,
) -> None:
    """The SKUs that exist, in code order, with their planning fields."""
    rows: list[dict[str, Any]] = []
    with reading(ctx) as inventory:
        found = _skus(inventory, active=not inactive, category=category, search=search)
        for index, info in enumerate(found):
            if index >= offset + limit:
                break
            if index >= offset:
                rows.append(asdict(info))
    emit(rows, SKU_COLUMNS, "SKUs", as_json, as_csv)


@app.command()
def history(
    ctx: typer.Context,
    sku: Sku,
    start: Annotated[
        date | None,
        typer.Option(
            "--from", parser=iso_date, metavar="DATE", help=f"First day ({DATE_FORMAT}, inclusive)."
        ),
    ] = None,
    end: Annotated[
        date | None,
        typer.Option(
            "--to", parser=iso_date, metavar="DATE", help=f"Last day ({DATE_FORMAT}, inclusive)."
        ),
    ] = None,
    as_json: AsJson = False,
    as_csv: AsCsv = False,
) -> None:
    """The SKU's ledger events in order, reversed ones flagged."""
    with reading(ctx) as inventory:
        entries = inventory.history(sku, start, end)
    emit(entries, HISTORY_COLUMNS, f"History of {sku}", as_json, as_csv)


@app.command()
def lots(
    ctx: typer.Context, sku: Sku, asof: AsOf = None, as_json: AsJson = False, as_csv: AsCsv = False
) -> None:
    """The SKU's lots holding units, first expiry first (as of a day: as they stood then)."""
    with reading(ctx) as inventory:
        found = inventory.lots(sku, asof)
    emit(found, LOT_COLUMNS, f"Lots of {sku}", as_json, as_csv)


@app.command()
def pipeline(
    ctx: typer.Context, sku: Sku, asof: AsOf = None, as_json: AsJson = False, as_csv: AsCsv = False
) -> None:
    """What is still open on the SKU's orders, by expected delivery date (undated last)."""
    with reading(ctx) as inventory:
        found = inventory.on_order_by_date(sku, asof)
    rows: list[dict[str, Any]] = [asdict(d) for d in found.dated]
    if found.undated:
        rows.append({"expected": None, "qty": found.undated, "orders": None})
    emit(rows, PIPELINE_COLUMNS, f"On order for {sku}", as_json, as_csv)


@app.command()
def proposals(
    ctx: typer.Context, asof: AsOf = None, as_json: AsJson = False, as_csv: AsCsv = False
) -> None:
    """Reorder proposals: the SKUs at or below their reorder point and what to order."""
    with reading(ctx) as inventory:
        found = inventory.reorder_proposals(asof)
    emit(found, PROPOSAL_COLUMNS, "Reorder proposals", as_json, as_csv)


@app.command()
def expiring(
    ctx: typer.Context,
    within: Annotated[
        int,
        typer.Option(
            "--within", metavar="DAYS", min=0, max=36_500, help="Expiring within DAYS days."
        ),
    ],
    asof: AsOf = None,
    as_json: AsJson = False,
    as_csv: AsCsv = False,
) -> None:
    """Every SKU's lots holding units that expire within DAYS days (expired ones too)."""
    with reading(ctx) as inventory:
        found = inventory.expiring(within, asof)
    emit(found, LOT_COLUMNS, "Expiring lots", as_json, as_csv)
