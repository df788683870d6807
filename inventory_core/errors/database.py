"""DB_: the database file, its locks, its schema revision."""

from __future__ import annotations

from inventory_core.errors.base import InventoryError
from inventory_core.errors.i18n import Steps, Text


class DatabaseError(InventoryError):
    """The database could not complete the operation."""

    code = "DB_001"
    template = Text("The database reported an error: {detail}")
    steps = Steps(
        Text("Retry the operation."),
        Text("If it keeps failing, run 'inventory-core check --full -v'."),
    )


class DatabaseLockedError(DatabaseError):
    """Another connection kept the database locked past the busy timeout and every retry."""

    code = "DB_002"
    template = Text(
        "The database is locked by another program and stayed locked after "
        "{attempts} attempts over {waited_s} s."
    )
    steps = Steps(
        Text("Nothing was written: retry when the other program has finished."),
        Text(
            "Find the program holding a long write transaction (a DB browser with unsaved "
            "changes, a stuck script) and close it."
        ),
        Text(
            "Raise INVENTORY_CORE_BUSY_TIMEOUT_MS or INVENTORY_CORE_RETRY_ATTEMPTS if such waits "
            "are expected."
        ),
    )
    runbook = "runbook.md#database-locked"


class WriterTimeoutError(DatabaseError):
    """Another thread of this process held the writer lock past the writer-lock timeout."""

    code = "DB_003"
    template = Text(
        "Waited {timeout_s} s for the writer lock held by thread '{holder}' since "
        "{held_s} s; only one write unit of work runs at a time per process."
    )
    steps = Steps(
        Text("Nothing was written: retry."),
        Text("Keep write units of work short: no network calls or user prompts inside them."),
        Text("Raise INVENTORY_CORE_WRITER_LOCK_TIMEOUT_S if long writes are expected."),
    )
    runbook = "runbook.md#database-locked"


class SchemaMismatchError(DatabaseError):
    """The database schema revision is behind the code: it needs a migration."""

    code = "DB_004"
    template = Text(
        "The database schema is at revision {found} but this version of inventory_core "
        "needs {expected}."
    )
    steps = Steps(
        Text(
            "Back up the database, then run 'inventory-core upgrade' (or 'alembic upgrade head')."
        ),
    )
    runbook = "runbook.md#schema-mismatch"


class SchemaTooNewError(SchemaMismatchError):
    """The database was migrated by a newer inventory_core than the one running."""

    code = "DB_005"
    template = Text(
        "The database schema is at revision {found}, newer than this version of "
        "inventory_core knows ({expected})."
    )
    steps = Steps(
        Text("Upgrade inventory_core: pip install --upgrade inventory-core."),
        Text("Do not downgrade the database by hand; the file was left untouched."),
    )
    runbook = "runbook.md#schema-mismatch"


class NotADatabaseError(DatabaseError):
    """The file exists but is not an SQLite database (or is encrypted)."""

    code = "DB_006"
    template = Text("'{path}' is not an SQLite database.")
    steps = Steps(
        Text("Check that the URL points at the right file; the file was left untouched."),
        Text(
            "If it used to be a database, restore the newest backup: 'inventory-core restore PATH'."
        ),
    )
    runbook = "runbook.md#corruption-detected"


class CorruptDatabaseError(DatabaseError):
    """The database file is damaged (malformed pages, truncated file)."""

    code = "DB_007"
    template = Text("The database '{path}' is damaged: {detail}")
    steps = Steps(
        Text("Stop every program that writes to it; the file was left untouched."),
        Text("Run 'inventory-core check --full -v' to see what is damaged."),
        Text(
            "Restore the newest good backup: 'inventory-core backups', then "
            "'inventory-core restore PATH'."
        ),
    )
    runbook = "runbook.md#corruption-detected"


class ReadOnlyDatabaseError(DatabaseError):
    """The database file or its folder cannot be written by this process."""

    code = "DB_008"
    template = Text("The database '{path}' is read-only for this process: {detail}")
    steps = Steps(
        Text(
            "Give this user write permission on the file AND its folder (SQLite writes "
            "-wal and -shm files next to it)."
        ),
        Text("Check that the disk is not mounted read-only."),
        Text(
            "To only read it, use a command that only reads (info, check, export, report, "
            "audit verify) or Database.open(url, read_only=True): they open it read-only."
        ),
    )
    runbook = "runbook.md#read-only-database"


class DiskFullError(DatabaseError):
    """The disk holding the database (or its temp files) is full."""

    code = "DB_009"
    template = Text("The disk is full; the write was rolled back: {detail}")
    steps = Steps(
        Text("Free space on the disk holding the database and its backups."),
        Text("Apply backup retention: 'inventory-core retention'."),
        Text("Then retry: nothing was half-written."),
    )
    runbook = "runbook.md#disk-full"


class DiskIOError(DatabaseError):
    """The operating system reported an I/O error reading or writing the database."""

    code = "DB_010"
    template = Text("A disk I/O error occurred: {detail}")
    steps = Steps(
        Text("Check the disk (dmesg, SMART) and that the database is not on a network share."),
        Text("Run 'inventory-core check --full -v'; restore a backup if it reports damage."),
    )
    runbook = "runbook.md#corruption-detected"


class NotMigratedError(DatabaseError):
    """The database has no inventory_core schema yet (or a table is missing)."""

    code = "DB_011"
    template = Text("The database has no inventory_core schema (or misses a table): {detail}")
    steps = Steps(
        Text("Create the schema: 'inventory-core init' (or 'alembic upgrade head')."),
    )
    runbook = "runbook.md#schema-mismatch"


class SerializationConflictError(DatabaseError):
    """PostgreSQL kept aborting the transaction for a serialization failure or deadlock."""

    code = "DB_012"
    template = Text(
        "Concurrent writers kept conflicting; gave up after {attempts} attempts: {detail}"
    )
    steps = Steps(
        Text("Nothing was written: retry."),
        Text("If it is frequent, raise INVENTORY_CORE_RETRY_ATTEMPTS or spread the writers."),
    )
    runbook = "runbook.md#postgresql-serialization-errors"


class UnsupportedDatabaseError(DatabaseError):
    """The URL names a database this library does not support."""

    code = "DB_013"
    template = Text("Unsupported database URL '{url}': use sqlite:/// or postgresql+psycopg://.")
    steps = Steps(
        Text("Set INVENTORY_CORE_DATABASE_URL or --db to a SQLite or PostgreSQL URL."),
    )


class DatabaseClosedError(DatabaseError):
    """The Database object was closed and cannot be used any more."""

    code = "DB_014"
    template = Text("This Database was closed; open it again with Database.open().")
    steps = Steps(
        Text("Call Database.open() again."),
    )


class ReadOnlyModeError(ReadOnlyDatabaseError):
    """A write was asked of a database opened read-only (``Database.open(read_only=True)``)."""

    code = "DB_020"
    template = Text("The database '{path}' is open read-only, so it cannot be written: {detail}")
    steps = Steps(
        Text("Nothing was written."),
        Text(
            "Write through a database opened for writing: Database.open(url) without "
            "read_only=True; the commands that only read (info, check, export, report, "
            "profile, audit) always open it read-only."
        ),
    )
    runbook = "runbook.md#read-only-database"


class ReadOnlyUnsafeError(ReadOnlyDatabaseError):
    """A database file cannot be opened read-only without risk or without leaving files."""

    code = "DB_021"
    template = Text("The database '{path}' cannot be opened read-only here: {detail}")
    steps = Steps(
        Text("Nothing was changed."),
        Text(
            "Copy the database (with its -wal and -shm files, if any) to a folder this user "
            "can write, and read the copy."
        ),
        Text(
            "If no program writes it any more, remove every write permission (chmod a-w "
            "FILE): it then opens read-only without any side file."
        ),
    )
    runbook = "runbook.md#read-only-database"


class WriteCancelledError(DatabaseError):
    """The server cancelled a write before it committed (a restore holding off the writers)."""

    code = "DB_030"
    template = Text("The server cancelled this write before it committed: {detail}")
    steps = Steps(
        Text("Nothing of it was written."),
        Text(
            "A restore (or an administrator) was holding the writers off: when it is over, "
            "check the data and run the write again if it is still needed."
        ),
    )
    runbook = "runbook.md#restore"


__all__ = [
    "CorruptDatabaseError",
    "DatabaseClosedError",
    "DatabaseError",
    "DatabaseLockedError",
    "DiskFullError",
    "DiskIOError",
    "NotADatabaseError",
    "NotMigratedError",
    "ReadOnlyDatabaseError",
    "ReadOnlyModeError",
    "ReadOnlyUnsafeError",
    "SchemaMismatchError",
    "SchemaTooNewError",
    "SerializationConflictError",
    "UnsupportedDatabaseError",
    "WriteCancelledError",
    "WriterTimeoutError",
]
