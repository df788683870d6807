"""Backup file names and the listing of a backup folder.

A backup is ``<db-stem>_YYYYMMDD_HHMMSS[-N]_<reason>.db`` (``.dump`` on PostgreSQL), with
``-N`` added when two backups land in the same second, and ``<name>.manifest.json`` next
to it. Temporary files start with a dot (:func:`temp_path`), so a half-written backup is
never listed, and only regular files are: a link named like a backup is ignored.
"""

from __future__ import annotations

import os
import re
import stat
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

from inventory_core.backup.manifest import Manifest, manifest_path, read_manifest

SUFFIXES = (".db", ".dump")
_NAME = re.compile(
    r"^(?P<stem>.+)_(?P<stamp>\d{8}_\d{6})(?:-(?P<seq>\d+))?_(?P<reason>[A-Za-z0-9-]+)"
    r"(?P<suffix>\.db|\.dump)$"
)


@dataclass(frozen=True)
class BackupInfo:
    """One backup in a folder, as :meth:`BackupService.list` reports it."""

    path: Path
    reason: str
    size: int
    created_at: datetime
    verified: bool
    manifest: Manifest | None
    sequence: int = 0

    @property
    def age(self) -> timedelta:
        """How long ago the backup was taken."""
        return datetime.now(UTC) - self.created_at

    @property
    def manifest_path(self) -> Path:
        """The manifest file next to the backup."""
        return manifest_path(self.path)


def clean_reason(reason: str) -> str:
    """A reason usable in a file name: letters, digits and dashes."""
    cleaned = re.sub(r"[^A-Za-z0-9-]+", "-", reason).strip("-")
    return cleaned[:40] or "manual"


def temp_path(backup: Path) -> Path:
    """The hidden name a backup is written under before it is renamed into place."""
    return backup.with_name(f".{backup.name}.tmp")


def temp_pattern(stem: str) -> re.Pattern[str]:
    """The exact names of the temp files a backup of ``stem`` leaves when it is killed.

    The backup's temp file (and any SQLite ``-journal``/``-wal``/``-shm`` next to it) and
    its manifest's temp file; nothing else in the folder matches.
    """
    backup = rf"{re.escape(stem)}_\d{{8}}_\d{{6}}(?:-\d+)?_[A-Za-z0-9-]+(?:\.db|\.dump)"
    return re.compile(rf"^\.{backup}(?:\.manifest\.json)?\.tmp(?:-journal|-wal|-shm)?$")


def new_backup_path(directory: Path, stem: str, reason: str, suffix: str, now: datetime) -> Path:
    """A name no other backup in ``directory`` uses, stamped with ``now`` (UTC).

    A name is taken when anything has it (a dangling link too) or has its temp name (a
    backup of another process still being written).
    """
    stamp = now.strftime("%Y%m%d_%H%M%S")
    reason = clean_reason(reason)
    candidate = directory / f"{stem}_{stamp}_{reason}{suffix}"
    sequence = 1
    while _taken(candidate) or _same_second_taken(directory, stem, stamp, sequence, suffix):
        sequence += 1
        candidate = directory / f"{stem}_{stamp}-{sequence}_{reason}{suffix}"
    return candidate


def _taken(candidate: Path) -> bool:
    return os.path.lexists(candidate) or os.path.lexists(temp_path(candidate))


def _same_second_taken(directory: Path, stem: str, stamp: str, sequence: int, suffix: str) -> bool:
    prefix = f"{stem}_{stamp}" if sequence == 1 else f"{stem}_{stamp}-{sequence}"
    return any(p.name.startswith(prefix + "_") for p in directory.glob(f"{prefix}_*{suffix}"))


def _regular(path: Path) -> bool:
    """A regular file itself: a link named like a backup is not listed (nor restored)."""
    try:
        return stat.S_ISREG(os.lstat(path).st_mode)
    except FileNotFoundError:
        return False


def list_backups(directory: Path, stem: str) -> list[BackupInfo]:
    """The backups of database ``stem`` in ``directory``, newest first."""
    if not directory.is_dir():
        return []
    found: list[BackupInfo] = []
    for path in directory.iterdir():
        match = _NAME.match(path.name)
        if match is None or match["stem"] != stem or not _regular(path):
            continue
        manifest = read_manifest(path)
        if manifest is not None:
            created = datetime.fromisoformat(manifest.created_at)
        else:
            created = datetime.strptime(match["stamp"], "%Y%m%d_%H%M%S").replace(tzinfo=UTC)
        found.append(
            BackupInfo(
                path=path,
                reason=match["reason"],
                size=path.stat().st_size,
                created_at=created,
                verified=manifest is not None and manifest.verified,
                manifest=manifest,
                sequence=int(match["seq"] or 1),
            )
        )
    found.sort(key=lambda b: (b.created_at, b.sequence), reverse=True)
    return found
