"""Checks a SQLite file *before* SQLAlchemy touches it.

Connecting to a file with ``journal_mode=WAL`` writes to it, so a file that is not a
database, is truncated, read-only or from a newer schema must be recognised first, from its
header and a read-only connection, and refused with its own error while its bytes stay as
they were.
"""

from __future__ import annotations

import os
import sqlite3
from dataclasses import dataclass
from pathlib import Path

from inventory_core.db.locate import SQLITE_HEADER, nearby_databases
from inventory_core.db.readonly import Access, choose_access
from inventory_core.errors import (
    CorruptDatabaseError,
    DatabaseNotFoundError,
    NotADatabaseError,
    NotMigratedError,
    PathIsDirectoryError,
    ReadOnlyDatabaseError,
)
from inventory_core.errors.i18n import gettext as _


@dataclass(frozen=True)
class FileState:
    """What the pre-flight learned about a SQLite file."""

    path: Path
    exists: bool
    size: int
    user_tables: int
    revision: str | None

    @property
    def is_empty(self) -> bool:
        """True for a new or zero-length file, or a database without any table."""
        return not self.exists or self.size == 0 or self.user_tables == 0


def file_access(path: Path, *, create: bool, read_only: bool) -> Access:
    """How ``Database.open`` may reach ``path``: refuse a missing file unless it may be
    created (naming the existing databases of a close spelling), and choose the read-only way.

    Raises:
        DatabaseNotFoundError: the file does not exist and ``create`` is False.
        PathIsDirectoryError: a read-only open was pointed at a folder.
        ReadOnlyUnsafeError: see :func:`inventory_core.db.readonly.choose_access`.
    """
    if not path.exists() and not create:
        raise DatabaseNotFoundError(path=str(path), candidates=nearby_databases(path))
    if not read_only:
        return Access.READ_WRITE
    if path.is_dir():
        raise PathIsDirectoryError(path=str(path))
    return choose_access(path)


def inspect_sqlite_file(path: Path, *, writable: bool = True, open_here: bool = False) -> FileState:
    """Look at ``path`` without writing to it.

    Args:
        path: the database file.
        writable: require that this process can write the file and its folder (False for
            a read-only open).
        open_here: this process already has SQLite connections to it. The raw header is
            then not read: closing a descriptor of our own on the file would drop every
            POSIX lock this process's connections hold on it (locks belong to the
            process, and any ``close`` releases them), and another process's last
            connection would then delete the ``-wal`` and ``-shm`` still in use here.

    Raises:
        PathIsDirectoryError: the path is a folder.
        NotADatabaseError: the file does not start with the SQLite header.
        CorruptDatabaseError: the file is shorter than its header says, or unreadable.
        ReadOnlyDatabaseError: with ``writable``, the file or its folder cannot be written.
        NotMigratedError: tables exist but no inventory_core revision is stamped.
    """
    if path.is_dir():
        raise PathIsDirectoryError(path=str(path))
    if not path.exists():
        return FileState(path, exists=False, size=0, user_tables=0, revision=None)
    size = path.stat().st_size
    if size == 0:
        if writable:
            _require_writable(path)
        return FileState(path, exists=True, size=0, user_tables=0, revision=None)
    if not open_here:
        with path.open("rb") as handle:
            header = handle.read(100)
        if len(header) < 100 or not header.startswith(SQLITE_HEADER):
            raise NotADatabaseError(path=str(path))
        _check_length(path, header, size)
    if writable:
        _require_writable(path)
    tables, revision = _read_schema(path)
    if revision is None and tables > 0:
        raise NotMigratedError(
            _(
                "'{path}' holds {tables} tables but no inventory_core schema revision; import "
                "legacy data into a new database instead"
            ).format(path=path, tables=tables),
            path=str(path),
        )
    return FileState(path, exists=True, size=size, user_tables=tables, revision=revision)


def _check_length(path: Path, header: bytes, size: int) -> None:
    page_size = int.from_bytes(header[16:18], "big")
    page_size = 65536 if page_size == 1 else page_size
    if page_size < 512 or page_size & (page_size - 1):
        raise CorruptDatabaseError(
            _("invalid page size {page_size} in the header").format(page_size=page_size),
            path=str(path),
        )
    change_counter = header[24:28]
    valid_for = header[92:96]
    page_count = int.from_bytes(header[28:32], "big")
    wal = path.with_name(path.name + "-wal")
    wal_has_pages = wal.exists() and wal.stat().st_size > 32
    if change_counter == valid_for and not wal_has_pages and size < page_count * page_size:
        raise CorruptDatabaseError(
            _(
                "the file is truncated: {size} bytes, the header says {page_count} pages of "
                "{page_size} bytes"
            ).format(size=size, page_count=page_count, page_size=page_size),
            path=str(path),
        )


def _require_writable(path: Path) -> None:
    if not os.access(path, os.W_OK):
        raise ReadOnlyDatabaseError(_("the file is not writable"), path=str(path))
    if not os.access(path.parent, os.W_OK | os.X_OK):
        raise ReadOnlyDatabaseError(
            _("its folder is not writable (SQLite needs to create -wal and -shm there)"),
            path=str(path),
        )


def connect_readonly(path: Path) -> sqlite3.Connection:
    """Open ``path`` for reading without creating or changing any file.

    Even a ``mode=ro`` connection to a WAL database creates the ``-wal`` and ``-shm`` files
    next to it. When there is no ``-wal`` file, every committed page is in the main file, so
    it is opened ``immutable=1`` (no locks, no side files); when a ``-wal`` exists, another
    connection may be using it and a plain ``mode=ro`` connection reads through it.
    """
    uri = path.resolve().as_uri()
    wal = path.with_name(path.name + "-wal")
    if wal.exists():
        return sqlite3.connect(f"{uri}?mode=ro", uri=True)
    return sqlite3.connect(f"{uri}?mode=ro&immutable=1", uri=True)


def _read_schema(path: Path) -> tuple[int, str | None]:
    try:
        conn = connect_readonly(path)
    except sqlite3.Error as exc:
        raise CorruptDatabaseError(str(exc), path=str(path)) from exc
    try:
        names = [
            row[0]
            for row in conn.execute(
                "SELECT name FROM sqlite_master WHERE type='table' AND name NOT LIKE 'sqlite_%'"
            )
        ]
        revision = None
        if "alembic_version" in names:
            row = conn.execute("SELECT version_num FROM alembic_version").fetchone()
            revision = None if row is None else str(row[0])
        tables = len([n for n in names if n != "alembic_version"])
        return tables, revision
    except sqlite3.DatabaseError as exc:
        name = getattr(exc, "sqlite_errorname", "")
        if name == "SQLITE_NOTADB" or "not a database" in str(exc):
            raise NotADatabaseError(path=str(path)) from exc
        raise CorruptDatabaseError(str(exc), path=str(path)) from exc
    finally:
        conn.close()
