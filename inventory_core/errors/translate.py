"""Translation of driver errors: SQLite result codes, PostgreSQL SQLSTATEs, OS errors.

Every DBAPI error leaving the library becomes an :class:`InventoryError` here. The class is
chosen by the driver's code first (``sqlite_errorname``/``sqlite_errorcode``, ``sqlstate``);
the message text is only sniffed when an older driver gives no code. The driver's own first
line is kept as the error's ``detail`` so ``--debug`` and logs still say what it reported.
"""

from __future__ import annotations

import errno
import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from sqlalchemy import exc as sa_exc

from inventory_core.errors.base import InventoryError
from inventory_core.errors.database import (
    CorruptDatabaseError,
    DatabaseError,
    DatabaseLockedError,
    DiskFullError,
    DiskIOError,
    NotADatabaseError,
    NotMigratedError,
    ReadOnlyDatabaseError,
    ReadOnlyModeError,
    SerializationConflictError,
)
from inventory_core.errors.files import FileAccessError, PathIsDirectoryError
from inventory_core.errors.repo import (
    AppendOnlyViolationError,
    ConstraintViolationError,
    DuplicateError,
    ForeignKeyViolationError,
)

_SQLITE_CONSTRAINT_MAP: dict[str, type[InventoryError]] = {
    "SQLITE_CONSTRAINT_UNIQUE": DuplicateError,
    "SQLITE_CONSTRAINT_PRIMARYKEY": DuplicateError,
    "SQLITE_CONSTRAINT_FOREIGNKEY": ForeignKeyViolationError,
    "SQLITE_CONSTRAINT_CHECK": ConstraintViolationError,
    "SQLITE_CONSTRAINT_NOTNULL": ConstraintViolationError,
    "SQLITE_CONSTRAINT_TRIGGER": AppendOnlyViolationError,
}

_SQLITE_PRIMARY_MAP: dict[int, type[InventoryError]] = {
    sqlite3.SQLITE_BUSY: DatabaseLockedError,
    sqlite3.SQLITE_LOCKED: DatabaseLockedError,
    sqlite3.SQLITE_READONLY: ReadOnlyDatabaseError,
    sqlite3.SQLITE_IOERR: DiskIOError,
    sqlite3.SQLITE_CORRUPT: CorruptDatabaseError,
    sqlite3.SQLITE_FULL: DiskFullError,
    sqlite3.SQLITE_CANTOPEN: FileAccessError,
    sqlite3.SQLITE_NOTADB: NotADatabaseError,
}

_PG_SQLSTATE_MAP: dict[str, type[InventoryError]] = {
    "23505": DuplicateError,
    "23503": ForeignKeyViolationError,
    "23514": ConstraintViolationError,
    "23502": ConstraintViolationError,
    "40001": SerializationConflictError,
    "40P01": SerializationConflictError,
    "55P03": DatabaseLockedError,
    "42P01": NotMigratedError,
    "53100": DiskFullError,
    "25006": ReadOnlyDatabaseError,
    "P0001": AppendOnlyViolationError,
}


def _sqlite_class(orig: sqlite3.Error) -> type[InventoryError]:
    name = getattr(orig, "sqlite_errorname", "") or ""
    code = getattr(orig, "sqlite_errorcode", None)
    text = str(orig).lower()
    if name in _SQLITE_CONSTRAINT_MAP:
        return _SQLITE_CONSTRAINT_MAP[name]
    if "append-only" in text:
        return AppendOnlyViolationError
    if code is not None and (code & 0xFF) in _SQLITE_PRIMARY_MAP:
        return _SQLITE_PRIMARY_MAP[code & 0xFF]
    if isinstance(orig, sqlite3.IntegrityError):
        if "unique" in text:
            return DuplicateError
        if "foreign key" in text:
            return ForeignKeyViolationError
        return ConstraintViolationError
    if "no such table" in text:
        return NotMigratedError
    if "database is locked" in text or "database table is locked" in text:
        return DatabaseLockedError
    if "malformed" in text:
        return CorruptDatabaseError
    if "not a database" in text:
        return NotADatabaseError
    if "readonly" in text or "read-only" in text:
        return ReadOnlyDatabaseError
    if "disk" in text and "full" in text:
        return DiskFullError
    return DatabaseError


def _pg_class(orig: BaseException) -> type[InventoryError]:
    sqlstate = getattr(orig, "sqlstate", None) or ""
    if sqlstate in _PG_SQLSTATE_MAP:
        return _PG_SQLSTATE_MAP[sqlstate]
    if sqlstate.startswith("23"):
        return ConstraintViolationError
    return DatabaseError


def translate(exc: BaseException, **context: Any) -> InventoryError:
    """Turn a DBAPI / SQLAlchemy / OS error into the matching :class:`InventoryError`.

    Args:
        exc: the error raised by the driver, SQLAlchemy or the operating system.
        **context: facts to attach (``path``, ``attempts``...), used in the message.

    Returns:
        The translated error; the caller raises it ``from exc``.
    """
    if isinstance(exc, InventoryError):
        return exc
    orig: BaseException = exc
    if isinstance(exc, sa_exc.DBAPIError) and exc.orig is not None:
        orig = exc.orig
    detail = str(orig).strip().splitlines()[0] if str(orig).strip() else type(orig).__name__
    cls: type[InventoryError]
    if isinstance(orig, sqlite3.Error):
        cls = _sqlite_class(orig)
    elif hasattr(orig, "sqlstate"):
        cls = _pg_class(orig)
    elif isinstance(orig, IsADirectoryError):
        cls = PathIsDirectoryError
    elif isinstance(orig, OSError):
        cls = DiskFullError if orig.errno == errno.ENOSPC else FileAccessError
    elif isinstance(exc, sa_exc.SQLAlchemyError):
        cls = DatabaseError
    else:
        cls = InventoryError
    if context.get("read_only") and cls is ReadOnlyDatabaseError:
        cls = ReadOnlyModeError
    context.setdefault("attempts", 1)
    context.setdefault("waited_s", 0)
    context.setdefault("path", context.get("path", "?"))
    return cls(detail, **context)


def is_driver_error(exc: BaseException) -> bool:
    """True for errors raised by SQLAlchemy, a DBAPI driver or the OS (not our own)."""
    if isinstance(exc, InventoryError):
        return False
    return isinstance(exc, sa_exc.SQLAlchemyError | sqlite3.Error | OSError) or hasattr(
        exc, "sqlstate"
    )


@contextmanager
def translate_db_errors(**context: Any) -> Iterator[None]:
    """Re-raise any database error inside the block as an :class:`InventoryError`.

    The original error stays attached as ``__cause__`` (``raise ... from exc``) so
    ``--debug`` still shows what the driver said.
    """
    try:
        yield
    except Exception as exc:
        if is_driver_error(exc):
            raise translate(exc, **context) from exc
        raise


def is_retryable(exc: BaseException) -> bool:
    """True for lock/busy errors (SQLite) and serialization/deadlock failures (PostgreSQL).

    Only these are transient: retrying anything else would repeat a bug or a bad input.
    """
    orig: BaseException | None = exc
    if isinstance(exc, sa_exc.DBAPIError):
        orig = exc.orig
    if isinstance(exc, DatabaseLockedError | SerializationConflictError):
        return True
    if isinstance(exc, InventoryError):
        cause = exc.__cause__
        return cause is not None and cause is not exc and is_retryable(cause)
    if isinstance(orig, sqlite3.Error):
        code = getattr(orig, "sqlite_errorcode", None)
        if code is not None and (code & 0xFF) in (sqlite3.SQLITE_BUSY, sqlite3.SQLITE_LOCKED):
            return True
        return "database is locked" in str(orig).lower()
    sqlstate = getattr(orig, "sqlstate", None)
    return sqlstate in ("40001", "40P01", "55P03")


__all__ = ["is_driver_error", "is_retryable", "translate", "translate_db_errors"]
