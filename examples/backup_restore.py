"""Back up, change data, restore, and show what the restore brought back (a per-table diff).

Runs against INVENTORY_CORE_DATABASE_URL when it is set, otherwise against a new SQLite file
in a temporary folder. Backups go to INVENTORY_CORE_BACKUP_DIR (a temporary folder here).
"""

from __future__ import annotations

import os
import tempfile
from datetime import date
from pathlib import Path

from inventory_core import Database, Inventory, Settings
from inventory_core.backup import BackupService, RestorePlan
from inventory_core.errors import NotFoundError


def has_sku(inv: Inventory, sku: str) -> bool:
    """True when the SKU exists."""
    try:
        inv.get_sku(sku)
    except NotFoundError:
        return False
    return True


def main() -> None:
    """Back up, sell and add a SKU, then restore the backup and print the diff."""
    with tempfile.TemporaryDirectory() as work:
        folder = Path(work)
        url = os.environ.get("INVENTORY_CORE_DATABASE_URL") or f"sqlite:///{folder / 'shop.db'}"
        settings = Settings.load(database_url=url, backup_dir=folder / "backups")
        with Database.open(settings=settings) as db:
            db.upgrade()
            inv = Inventory(db, user="example")
            if not has_sku(inv, "DEMO-BIRRA"):
                inv.add_sku("DEMO-BIRRA", "Birra Lager 0.5L", pack_size=24)
                inv.snapshot("DEMO-BIRRA", 288, on=date(2026, 2, 1))
            service = BackupService(db, settings.backup_dir)
            backup = service.backup("example")
            print(f"Backup taken: {backup.name} (problems: {service.verify(backup) or 'none'})")

            inv.sell("DEMO-BIRRA", 23, on=date(2026, 2, 12))
            if not has_sku(inv, "DEMO-VINO"):
                inv.add_sku("DEMO-VINO", "Vino Rosso 0.75L", pack_size=6)
            print(f"After the changes: on hand {inv.stock('DEMO-BIRRA').on_hand}")

            plan = service.restore(backup, dry_run=True)
            assert isinstance(plan, RestorePlan)
            print(f"Restore plan (safety backup {plan.safety_backup.name}):")
            for diff in plan.tables:
                if diff.delta:
                    print(f"  {diff.table:<14} {diff.now:>5} -> {diff.after:>5} ({diff.delta:+d})")
            service.restore(backup)
            print(
                f"After the restore: on hand {inv.stock('DEMO-BIRRA').on_hand}, "
                f"DEMO-VINO present: {has_sku(inv, 'DEMO-VINO')}"
            )


if __name__ == "__main__":
    main()
