"""File-system steps every backup and restore relies on: fsync, atomic rename, checksums.

A rename is only durable once the *directory* holding it is fsynced, and a file's bytes only
once the file is; skipping either can leave an empty or missing backup after a power cut.
:func:`fault_point` is the test hook of the crash tests: a real ``kill -9`` at a named step.
Files holding data are created by :class:`~inventory_core.backup.private.PrivateFile`
(exclusively, never through a link, mode 0600).
"""

from __future__ import annotations

import contextlib
import errno
import hashlib
import os
import signal
from pathlib import Path

from inventory_core.backup.private import PrivateFile, remove_stale
from inventory_core.backup.private import fsync_dir as fsync_dir

FAULT_ENV = "INVENTORY_CORE_TEST_FAULT"
CHUNK = 4 * 1024 * 1024


def fsync_file(path: Path) -> None:
    """Flush ``path``'s bytes to the disk."""
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def sha256_file(path: Path) -> str:
    """The sha256 of a file, read in 4 MiB chunks (one pass, constant memory)."""
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        while chunk := handle.read(CHUNK):
            digest.update(chunk)
    return digest.hexdigest()


def copy_durably(source: Path, target: Path) -> None:
    """Copy ``source`` to a new private file ``target`` (mode 0600) and fsync it.

    A leftover of a killed run at ``target`` is removed first (a planted link: the link
    itself); the copy then goes into a file created exclusively, never through a link.

    Raises:
        UnsafeFileError: ``target`` is still held by a running process, or reappeared.
    """
    remove_stale(target)
    with PrivateFile(target) as out, source.open("rb") as src, out.open("wb") as dst:
        while chunk := src.read(CHUNK):
            dst.write(chunk)
        dst.flush()
        out.sync()


def remove_quietly(*paths: Path) -> None:
    """Delete files that may or may not exist."""
    for path in paths:
        with contextlib.suppress(FileNotFoundError):
            path.unlink()


def sidecars(db_path: Path) -> tuple[Path, Path, Path]:
    """The ``-wal``, ``-shm`` and ``-journal`` files SQLite keeps next to a database."""
    return (
        db_path.with_name(db_path.name + "-wal"),
        db_path.with_name(db_path.name + "-shm"),
        db_path.with_name(db_path.name + "-journal"),
    )


def is_disk_full(exc: BaseException) -> bool:
    """True when an OS or SQLite error means the disk is full."""
    if isinstance(exc, OSError) and exc.errno in (errno.ENOSPC, errno.EDQUOT):
        return True
    text = str(exc).lower()
    return "disk is full" in text or "no space left" in text


def fault_point(step: str) -> None:
    """Kill this process with SIGKILL when the test hook names ``step``.

    The crash tests set ``INVENTORY_CORE_TEST_FAULT=<step>`` in a child process; nothing is
    flushed or cleaned up, exactly like a power cut or ``kill -9`` at that point. The value
    ``enospc:<step>`` raises a disk-full error instead, for file systems that cannot be
    filled for real.
    """
    wanted = os.environ.get(FAULT_ENV)
    if not wanted:
        return
    if wanted == step:
        os.kill(os.getpid(), signal.SIGKILL)
    if wanted == f"enospc:{step}":
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))
