"""The exception hierarchy, its error codes, and its messages in every shipped language.

Every error that reaches a user is an :class:`InventoryError`: it carries a stable ``code``
(``DB_002``), a message, recovery steps, and a ``context`` dict with the facts that explain
it (the SKU, the path, the revision). Codes are grouped in families, one module each:

- ``REPO_`` rows that are missing, duplicated or refer to nothing (:mod:`.repo`);
- ``DB_`` the database file, its locks, its schema revision (:mod:`.database`);
- ``VAL_`` input or configuration that does not validate (:mod:`.validation`);
- ``WF_`` domain workflows: stock, receiving, reversals (:mod:`.workflow`);
- ``IO_`` files and folders (:mod:`.files`);
- ``BAK_`` backups, restores and snapshots (:mod:`.backup`, :mod:`.restore`, :mod:`.snapshot`);
- ``AUD_`` the audit trail and ``INV_`` invariants and health checks (:mod:`.audit`);
- ``ADO_`` adopting a desktop-order-system store (:mod:`.adopt`).

:mod:`.translate` turns driver errors into this hierarchy (``translate_db_errors``).
The text is English in the code and translated by gettext catalogues (:mod:`.i18n`);
the language follows ``INVENTORY_CORE_LANG`` (``en`` or ``it``), read when the message is
rendered so that a process can switch it at run time. ``docs/errors.md`` lists every code;
a test keeps it in step with :func:`catalogue`.

This package is the ground floor: it imports nothing else from inventory_core.
"""

from __future__ import annotations

from inventory_core.errors.adopt import AdoptError, AdoptInputError, AdoptTargetError
from inventory_core.errors.audit import (
    AuditChainBrokenError,
    AuditError,
    AuditManifestError,
    HealthCheckError,
    LedgerTamperedError,
)
from inventory_core.errors.backup import (
    BackupError,
    BackupFolderUnsafeError,
    BackupSpaceError,
    BackupToolMissingError,
)
from inventory_core.errors.base import InventoryError, catalogue
from inventory_core.errors.database import (
    CorruptDatabaseError,
    DatabaseClosedError,
    DatabaseError,
    DatabaseLockedError,
    DiskFullError,
    DiskIOError,
    NotADatabaseError,
    NotMigratedError,
    ReadOnlyDatabaseError,
    ReadOnlyModeError,
    ReadOnlyUnsafeError,
    SchemaMismatchError,
    SchemaTooNewError,
    SerializationConflictError,
    UnsupportedDatabaseError,
    WriteCancelledError,
    WriterTimeoutError,
)
from inventory_core.errors.files import (
    DatabaseNotFoundError,
    FileAccessError,
    PathIsDirectoryError,
    UnsafeFileError,
)
from inventory_core.errors.i18n import (
    LANGUAGES,
    N_,
    Steps,
    Text,
    current_language,
    gettext,
    ngettext,
)
from inventory_core.errors.repo import (
    AppendOnlyViolationError,
    ConstraintViolationError,
    DuplicateError,
    ForeignKeyViolationError,
    NotFoundError,
    RepositoryError,
)
from inventory_core.errors.restore import (
    RestoreAuditChainError,
    RestoreBackupChangedError,
    RestoreBusyError,
    RestoreChecksumError,
    RestoreDatabaseInUseError,
    RestoreError,
    RestoreManifestMismatchError,
    RestoreManifestMissingError,
    RestoreMissingError,
    RestoreNotADatabaseError,
    RestoreOtherDatabaseError,
    RestorePathIsDirectoryError,
    RestoreRolledBackError,
    RestoreSchemaTooNewError,
    RestoreTruncatedError,
    RestoreWrongSchemaError,
)
from inventory_core.errors.snapshot import (
    SnapshotArchiveError,
    SnapshotCellError,
    SnapshotEncodingError,
    SnapshotError,
    SnapshotHeaderError,
    SnapshotManifestError,
    SnapshotMismatchError,
    SnapshotPathError,
    SnapshotRowError,
    SnapshotTargetNotEmptyError,
    SnapshotUnhealthyError,
)
from inventory_core.errors.translate import (
    is_driver_error,
    is_retryable,
    translate,
    translate_db_errors,
)
from inventory_core.errors.validation import (
    ConfigurationError,
    GenerateTargetNotEmptyError,
    OptionalDependencyError,
    StockLimitError,
    StoreSchemaNameError,
    StoreSchemaUnsupportedError,
    ValidationError,
)
from inventory_core.errors.workflow import (
    ConflictError,
    InsufficientStockError,
    LotConsumedError,
    LotDrawsMismatchError,
    OrderClosedError,
    OrderNotClosedError,
    OrderNotOpenError,
    OverReceiptError,
    WorkflowError,
)

__all__ = [
    "LANGUAGES",
    "N_",
    "AdoptError",
    "AdoptInputError",
    "AdoptTargetError",
    "AppendOnlyViolationError",
    "AuditChainBrokenError",
    "AuditError",
    "AuditManifestError",
    "BackupError",
    "BackupFolderUnsafeError",
    "BackupSpaceError",
    "BackupToolMissingError",
    "ConfigurationError",
    "ConflictError",
    "ConstraintViolationError",
    "CorruptDatabaseError",
    "DatabaseClosedError",
    "DatabaseError",
    "DatabaseLockedError",
    "DatabaseNotFoundError",
    "DiskFullError",
    "DiskIOError",
    "DuplicateError",
    "FileAccessError",
    "ForeignKeyViolationError",
    "GenerateTargetNotEmptyError",
    "HealthCheckError",
    "InsufficientStockError",
    "InventoryError",
    "LedgerTamperedError",
    "LotConsumedError",
    "LotDrawsMismatchError",
    "NotADatabaseError",
    "NotFoundError",
    "NotMigratedError",
    "OptionalDependencyError",
    "OrderClosedError",
    "OrderNotClosedError",
    "OrderNotOpenError",
    "OverReceiptError",
    "PathIsDirectoryError",
    "ReadOnlyDatabaseError",
    "ReadOnlyModeError",
    "ReadOnlyUnsafeError",
    "RepositoryError",
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
    "SchemaMismatchError",
    "SchemaTooNewError",
    "SerializationConflictError",
    "SnapshotArchiveError",
    "SnapshotCellError",
    "SnapshotEncodingError",
    "SnapshotError",
    "SnapshotHeaderError",
    "SnapshotManifestError",
    "SnapshotMismatchError",
    "SnapshotPathError",
    "SnapshotRowError",
    "SnapshotTargetNotEmptyError",
    "SnapshotUnhealthyError",
    "Steps",
    "StockLimitError",
    "StoreSchemaNameError",
    "StoreSchemaUnsupportedError",
    "Text",
    "UnsafeFileError",
    "UnsupportedDatabaseError",
    "ValidationError",
    "WorkflowError",
    "WriteCancelledError",
    "WriterTimeoutError",
    "catalogue",
    "current_language",
    "gettext",
    "is_driver_error",
    "is_retryable",
    "ngettext",
    "translate",
    "translate_db_errors",
]
