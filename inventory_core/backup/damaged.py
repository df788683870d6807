"""Putting a backup in place of a SQLite database that no longer opens: a guarded file swap.

A file SQLite cannot open cannot be restored through a transaction on it (see
:mod:`inventory_core.backup.inplace`), so this one path still swaps the file. A swap is
only sound when no connection is open on the file: a program still holding the old inode
would write into it and lose those writes, and its last connection would delete the new
file's ``-wal`` by name. Damage does not close connections (a disk fault can strike a file
a running program has open), so the swap first asks SQLite's own lock: every connection
to a WAL database holds a shared lock on byte 128 of its ``-shm`` (the "dead man switch")
for as long as it is open; when that byte cannot be locked exclusively, another program is
connected and the swap is refused (:class:`~inventory_core.errors.RestoreDatabaseInUseError`).

POSIX locks belong to a process, and closing any descriptor of a file drops them all, so
this process must have no connection of its own open on the damaged file (the CLI has
none: it could not open it).

The same journal as the restores of earlier versions makes the swap crash-safe: the old
file is kept as a hard link until the new one passed its checks.
"""

from __future__ import annotations

import contextlib
import fcntl
import os
import struct
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING

from inventory_core.backup.checks import check_backup
from inventory_core.backup.files import copy_durably, fsync_dir, remove_quietly, sidecars
from inventory_core.backup.journal import (
    finish,
    new_path,
    old_path,
    recover_interrupted_restore,
    write_journal,
)
from inventory_core.backup.sqlite_copy import open_readonly, schema_error
from inventory_core.db.preflight import inspect_sqlite_file
from inventory_core.errors import (
    InventoryError,
    RestoreDatabaseInUseError,
    RestoreError,
    RestoreRolledBackError,
)
from inventory_core.errors.i18n import gettext as _
from inventory_core.invariants.startup import check_opens
from inventory_core.obs.logs import get_logger

if TYPE_CHECKING:
    from inventory_core.config import Settings

log = get_logger("inventory_core.backup")

SHM_DMS_BYTE = 128
"""``UNIX_SHM_DMS`` in SQLite's os_unix.c: every open WAL connection read-locks it."""


def connected_elsewhere(live: Path) -> bool:
    """True when another process has a WAL connection open on ``live``."""
    shm = live.with_name(live.name + "-shm")
    try:
        fd = os.open(shm, os.O_RDWR)
    except FileNotFoundError:
        return False
    try:
        lock = struct.pack("hhqqi", fcntl.F_WRLCK, os.SEEK_SET, SHM_DMS_BYTE, 1, 0)
        try:
            fcntl.fcntl(fd, fcntl.F_SETLK, lock)
        except OSError:
            return True
        unlock = struct.pack("hhqqi", fcntl.F_UNLCK, os.SEEK_SET, SHM_DMS_BYTE, 1, 0)
        with contextlib.suppress(OSError):
            fcntl.fcntl(fd, fcntl.F_SETLK, unlock)
        return False
    finally:
        os.close(fd)


def restore_damaged(live: Path, backup: Path, settings: Settings | None = None) -> Path:
    """Put a verified backup in place of a SQLite database that no longer opens.

    A damaged file cannot be backed up through SQLite, so it is kept aside instead, as
    ``<db>.damaged-<UTC stamp>`` (with its ``-wal``), for forensics. The result must pass
    ``Database.open(check="quick")`` or the damaged file is put back.

    Returns:
        Where the damaged file was kept.

    Raises:
        RestoreDatabaseInUseError: another program has the file open (nothing changed).
        RestoreError: the backup is not valid (nothing was changed).
        RestoreRolledBackError: the restored file failed to open; the damaged one is back.
    """
    live = live.expanduser().resolve()
    recover_interrupted_restore(live)
    check_backup(backup)
    if connected_elsewhere(live):
        raise RestoreDatabaseInUseError(live=str(live), path=str(backup))
    stamp = datetime.now(UTC).strftime("%Y%m%d_%H%M%S")
    aside = live.with_name(f"{live.name}.damaged-{stamp}")
    new, old = new_path(live), old_path(live)
    write_journal(live, "prepare", backup, aside)
    copy_durably(backup, new)
    for sidecar in sidecars(live):
        if sidecar.exists():
            os.link(sidecar, aside.with_name(aside.name + sidecar.name[len(live.name) :]))
    if live.exists():
        remove_quietly(old)
        os.link(live, old)
    fsync_dir(live.parent)
    write_journal(live, "swap", backup, aside)
    remove_quietly(*sidecars(live))
    os.replace(new, live)
    fsync_dir(live.parent)
    try:
        inspect_sqlite_file(live)
        _check_schema(live, backup)
    except InventoryError as exc:
        recover_interrupted_restore(live)
        raise RestoreRolledBackError(
            exc.message, path=str(backup), safety_backup=str(aside)
        ) from exc
    write_journal(live, "done", backup, aside)
    if old.exists():
        os.replace(old, aside)
    finish(live)
    check_opens(live, settings)
    log.warning("restore_over_damaged", path=str(live), backup=str(backup), kept=str(aside))
    return aside


def _check_schema(live: Path, backup: Path) -> None:
    """``quick_check`` and the schema of the file now in place, read-only."""
    conn = open_readonly(live)
    try:
        rows = [str(r[0]) for r in conn.execute("PRAGMA quick_check")]
        wrong = schema_error(conn, live)
    finally:
        conn.close()
    if rows != ["ok"]:
        raise RestoreError(
            _("quick_check after the swap: {rows}").format(rows="; ".join(rows)), path=str(backup)
        )
    if wrong is not None:
        raise wrong
