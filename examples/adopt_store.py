"""Adopt a small desktop-order-system data folder: dry run, import, report and stock.

Writes a legacy folder (clamped sales, an absolute cycle count, a negative SALE row, a
12-digit EAN) into a temporary folder, shows the translation report, imports it into a new
SQLite file (or INVENTORY_CORE_DATABASE_URL when set), and prints the stock next to what the
old application showed.
"""

from __future__ import annotations

import os
import tempfile
from datetime import timedelta
from pathlib import Path

from inventory_core import Database, Inventory, Settings
from inventory_core.adopt import adopt, open_source
from inventory_core.adopt.report import report_data

SKUS = """sku,description,ean,moq,pack_size,review_period,department
BIRRA,Birra Lager 0.5L,8001234567897,24,24,7,BEV
PANE,Pane casereccio,800123456789,1,1,1,FORNO
"""
TRANSACTIONS = """date,sku,event,qty,receipt_date,note
2026-02-02,BIRRA,SNAPSHOT,48,,
2026-02-02,BIRRA,ORDER,96,2026-02-05,Ordine ORD-20260202-BIRRA
2026-02-05,BIRRA,RECEIPT,96,,Ordine ORD-20260202-BIRRA
2026-02-07,BIRRA,ADJUST,120,,Conteggio ciclo inventario
2026-02-02,PANE,SNAPSHOT,10,,
2026-02-03,PANE,SALE,-4,,
"""
SALES = """date,sku,qty_sold
2026-02-03,BIRRA,30
2026-02-04,BIRRA,40
2026-02-03,PANE,4
2026-02-04,PANE,25
"""


def write_folder(folder: Path) -> Path:
    """The legacy data folder, with a backup copy the import ignores."""
    folder.mkdir()
    (folder / "skus.csv").write_text(SKUS, encoding="utf-8")
    (folder / "transactions.csv").write_text(TRANSACTIONS, encoding="utf-8")
    (folder / "sales.csv").write_text(SALES, encoding="utf-8")
    (folder / "skus_backup.csv").write_text("sku\nOLD\n", encoding="utf-8")
    return folder


def main() -> None:
    """Dry run, import, then print the report's totals and the stock."""
    with tempfile.TemporaryDirectory() as work:
        folder = write_folder(Path(work) / "data")
        url = os.environ.get("INVENTORY_CORE_DATABASE_URL") or f"sqlite:///{Path(work) / 'shop.db'}"
        with open_source(folder) as source:
            dry = adopt(None, source, dry_run=True)
        print("dry run findings:", report_data(dry)["totals"])
        with Database.open(settings=Settings.load(database_url=url)) as db:
            db.upgrade()
            with open_source(folder) as source:
                result = adopt(db, source)
            data = report_data(result)
            print("ignored files:", data["ignored_files"])
            for finding in data["findings"]:
                where = f"{finding['file']}:{finding['line']}"
                print(f"  {where} {finding['kind']}: {finding['recorded']}")
            inv = Inventory(db, user="example")
            assert result.translation.last_date is not None
            asof = result.translation.last_date + timedelta(days=1)
            for row in data["stock"]:
                ours = inv.stock(row["sku"], asof).on_hand
                print(f"{row['sku']}: legacy {row['legacy_on_hand']}, ours {ours}")
                assert ours == row["legacy_on_hand"]


if __name__ == "__main__":
    main()
