"""Rows for people and for programs: one list of records, shown as a table, JSON or CSV.

Each read command builds its rows once (a list of dicts with the same keys) and hands them
to :func:`emit`: a rich table at a terminal, or with ``--json`` / ``--csv`` the same data
as a JSON array / CSV with a header (as sqlite-utils prints it), to standard output.
"""

from __future__ import annotations

import csv
import json
import sys
from collections.abc import Mapping, Sequence
from dataclasses import asdict, is_dataclass
from datetime import date
from typing import Annotated, Any

import typer
from rich.table import Table

from inventory_core.cli.app import console
from inventory_core.errors.i18n import gettext as _

Row = Mapping[str, Any]

AsJson = Annotated[bool, typer.Option("--json", help="Print the rows as a JSON array.")]
AsCsv = Annotated[bool, typer.Option("--csv", help="Print the rows as CSV with a header.")]


def plain(value: Any) -> Any:
    """A value JSON and CSV can hold: dates as ``YYYY-MM-DD``, mappings as they are."""
    if isinstance(value, date):
        return value.isoformat()
    if hasattr(value, "value") and not isinstance(value, (int, str)):
        return value.value
    return value


def emit(
    rows: Sequence[Any], columns: Sequence[str], title: str, as_json: bool, as_csv: bool
) -> None:
    """Show ``rows`` (mappings or dataclasses, each holding every name in ``columns``) in
    the chosen form."""
    if as_json and as_csv:
        raise typer.BadParameter(_("choose one of --json and --csv."))
    mappings: list[Row] = [
        asdict(row) if is_dataclass(row) and not isinstance(row, type) else row for row in rows
    ]
    records = [{name: plain(row[name]) for name in columns} for row in mappings]
    if as_json:
        sys.stdout.write(json.dumps(records, ensure_ascii=False, indent=2) + "\n")
        return
    if as_csv:
        writer = csv.writer(sys.stdout, lineterminator="\n")
        writer.writerow(columns)
        for record in records:
            writer.writerow(
                [
                    json.dumps(v, ensure_ascii=False) if isinstance(v, dict) else _cell(v)
                    for v in record.values()
                ]
            )
        return
    table = Table(title=title)
    for name in columns:
        table.add_column(name, justify="right" if _numeric(records, name) else "left")
    for record in records:
        table.add_row(
            *(
                json.dumps(v, ensure_ascii=False) if isinstance(v, dict) else _cell(v)
                for v in record.values()
            )
        )
    console.print(table)


def _cell(value: Any) -> str:
    return "" if value is None else str(value)


def _numeric(records: Sequence[Row], name: str) -> bool:
    values = [r[name] for r in records if r[name] is not None]
    return bool(values) and all(isinstance(v, int) and not isinstance(v, bool) for v in values)


__all__ = ["AsCsv", "AsJson", "emit", "plain"]
