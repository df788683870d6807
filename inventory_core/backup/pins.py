"""The backups a restore pins: retention never deletes them, whatever its policy says.

A restore records in ``database_identity.last_restore`` the backup it brought back and the
safety backup it took, with their sha256. Deleting either would leave the operator unable
to undo the restore, or to show what it replaced.
"""

from __future__ import annotations

import json
from typing import TYPE_CHECKING

from sqlalchemy import select

from inventory_core.backup.catalog import BackupInfo
from inventory_core.errors import InventoryError
from inventory_core.models import DatabaseIdentity

if TYPE_CHECKING:
    from inventory_core.db.database import Database

Pins = list[tuple[str, str | None]]
"""``(file name, sha256 or None)`` of each pinned backup."""


def pinned(db: Database) -> Pins:
    """The backups the last restore pinned (none when it cannot be read: an older schema)."""
    try:
        with db.read() as uow:
            raw = uow.scalar(select(DatabaseIdentity.last_restore).where(DatabaseIdentity.id == 1))
    except InventoryError:
        return []
    try:
        found = json.loads(raw) if raw else {}
    except ValueError:
        return []
    return [
        (str(found[name]), found.get(sha))
        for name, sha in (("backup", "backup_sha256"), ("safety_backup", "safety_sha256"))
        if found.get(name)
    ]


def is_pinned(info: BackupInfo, pins: Pins) -> bool:
    """Whether ``info`` is one of ``pins``: same file name, and same sha256 when known."""
    sha = info.manifest.sha256 if info.manifest else None
    return any(info.path.name == name and (sha is None or sha == want) for name, want in pins)


__all__ = ["Pins", "is_pinned", "pinned"]
