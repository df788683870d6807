"""How a read-only :class:`~inventory_core.db.database.Database` connects to a SQLite file.

SQLite can read a file without writing it in three ways, and each has a price:

- ``mode=ro&immutable=1``: no locks and no side files at all, but SQLite then trusts that
  nobody changes the file while it reads; a change would give wrong answers or a
  "malformed" error. So it is used only when nobody *can* write the file: it is on a
  read-only mount, it carries the immutable attribute (``chattr +i``), or nobody has a
  write permission bit on it (``chmod a-w``; root ignores the bits, a process that opened
  it for writing before the bits were removed could still write).
- ``mode=ro``: reads through the ``-wal`` with the usual locks and never checkpoints, so
  the main file stays as it was. In WAL mode it needs the ``-shm`` (and ``-wal``) files,
  and creates them when they are missing and the folder allows it; a read-only
  connection never removes them again. So it is used when a ``-wal`` is already there (a
  writer is connected, or one crashed and its committed pages are only in the WAL), and
  for a rollback-journal file (a backup), whose readers take a file lock and nothing else.
- a normal connection with ``PRAGMA query_only=ON``: refuses every write, and in WAL mode
  its ``-wal``/``-shm`` come and go as any connection's (the last connection to close
  removes them; having written nothing it copies nothing into the main file). Used for a
  WAL file nobody writes right now (no ``-wal``) that this process may write.

A WAL file with no ``-wal`` that someone else may write but this process may not (another
user's database, a folder it cannot write) fits none of them and is refused with
:class:`~inventory_core.errors.ReadOnlyUnsafeError`, rather than read unlocked or left with
side files its owner might then be unable to use. See "Read-Only Databases" in
https://www.sqlite.org/wal.html.
"""

from __future__ import annotations

import contextlib
import enum
import fcntl
import os
import sqlite3
import stat
from pathlib import Path

from sqlalchemy.engine import URL

from inventory_core.config import Settings
from inventory_core.errors import ReadOnlyUnsafeError
from inventory_core.errors.i18n import gettext as _

FS_IOC_GETFLAGS = 0x80086601
"""Linux ioctl that reads a file's attributes (``lsattr``)."""
FS_IMMUTABLE_FL = 0x10
"""The attribute ``chattr +i`` sets: nobody, root included, may write the file."""
WAL_MODE = 2
"""File format version bytes 18-19 of the header in WAL mode (1 is a rollback journal)."""


class Access(enum.Enum):
    """How a Database reaches its file: read-write, or one of the read-only ways above."""

    READ_WRITE = "read-write"
    QUERY_ONLY = "read-only"
    READ_ONLY = "read-only (mode=ro)"
    IMMUTABLE = "read-only (immutable)"

    @property
    def writes(self) -> bool:
        """True only for :attr:`READ_WRITE`."""
        return self is Access.READ_WRITE


def choose_access(path: Path) -> Access:
    """The read-only way to open the existing file ``path`` (see the module docstring).

    Raises:
        ReadOnlyUnsafeError: the file cannot be read without risk or without leaving files.
    """
    wal = _sidecar(path, "-wal")
    folder_writable = os.access(path.parent, os.W_OK | os.X_OK)
    if wal.exists():
        if not _sidecar(path, "-shm").exists() and not folder_writable:
            raise ReadOnlyUnsafeError(
                _(
                    "it has a -wal file but no -shm file, and SQLite cannot create the -shm in "
                    "its read-only folder to read the WAL"
                ),
                path=str(path),
            )
        return Access.READ_ONLY
    if nobody_can_write(path):
        return Access.IMMUTABLE
    if not _in_wal_mode(path):
        return Access.READ_ONLY
    if os.access(path, os.W_OK) and folder_writable:
        return Access.QUERY_ONLY
    raise ReadOnlyUnsafeError(
        _(
            "another user may write it, and reading it safely would leave -wal and -shm files "
            "this process cannot create or its owner could not use"
        ),
        path=str(path),
    )


def nobody_can_write(path: Path) -> bool:
    """True when no process can open ``path`` for writing: read-only mount, the immutable
    attribute, or no write permission bit for anyone."""
    info = path.stat()
    if not info.st_mode & (stat.S_IWUSR | stat.S_IWGRP | stat.S_IWOTH):
        return True
    if os.statvfs(path).f_flag & os.ST_RDONLY:
        return True
    immutable = getattr(stat, "UF_IMMUTABLE", 0) | getattr(stat, "SF_IMMUTABLE", 0)
    if getattr(info, "st_flags", 0) & immutable:
        return True
    return _linux_immutable(path)


def _linux_immutable(path: Path) -> bool:
    with contextlib.suppress(OSError):
        fd = os.open(path, os.O_RDONLY)
        try:
            flags = fcntl.ioctl(fd, FS_IOC_GETFLAGS, bytes(8))
        finally:
            os.close(fd)
        return bool(int.from_bytes(flags[:4], "little") & FS_IMMUTABLE_FL)
    return False


def _in_wal_mode(path: Path) -> bool:
    with path.open("rb") as handle:
        header = handle.read(20)
    return len(header) == 20 and WAL_MODE in (header[18], header[19])


def _sidecar(path: Path, suffix: str) -> Path:
    return path.with_name(path.name + suffix)


def connection_url(url: URL, path: Path, access: Access) -> URL:
    """The URL the engine connects with: a ``file:`` URI for ``mode=ro`` and ``immutable``."""
    if access in (Access.READ_WRITE, Access.QUERY_ONLY):
        return url
    query = {"mode": "ro", "uri": "true"}
    if access is Access.IMMUTABLE:
        query["immutable"] = "1"
    return URL.create("sqlite", database=path.resolve().as_uri(), query=query)


def apply_read_only_pragmas(dbapi_conn: sqlite3.Connection, settings: Settings) -> None:
    """The PRAGMAs of a read-only connection: refuse writes first, then only what reads use.

    No ``journal_mode`` (changing it is a write; a backup stays a rollback-journal file) and
    no ``optimize`` (it may write statistics).
    """
    dbapi_conn.isolation_level = None
    cursor = dbapi_conn.cursor()
    try:
        cursor.execute("PRAGMA query_only=ON")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute(f"PRAGMA busy_timeout={int(settings.busy_timeout_ms)}")
        cursor.execute(f"PRAGMA cache_size=-{int(settings.cache_size_kib)}")
        cursor.execute("PRAGMA temp_store=MEMORY")
    finally:
        cursor.close()


__all__ = ["Access", "apply_read_only_pragmas", "choose_access", "connection_url"]
