"""The adoption report: every row not copied as it stood, grouped by kind with totals, and
per SKU the legacy application's stock next to ours, as JSON-ready data or a CSV file."""

from __future__ import annotations

import csv
import json
from dataclasses import asdict
from pathlib import Path
from typing import Any

from inventory_core.adopt.findings import kind_text
from inventory_core.adopt.importer import AdoptResult

FINDING_COLUMNS = (
    "kind",
    "file",
    "line",
    "sku",
    "legacy",
    "legacy_effect",
    "recorded",
    "stock_difference",
)


def report_data(result: AdoptResult) -> dict[str, Any]:
    """The report as plain data (the ``--json`` output)."""
    t = result.translation
    stock = [
        {
            "sku": sku,
            "legacy_on_hand": t.legacy_stock[sku],
            "on_hand": t.our_stock[sku],
            "difference": t.our_stock[sku] - t.legacy_stock[sku],
            "legacy_on_order": t.legacy_on_order.get(sku, 0),
            "on_order": t.our_on_order.get(sku, 0),
        }
        for sku in sorted(t.legacy_stock)
    ]
    return {
        "source": result.source,
        "sha256": result.sha256,
        "dry_run": result.dry_run,
        "already_imported": result.already,
        "ignored_files": result.ignored,
        "as_of": None if t.last_date is None else t.last_date.isoformat(),
        "skus": len(t.skus),
        "events": len(t.events),
        "recorded": result.counts,
        "totals": t.totals(),
        "findings": [{**asdict(f), "kind_text": kind_text(f.kind)} for f in t.findings],
        "stock": stock,
    }


def write_report(result: AdoptResult, path: Path) -> None:
    """Write the report to ``path``: JSON for ``.json``, else CSV (findings, then stock)."""
    data = report_data(result)
    if path.suffix.lower() == ".json":
        path.write_text(json.dumps(data, indent=2, ensure_ascii=False), encoding="utf-8")
        return
    with path.open("w", newline="", encoding="utf-8") as out:
        writer = csv.writer(out)
        writer.writerow(("section", *FINDING_COLUMNS))
        for finding in data["findings"]:
            writer.writerow(("finding", *(finding[c] for c in FINDING_COLUMNS)))
        for row in data["stock"]:
            writer.writerow(
                (
                    "stock",
                    "",
                    "",
                    "",
                    row["sku"],
                    row["legacy_on_hand"],
                    row["on_hand"],
                    "",
                    row["difference"],
                )
            )
