"""Helpers for the CSV snapshot tests: a realistic ledger, forged snapshots, an empty-check."""

from __future__ import annotations

import contextlib
import csv
import hashlib
import io
import json
import sqlite3
import string
from collections.abc import Callable
from datetime import date
from pathlib import Path
from typing import Any

from sqlalchemy import func, select

from inventory_core import Database, Inventory, ReceiptLine
from inventory_core.backup.csv_snapshot import FILE_TABLES
from inventory_core.models import metadata

BOM = "\ufeff"


def shop(db: Database, *, skus: int = 2) -> None:
    """A small ledger through the public API: counts, orders, receipts with lots, sales..."""
    inv = Inventory(db, user="tester")
    for n in range(skus):
        code = f"SKU{n:03d}"
        inv.add_sku(code, f"Articolo {n} = più", pack_size=6, moq=6, lead_time_days=2)
        inv.snapshot(code, 50, on=date(2026, 1, 1))
        order_id = inv.order(code, 24, on=date(2026, 1, 2), expected=date(2026, 1, 5))
        inv.receive(
            f"DDT-{n}",
            [ReceiptLine(code, 24, order_id=order_id, expiry=date(2026, 6, 1))],
            on=date(2026, 1, 5),
        )
        sale = inv.sell(code, 5, on=date(2026, 1, 6), note='\'quoted, "with" comma')
        inv.sell(code, 3, on=date(2026, 1, 7))
        inv.waste(code, 2, on=date(2026, 1, 8), note="=rotto")
        inv.adjust(code, -1, on=date(2026, 1, 9))
        inv.unfulfilled(code, 4, on=date(2026, 1, 9))
        inv.revert(sale, reason="cassa sbagliata")


def parse(text: str) -> list[list[str]]:
    """CSV text as rows of cells, whatever the size of a cell.

    The process-wide field limit is restored afterwards, so that the library under test
    cannot rely on a limit a test helper raised.
    """
    limit = csv.field_size_limit()
    csv.field_size_limit(max(limit, len(text) + 1))
    try:
        return list(csv.reader(io.StringIO(text, newline="")))
    finally:
        csv.field_size_limit(limit)


def read_table(folder: Path, table: str) -> list[list[str]]:
    """The cells of ``table``'s CSV file in a snapshot folder, header first."""
    return parse((folder / f"{table}.csv").read_bytes().decode("utf-8-sig"))


def write_table(folder: Path, table: str, rows: list[list[str]]) -> None:
    """Write ``rows`` (header first) as the export would, then re-forge the manifest."""
    out = io.StringIO(newline="")
    csv.writer(out).writerows(rows)
    (folder / f"{table}.csv").write_bytes((BOM + out.getvalue()).encode("utf-8"))
    forge(folder)


def forge(folder: Path, *, recount: bool = True) -> None:
    """Recompute every sha256 (and row count) of the manifest, as a careful forger would."""
    manifest = json.loads((folder / "manifest.json").read_text(encoding="utf-8"))
    for entry in manifest["tables"].values():
        data = (folder / entry["file"]).read_bytes()
        entry["sha256"] = hashlib.sha256(data).hexdigest()
        if recount:
            with contextlib.suppress(UnicodeDecodeError, csv.Error):
                entry["rows"] = max(0, len(parse(data.decode("utf-8-sig"))) - 1)
    (folder / "manifest.json").write_text(json.dumps(manifest, indent=2), encoding="utf-8")


def edit_manifest(folder: Path, change: Callable[[dict[str, Any]], Any]) -> None:
    """Apply ``change`` to the parsed manifest and write it back."""
    manifest = json.loads((folder / "manifest.json").read_text(encoding="utf-8"))
    change(manifest)
    (folder / "manifest.json").write_text(json.dumps(manifest, indent=2), encoding="utf-8")


def edit_cell(folder: Path, table: str, row: int, column: str, value: str) -> None:
    """Set one cell (``row`` 1 is the first data row) and re-forge the manifest."""
    rows = read_table(folder, table)
    rows[row][rows[0].index(column)] = value
    write_table(folder, table, rows)


def row_counts(db: Database) -> dict[str, int]:
    """Rows per table of every table of the schema (derived caches included)."""
    with db.read() as uow:
        return {
            t.name: int(uow.execute(select(func.count()).select_from(t)).scalar_one())
            for t in metadata.sorted_tables
        }


def is_empty(db: Database) -> bool:
    """True when no ledger table holds a row (the identity row every migrated file has aside)."""
    return not any(n for table, n in row_counts(db).items() if table not in FILE_TABLES)


def dump(path: Path) -> list[str]:
    """Every statement of an SQLite file's dump, read through a separate raw connection."""
    conn = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
    try:
        return list(conn.iterdump())
    finally:
        conn.close()


def located(exc: Any) -> tuple[Any, Any, Any]:
    """The (file, row, column) an import error names in its context."""
    return exc.context.get("file"), exc.context.get("row"), exc.context.get("column")


def placeholders_filled(exc: Any) -> bool:
    """True when every ``{name}`` of the error's message and steps has a value in context."""
    texts = [exc.template["en"], exc.template["it"], *exc.steps["en"], *exc.steps["it"]]
    names = {name for text in texts for _, name, _, _ in string.Formatter().parse(text) if name}
    return names <= {*exc.context, "detail"}
