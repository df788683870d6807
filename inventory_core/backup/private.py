"""Files the library creates itself: exclusively, never through a link, mode 0600.

Backups, manifests, snapshots and bundles hold the whole database, and their temporary names
are predictable (``.<backup>.tmp``). Opening such a name with ``O_TRUNC`` follows whatever
symbolic link someone planted there and overwrites its target. :class:`PrivateFile` opens
with ``O_CREAT | O_EXCL | O_NOFOLLOW`` instead, so the bytes can only land in a new inode this
process made, and keeps the descriptor: writes, checksums and ``pg_dump``'s output go through
it. SQLite must open its file by name, so :meth:`PrivateFile.check` proves, before and after,
that the name still points at that inode. In a folder nobody else may write to (the backup
folder is checked for that), nobody can swap the name once it is created.

The descriptor also holds an advisory lock (``flock``). The kernel drops it when the process
dies, even by ``kill -9``, so :func:`remove_stale` can tell a leftover of a killed backup
from the temp file of a backup still running in another process, and removes only the first.
"""

from __future__ import annotations

import contextlib
import errno
import hashlib
import os
import stat
from pathlib import Path
from typing import IO, Any

from inventory_core.errors import UnsafeFileError
from inventory_core.errors.i18n import gettext as _
from inventory_core.obs.logs import get_logger

try:
    import fcntl
except ImportError:  # pragma: no cover - Windows has no flock; an open file cannot be removed
    fcntl = None  # type: ignore[assignment]

log = get_logger("inventory_core.backup")

MODE = 0o600
NOFOLLOW = getattr(os, "O_NOFOLLOW", 0)
CLOEXEC = getattr(os, "O_CLOEXEC", 0)
CHUNK = 4 * 1024 * 1024
# File systems without hard links (FAT, some network shares) answer os.link with these.
_NO_LINKS = frozenset(
    {errno.EPERM, errno.ENOTSUP, errno.EOPNOTSUPP, errno.EMLINK, errno.ENOSYS, errno.EXDEV}
)


def fsync_dir(path: Path) -> None:
    """Flush a folder's entries, making the renames and unlinks inside it durable."""
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def resolved_parent(path: Path) -> Path:
    """``path`` made absolute with its folder's links resolved, but not its own name's.

    ``Path.resolve()`` would follow a link planted at the file name itself and write the
    file wherever it points; the library replaces such a link instead.
    """
    path = path.expanduser()
    return path.parent.resolve() / path.name


def _try_lock(fd: int) -> bool:
    """Take the in-use lock of ``fd`` without waiting; False when a live process holds it."""
    if fcntl is None:  # pragma: no cover
        return True
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        return False
    return True


class PrivateFile:
    """A new file at ``path`` that this process created, open and locked while it lives.

    Use it as a context manager: leaving the block by an exception removes the file (only
    if the name still points at it); a normal exit just closes it.

    Raises:
        UnsafeFileError: something (a file, a symbolic link) already has the name.
    """

    def __init__(self, path: str | os.PathLike[str]) -> None:
        self.path = Path(path)
        try:
            fd = os.open(self.path, os.O_RDWR | os.O_CREAT | os.O_EXCL | NOFOLLOW | CLOEXEC, MODE)
        except FileExistsError as exc:
            raise UnsafeFileError(
                _(
                    "something is already there (a file or a symbolic link); nothing was "
                    "written through it"
                ),
                path=str(self.path),
            ) from exc
        self.fd = fd
        try:
            if hasattr(os, "fchmod"):
                os.fchmod(fd, MODE)  # the umask may only take bits away; state the mode
            _try_lock(fd)
            info = os.fstat(fd)
        except BaseException:
            os.close(fd)
            raise
        self._identity = (info.st_dev, info.st_ino)
        self._closed = False

    def is_at(self, path: Path) -> bool:
        """True when ``path`` is this very file (a regular file, not a link to it)."""
        try:
            info = os.lstat(path)
        except FileNotFoundError:
            return False
        return stat.S_ISREG(info.st_mode) and (info.st_dev, info.st_ino) == self._identity

    def check(self) -> None:
        """Refuse to go on when the name no longer points at this file.

        Raises:
            UnsafeFileError: the name was removed or replaced (by a link or another file).
        """
        if not self.is_at(self.path):
            raise UnsafeFileError(
                _("it was replaced while it was being written"), path=str(self.path)
            )

    def open(self, mode: str = "r+b", **kwargs: Any) -> IO[Any]:
        """A file object over this file (a duplicate descriptor: closing it keeps the lock)."""
        return os.fdopen(os.dup(self.fd), mode, **kwargs)

    def size(self) -> int:
        """Bytes in the file now."""
        return os.fstat(self.fd).st_size

    def sha256(self) -> str:
        """The sha256 of the file's bytes, read through the descriptor (not the name)."""
        digest = hashlib.sha256()
        offset = 0
        while chunk := os.pread(self.fd, CHUNK, offset):
            digest.update(chunk)
            offset += len(chunk)
        return digest.hexdigest()

    def sync(self) -> None:
        """Flush the file's bytes to the disk."""
        os.fsync(self.fd)

    def publish(self, final: Path, *, replace: bool = False) -> Path:
        """Give the file its final name, durably, and return it.

        By default nothing at ``final`` is ever replaced: the file is hard-linked there
        (which fails if anything, even a dangling link, has the name) and the temp name is
        dropped. With ``replace`` an existing ``final`` is replaced by ``os.replace``, which
        replaces a link itself, never its target. On file systems without hard links the
        name is checked free, then renamed.

        Raises:
            UnsafeFileError: the temp name was swapped, or (without ``replace``) ``final``
                is taken.
        """
        self.check()
        os.fsync(self.fd)
        if replace:
            os.replace(self.path, final)
        else:
            self._link(final)
        self.path = final
        fsync_dir(final.parent)
        self.check()
        return final

    def _link(self, final: Path) -> None:
        taken = UnsafeFileError(
            _("something is already there; it was left as it was"), path=str(final)
        )
        try:
            # Never through a link: had the temp name been swapped for one since check(),
            # the new name is that link itself (never listed), not its target.
            os.link(self.path, final, follow_symlinks=False)
        except FileExistsError as exc:
            raise taken from exc
        except OSError as exc:
            if exc.errno not in _NO_LINKS:
                raise
            if os.path.lexists(final):
                raise taken from exc
            os.replace(self.path, final)
            return
        os.unlink(self.path)

    def discard(self) -> None:
        """Remove the file (only if the name still points at it) and close it."""
        if self.is_at(self.path):
            with contextlib.suppress(FileNotFoundError):
                os.unlink(self.path)
        self.close()

    def close(self) -> None:
        """Close the descriptor, which releases the in-use lock."""
        if not self._closed:
            self._closed = True
            os.close(self.fd)

    def __enter__(self) -> PrivateFile:
        return self

    def __exit__(self, exc_type: type[BaseException] | None, *_exc: object) -> None:
        if exc_type is not None:
            self.discard()
        self.close()


def remove_stale(path: Path) -> bool:
    """Remove the library's leftover at ``path`` when no running process still writes it.

    Only a regular file is removed, and only when its in-use lock is free (its writer is
    gone). A symbolic link at one of the library's temp names was planted: the link itself
    is removed, never its target. Anything else (a folder, a pipe) is left alone. Each
    removal is logged as ``temp_file_removed`` with the path and size.

    Returns:
        True when something was removed.
    """
    try:
        info = os.lstat(path)
    except FileNotFoundError:
        return False
    if stat.S_ISLNK(info.st_mode):
        target = os.readlink(path)
        os.unlink(path)
        log.warning("temp_file_removed", path=str(path), size=0, kind="symlink", target=target)
        return True
    if not stat.S_ISREG(info.st_mode):
        return False
    fd = os.open(path, os.O_RDONLY | NOFOLLOW | CLOEXEC | os.O_NONBLOCK)
    try:
        opened = os.fstat(fd)
        if (opened.st_dev, opened.st_ino) != (info.st_dev, info.st_ino) or not _try_lock(fd):
            return False
        os.unlink(path)
    finally:
        os.close(fd)
    log.warning("temp_file_removed", path=str(path), size=info.st_size, kind="file")
    return True


def remove_stale_quietly(path: Path) -> bool:
    """:func:`remove_stale`, logging instead of raising when the folder refuses."""
    try:
        return remove_stale(path)
    except OSError as exc:
        log.warning("temp_file_not_removed", path=str(path), error=str(exc))
        return False
