"""File-system steps every backup and restore relies on: fsync, atomic rename, checksums.

A rename is only durable once the *directory* holding it is fsynced, and a file's bytes only
once the file is; skipping either can leave an empty or missing backup after a power cut.
:func:`fault_point` is the test hook of the crash tests: a real ``kill -9`` at a named step.
"""

from __future__ import annotations

import contextlib
import errno
import hashlib
import os
import signal
from pathlib import Path

FAULT_ENV = "INVENTORY_CORE_TEST_FAULT"
CHUNK = 4 * 1024 * 1024


def fsync_file(path: Path) -> None:
    """Flush ``path``'s bytes to the disk."""
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def fsync_dir(path: Path) -> None:
    """Flush a folder's entries, making the renames and unlinks inside it durable."""
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


def create_private(path: Path) -> None:
    """Create an empty file readable by its owner only (mode 0600) before anything is in it."""
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    os.close(fd)
    os.chmod(path, 0o600)


def copy_durably(source: Path, target: Path) -> None:
    """Copy ``source`` to ``target`` (mode 0600) and fsync it; ``target`` is overwritten."""
    create_private(target)
    with source.open("rb") as src, target.open("wb") as dst:
        while chunk := src.read(CHUNK):
            dst.write(chunk)
        dst.flush()
        os.fsync(dst.fileno())


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
