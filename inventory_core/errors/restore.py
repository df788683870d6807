"""BAK_: restores, and what a restore checks before it replaces anything."""

from __future__ import annotations

from inventory_core.errors.backup import BackupError
from inventory_core.errors.i18n import Steps, Text


class RestoreError(BackupError):
    """A backup cannot be restored; the live database was left exactly as it was."""

    code = "BAK_010"
    template = Text("The backup '{path}' cannot be restored: {detail}")
    steps = Steps(
        Text("The live database was not changed."),
        Text("List the other backups with 'inventory-core backups' and restore a verified one."),
    )
    runbook = "runbook.md#restore"


class RestoreChecksumError(RestoreError):
    """The backup's bytes do not match the sha256 recorded in its manifest."""

    code = "BAK_011"
    template = Text(
        "The backup '{path}' was changed after it was taken: its sha256 is {actual}, "
        "the manifest says {expected}."
    )
    steps = Steps(
        Text("The live database was not changed."),
        Text("Do not use this file: restore an older verified backup ('inventory-core backups')."),
        Text("Check the disk holding the backups; silent changes point at failing storage."),
    )
    runbook = "runbook.md#restore"


class RestoreTruncatedError(RestoreError):
    """The backup file is shorter than its SQLite header says: it was cut off."""

    code = "BAK_012"
    template = Text("The backup '{path}' is truncated: {detail}")
    steps = Steps(
        Text("The live database was not changed."),
        Text("The copy was cut short (full disk, interrupted transfer): restore another backup."),
    )
    runbook = "runbook.md#restore"


class RestoreNotADatabaseError(RestoreError):
    """The backup file is empty or is not an SQLite database at all."""

    code = "BAK_013"
    template = Text("The backup '{path}' is not an SQLite database: {detail}")
    steps = Steps(
        Text("The live database was not changed."),
        Text("Check that you picked a .db file made by 'inventory-core backup'."),
    )
    runbook = "runbook.md#restore"


class RestoreWrongSchemaError(RestoreError):
    """The backup is a valid SQLite file but not an inventory_core database."""

    code = "BAK_014"
    template = Text("The backup '{path}' is an SQLite database of another application: {detail}")
    steps = Steps(
        Text("The live database was not changed."),
        Text("Pick a backup made by inventory_core ('inventory-core backups' lists them)."),
    )
    runbook = "runbook.md#restore"


class RestoreSchemaTooNewError(RestoreError):
    """The backup was taken by a newer inventory_core, at a revision this code does not know."""

    code = "BAK_015"
    template = Text(
        "The backup '{path}' is at schema revision {found}, newer than this version of "
        "inventory_core knows ({expected})."
    )
    steps = Steps(
        Text("The live database was not changed."),
        Text("Upgrade inventory_core (pip install --upgrade inventory-core), then restore again."),
    )
    runbook = "runbook.md#restore"


class RestorePathIsDirectoryError(RestoreError):
    """The path given as a backup is a folder."""

    code = "BAK_016"
    template = Text("'{path}' is a folder, not a backup file.")
    steps = Steps(
        Text("The live database was not changed."),
        Text("Pass one of the .db files inside it; 'inventory-core backups' lists them."),
    )
    runbook = "runbook.md#restore"


class RestoreManifestMissingError(RestoreError):
    """The backup has no manifest, so its integrity cannot be proven."""

    code = "BAK_017"
    template = Text("The backup '{path}' has no manifest '{manifest}'; it cannot be verified.")
    steps = Steps(
        Text("The live database was not changed."),
        Text("Keep each backup together with its .manifest.json file."),
        Text(
            "If the manifest is lost, open the file as a database elsewhere, check it with "
            "'inventory-core --db FILE check --full', then take a new backup from it."
        ),
    )
    runbook = "runbook.md#restore"


class RestoreMissingError(RestoreError):
    """The backup file does not exist."""

    code = "BAK_018"
    template = Text("The backup '{path}' does not exist.")
    steps = Steps(
        Text("The live database was not changed."),
        Text("List the backups with 'inventory-core backups' and copy a path from there."),
    )
    runbook = "runbook.md#restore"


class RestoreRolledBackError(RestoreError):
    """The restored database failed its checks, so the previous database was put back."""

    code = "BAK_019"
    template = Text("The restore of '{path}' failed and was rolled back: {detail}")
    steps = Steps(
        Text("The previous database is back in place, byte for byte."),
        Text("A safety backup was also taken: {safety_backup}."),
        Text("Run 'inventory-core verify {path}' to see what is wrong with the backup."),
    )
    runbook = "runbook.md#restore"


class RestoreManifestMismatchError(RestoreError):
    """The backup's file contradicts a claim of its manifest (rows, revision, head, identity)."""

    code = "BAK_050"
    template = Text("The backup '{path}' does not hold what its manifest says: {detail}")
    steps = Steps(
        Text("The live database was not changed."),
        Text("The file or its manifest was edited after the backup was taken: do not use it."),
        Text("Restore another backup that verifies ('inventory-core verify PATH')."),
    )
    runbook = "runbook.md#restore"


class RestoreAuditChainError(RestoreError):
    """The audit chain inside the backup is broken: a row in it was edited, added or removed."""

    code = "BAK_051"
    template = Text("The audit trail inside the backup '{path}' does not verify: {detail}")
    steps = Steps(
        Text("The live database was not changed."),
        Text(
            "The history in this backup was falsified after it was taken: keep the file for "
            "the investigation and do not restore it."
        ),
        Text("Restore an older backup whose chain verifies ('inventory-core verify PATH')."),
    )
    runbook = "runbook.md#audit-chain-broken"


class RestoreOtherDatabaseError(RestoreError):
    """The backup is of another database than the one it would be restored over."""

    code = "BAK_052"
    template = Text(
        "The backup '{path}' is of another database ({found}), not of this one ({expected})."
    )
    steps = Steps(
        Text("The live database was not changed."),
        Text("Check that --db and the backup folder belong to the same shop."),
        Text(
            "To replace this database with the other one on purpose (a new machine, a new "
            "empty file), pass --other-database (allow_other_database=True)."
        ),
    )
    runbook = "runbook.md#restore"


class RestoreBusyError(RestoreError):
    """Other writers kept the live database locked, so the restore could not begin."""

    code = "BAK_053"
    template = Text(
        "The database '{path}' stayed locked by other writers for {waited_s} s; the "
        "restore did not start."
    )
    steps = Steps(
        Text("The live database was not changed."),
        Text("Run the restore again when the long write (an import, a maintenance run) is over."),
    )
    runbook = "runbook.md#restore"


class RestoreBackupChangedError(RestoreError):
    """The backup changed between the plan the operator confirmed and the restore."""

    code = "BAK_054"
    template = Text(
        "The backup '{path}' changed after its plan was shown (sha256 {actual}, the "
        "plan was made for {expected})."
    )
    steps = Steps(
        Text("The live database was not changed."),
        Text(
            "Find out who is writing into the backup folder, then run the restore again "
            "and read the new plan."
        ),
    )
    runbook = "runbook.md#restore"


class RestoreDatabaseInUseError(RestoreError):
    """A damaged database cannot be swapped out while another program still has it open."""

    code = "BAK_055"
    template = Text(
        "Another program still has the database '{live}' open; a damaged file is "
        "replaced only when nothing uses it."
    )
    steps = Steps(
        Text("Nothing was changed."),
        Text(
            "Stop every program using the database (its writes would go to the replaced "
            "file and be lost), then run the restore again."
        ),
    )
    runbook = "runbook.md#restore"


__all__ = [
    "RestoreAuditChainError",
    "RestoreBackupChangedError",
    "RestoreBusyError",
    "RestoreChecksumError",
    "RestoreDatabaseInUseError",
    "RestoreError",
    "RestoreManifestMismatchError",
    "RestoreManifestMissingError",
    "RestoreMissingError",
    "RestoreNotADatabaseError",
    "RestoreOtherDatabaseError",
    "RestorePathIsDirectoryError",
    "RestoreRolledBackError",
    "RestoreSchemaTooNewError",
    "RestoreTruncatedError",
    "RestoreWrongSchemaError",
]
