"""Removing what a killed backup, restore or maintenance run left behind.

A ``kill -9`` (or a power cut) in the middle of a backup leaves its hidden temp file in the
backup folder: a partial or whole copy of the database, 4-20 MB for a shop and never listed,
so nobody would ever delete it. The backups taken before ``vacuum``, ``reindex``, a migration
or a restore leave the same kind of file. :func:`remove_leftovers` runs at every
``Database.open`` and every backup. It matches exact names only (:func:`temp_pattern` of
this database's stem, the restore journal's temp file), removes regular files whose writer
is gone (:func:`~inventory_core.backup.private.remove_stale`: a temp still locked by a
running backup in another process is left alone) and planted links themselves, never
their targets, and logs each removal as ``temp_file_removed``. A failure to remove is
logged, never raised: tidying up must not stop a database from opening.
"""

from __future__ import annotations

import os
from pathlib import Path

from inventory_core.backup.catalog import temp_pattern
from inventory_core.backup.journal import journal_temp_path
from inventory_core.backup.private import remove_stale_quietly
from inventory_core.obs.logs import get_logger

log = get_logger("inventory_core.backup")

SIDECARS = ("-journal", "-wal", "-shm")


def sweep_backup_folder(directory: Path, stem: str) -> list[Path]:
    """Remove the temp files killed backups of ``stem`` left in ``directory``.

    A temp file's SQLite sidecars go only once the temp file itself is gone.

    Returns:
        The paths removed.
    """
    try:
        names = os.listdir(directory)
    except FileNotFoundError:
        return []
    except OSError as exc:
        log.warning("temp_files_not_listed", path=str(directory), error=str(exc))
        return []
    pattern = temp_pattern(stem)
    ours = sorted(name for name in names if pattern.match(name))
    mains = [name for name in ours if not name.endswith(SIDECARS)]
    removed = [directory / name for name in mains if remove_stale_quietly(directory / name)]
    for name in ours:
        main = name.removesuffix(next((s for s in SIDECARS if name.endswith(s)), ""))
        gone = main != name and not os.path.lexists(directory / main)
        if gone and remove_stale_quietly(directory / name):
            removed.append(directory / name)
    return removed


def remove_leftovers(backup_dir: Path, stem: str, live: Path | None = None) -> list[Path]:
    """Remove the leftovers of killed runs for one database.

    Args:
        backup_dir: the backup folder.
        stem: the database's backup-name prefix (file stem, or PostgreSQL database name).
        live: the SQLite file, whose folder may hold the restore journal's temp file.

    Returns:
        The paths removed.
    """
    try:
        folder = backup_dir.expanduser().resolve()
    except (OSError, RuntimeError) as exc:  # a link loop
        log.warning("temp_files_not_listed", path=str(backup_dir), error=str(exc))
        return []
    removed = sweep_backup_folder(folder, stem)
    if live is not None and remove_stale_quietly(journal_temp_path(live)):
        removed.append(journal_temp_path(live))
    return removed
