"""The private copy a SQLite restore works from: copied, checked, upgraded, then attached.

A restore checks and restores its own copy of the backup, never the backup file itself,
so a file changed after it was checked cannot slip in. The copy is created exclusively
next to the live file (``.<db>.restore-<random>.staged``, mode 0600, same disk) and hashed
while it is copied; every check of :mod:`inventory_core.backup.checks` then runs on it.
A backup at an older schema revision is upgraded there (Alembic on the copy), and the copy
must then pass the start-up checks every ``Database.open`` applies, all before the live
file is touched.

The restoring process holds an ``flock`` on the copy for as long as it uses it; a copy
nobody holds is what a killed restore left behind, and :func:`clean_stale` removes it
(``Database.open`` calls it through ``recover_interrupted_restore``).
"""

from __future__ import annotations

import contextlib
import fcntl
import hashlib
import os
import sqlite3
import tempfile
import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from inventory_core.backup.checks import Checked, check_backup
from inventory_core.backup.claims import Identity
from inventory_core.backup.files import CHUNK, remove_quietly
from inventory_core.db import migrations
from inventory_core.errors import InventoryError, RestoreBackupChangedError, RestoreError
from inventory_core.errors.i18n import gettext as _
from inventory_core.invariants.startup import check_opens
from inventory_core.models import utc_now_iso
from inventory_core.obs.logs import get_logger

if TYPE_CHECKING:
    from inventory_core.config import Settings

log = get_logger("inventory_core.backup")


@dataclass
class Staged:
    """A checked private copy of a backup, ready to be attached to the live database."""

    path: Path
    checked: Checked
    upgraded: bool
    _fd: int

    def close(self) -> None:
        """Delete the copy and let go of its lock."""
        remove_quietly(self.path)
        with contextlib.suppress(OSError):
            os.close(self._fd)


def _pattern(live: Path) -> str:
    return f".{live.name}.restore-*.staged"


def clean_stale(live: Path) -> list[Path]:
    """Delete the staged copies a killed restore left next to ``live`` (none held)."""
    removed: list[Path] = []
    for path in live.parent.glob(_pattern(live)):
        try:
            fd = os.open(path, os.O_RDONLY)
        except OSError:
            continue
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:
            os.close(fd)
            continue  # a restore in progress holds it
        try:
            remove_quietly(path)
            removed.append(path)
        finally:
            os.close(fd)
    if removed:
        log.warning("restore_staging_removed", files=[p.name for p in removed])
    return removed


def stage(
    backup: Path,
    live: Path,
    settings: Settings,
    *,
    identity: Identity,
    allow_other_database: bool = False,
    expected_sha256: str | None = None,
) -> Staged:
    """Copy ``backup`` next to ``live``, check the copy, upgrade it to the code's head.

    Args:
        backup: the backup file (its manifest next to it).
        live: the live database, whose folder receives the copy.
        settings: for opening the copy (its start-up checks).
        identity: the live database's identity.
        allow_other_database: accept a backup of another database.
        expected_sha256: the sha256 of the plan the operator confirmed, if any.

    Raises:
        RestoreError: the backup (as copied) fails a check; nothing was changed.
    """
    if not backup.is_file():
        check_backup(backup)  # raises the error of a folder or of a missing path
    fd, name = tempfile.mkstemp(prefix=f".{live.name}.restore-", suffix=".staged", dir=live.parent)
    path = Path(name)
    staged: Staged | None = None
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        digest = _copy(backup, fd)
        if expected_sha256 is not None and digest != expected_sha256:
            raise RestoreBackupChangedError(
                path=str(backup), actual=digest, expected=expected_sha256
            )
        checked = check_backup(
            backup,
            live=identity,
            allow_other_database=allow_other_database,
            source=path,
            sha256=digest,
        )
        upgraded = checked.manifest.schema_revision != migrations.head_revision()
        staged = Staged(path, checked, upgraded, fd)
        _prepare(staged, settings, identity)
        return staged
    except BaseException:
        if staged is not None:
            staged.close()
        else:
            remove_quietly(path)
            os.close(fd)
        raise


def _copy(source: Path, fd: int) -> str:
    """Copy ``source`` into the open file ``fd``; return its sha256 (one read pass)."""
    digest = hashlib.sha256()
    with source.open("rb") as src:
        while chunk := src.read(CHUNK):
            digest.update(chunk)
            view = memoryview(chunk)
            while view:
                view = view[os.write(fd, view) :]
    return digest.hexdigest()


def _prepare(staged: Staged, settings: Settings, identity: Identity) -> None:
    """Upgrade the copy, give it an identity if it had none, and run the start-up checks."""
    from inventory_core.db.engine import make_engine

    path = staged.path
    if staged.upgraded:
        engine = make_engine(path, settings)
        try:
            migrations.upgrade(engine, "head")
        except Exception as exc:
            raise RestoreError(
                _("upgrading its schema failed: {error}").format(error=exc), path=str(path)
            ) from exc
        finally:
            engine.dispose()
    facts = staged.checked.facts
    if facts is None or facts.database_id is None:
        _adopt_identity(path, identity.database_id)
    try:
        check_opens(path, settings)
    except InventoryError as exc:
        raise RestoreError(exc.message, path=str(staged.checked.path)) from exc
    conn = sqlite3.connect(path, isolation_level=None)
    try:
        conn.execute("PRAGMA journal_mode=DELETE")
    finally:
        conn.close()


def _adopt_identity(path: Path, database_id: str | None) -> None:
    """Give a copy without identity (a backup older than identities) the live one."""
    conn = sqlite3.connect(path, isolation_level=None)
    try:
        chosen = database_id or str(uuid.uuid4())
        changed = conn.execute(
            "UPDATE database_identity SET database_id = ? WHERE id = 1", (chosen,)
        ).rowcount
        if not changed:
            conn.execute(
                "INSERT INTO database_identity (id, database_id, created_at) VALUES (1, ?, ?)",
                (chosen, utc_now_iso()),
            )
    finally:
        conn.close()
