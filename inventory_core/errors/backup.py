"""BAK_: backups and the backup folder."""

from __future__ import annotations

from inventory_core.errors.base import InventoryError
from inventory_core.errors.i18n import Steps, Text


class BackupError(InventoryError):
    """A backup, restore or snapshot could not be completed."""

    code = "BAK_001"
    template = Text("Backup failed: {detail}")
    steps = Steps(
        Text(
            "Check free space and permissions of the backup folder; no partial backup was "
            "left behind."
        ),
    )
    runbook = "runbook.md#restore"


class BackupSpaceError(BackupError):
    """The backup folder ran out of space while a backup was being written."""

    code = "BAK_002"
    template = Text("The backup folder '{folder}' ran out of space: {detail}")
    steps = Steps(
        Text("No partial backup was left behind and the database was not touched."),
        Text("Free space, or delete old backups with 'inventory-core retention'."),
        Text("Or point INVENTORY_CORE_BACKUP_DIR at a disk with more room, then retry."),
    )
    runbook = "runbook.md#disk-full"


class BackupToolMissingError(BackupError):
    """A PostgreSQL backup or restore needs pg_dump / pg_restore, which are not installed."""

    code = "BAK_003"
    template = Text("'{tool}' is not installed, so PostgreSQL backups cannot be taken or restored.")
    steps = Steps(
        Text("Install the PostgreSQL client tools (e.g. apt install postgresql-client)."),
        Text(
            "Or take a CSV snapshot instead, which works on every database: "
            "'inventory-core export FOLDER --zip'."
        ),
    )
    runbook = "runbook.md#restore"


class BackupFolderUnsafeError(BackupError):
    """The backup folder is a dangling link, not a folder, or writable by every user."""

    code = "BAK_030"
    template = Text("The backup folder '{folder}' cannot be used safely: {detail}")
    steps = Steps(
        Text("No backup was written and the database was not touched."),
        Text(
            "Point INVENTORY_CORE_BACKUP_DIR at a real folder that only this user may write "
            "to (for example 'chmod 700 FOLDER'), then retry."
        ),
    )
    runbook = "runbook.md#unsafe-files"


__all__ = ["BackupError", "BackupFolderUnsafeError", "BackupSpaceError", "BackupToolMissingError"]
