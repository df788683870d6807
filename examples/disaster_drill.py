"""Disaster drill: damage the live database on purpose, detect it, restore, verify.

The drill always works on its own database in a temporary folder (it never touches
INVENTORY_CORE_DATABASE_URL): it records some stock, takes backups, cuts the database file
short as a failing disk or an interrupted copy would, shows that opening it is refused,
restores the newest backup that verifies, checks the result in full and prints what was
recovered and what was lost since that backup.
"""

from __future__ import annotations

import tempfile
from datetime import date
from pathlib import Path

from inventory_core import Database, Inventory, Settings
from inventory_core.backup import BackupService, restore_damaged
from inventory_core.backup.catalog import list_backups
from inventory_core.backup.checks import backup_errors
from inventory_core.errors import InventoryError
from inventory_core.invariants import check_all


def build_shop(db: Database) -> BackupService:
    """Record a week of trading with two backups in between."""
    inv = Inventory(db, user="drill")
    service = BackupService(db)  # into db.backup_dir
    inv.add_sku("PANE", "Pane comune 1kg")
    inv.add_sku("LATTE", "Latte intero 1L", pack_size=12)
    inv.snapshot("PANE", 40, on=date(2026, 3, 1))
    inv.snapshot("LATTE", 120, on=date(2026, 3, 1))
    service.backup("nightly")
    for day in range(2, 6):
        inv.sell("PANE", 5, on=date(2026, 3, day))
        inv.sell("LATTE", 12, on=date(2026, 3, day))
    service.backup("hourly")
    inv.sell("LATTE", 3, on=date(2026, 3, 6))  # after the last backup: will be lost
    return service


def damage(path: Path) -> None:
    """Cut the file to half its size, as an interrupted copy or a failing disk would."""
    size = path.stat().st_size
    with path.open("r+b") as handle:
        handle.truncate(size // 2)


def main() -> None:
    """Run the drill end to end; exits 0 when the database was recovered and verified."""
    with tempfile.TemporaryDirectory() as work:
        live = Path(work) / "shop.db"
        settings = Settings.load(database_url=f"sqlite:///{live}", backup_dir=Path(work) / "bk")
        with Database.open(settings=settings) as db:
            db.upgrade()
            build_shop(db)
        damage(live)
        print(f"1. Damaged {live.name}: cut to {live.stat().st_size} bytes.")

        try:
            Database.open(settings=settings).close()
            raise SystemExit("the damaged database was not detected")
        except InventoryError as exc:
            print(f"2. Detected at open: [{exc.code}] {exc.message}")

        candidates = list_backups(Path(work) / "bk", live.stem)
        good = next(b for b in candidates if not backup_errors(b.path))
        print(f"3. Newest good backup: {good.path.name} ({good.reason}, {good.size} bytes)")

        kept = restore_damaged(live, good.path, settings)
        print(f"4. Restored; the damaged file is kept as {kept.name}.")

        with Database.open(settings=settings, check="full") as db:
            report = check_all(db, full=True)
            print(f"5. Full check after the restore: {report.status}")
            inv = Inventory(db, user="drill")
            for sku in ("PANE", "LATTE"):
                stock = inv.stock(sku, asof=date(2026, 3, 7))
                print(f"   {sku}: on hand {stock.on_hand}")
            manifest = good.manifest
            assert manifest is not None
            print(
                f"   recovered {manifest.row_counts['transactions']} ledger events; "
                "the LATTE sale of 2026-03-06 came after the backup and must be re-entered."
            )
            if report.status != "HEALTHY":
                raise SystemExit("the restored database is not healthy")


if __name__ == "__main__":
    main()
