"""The SQLite side of backups: the online copy, and the checks a copy must pass.

``sqlite3.Connection.backup`` copies in page steps while other connections keep writing,
but every commit by another connection restarts it from page one. Measured on 560 MB with a
writer committing every 10 ms, 1,024-page steps restarted 5,653 times in 60 s and never
finished, while a one-step copy (one read transaction; WAL writers keep going) finished in
~1.3 s. So the copy runs in steps (for the progress bar) only while it is not being
restarted: at the first restarts, or past the deadline, it finishes in one step and logs it.
"""

from __future__ import annotations

import os
import sqlite3
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from inventory_core.backup.files import fault_point
from inventory_core.backup.private import PrivateFile
from inventory_core.db import migrations
from inventory_core.db.locate import SQLITE_HEADER
from inventory_core.errors import (
    RestoreError,
    RestoreMissingError,
    RestoreNotADatabaseError,
    RestorePathIsDirectoryError,
    RestoreSchemaTooNewError,
    RestoreTruncatedError,
    RestoreWrongSchemaError,
)
from inventory_core.errors.i18n import gettext as _
from inventory_core.obs.logs import get_logger

log = get_logger("inventory_core.backup")

Progress = Callable[[int, int], None]
STEP_PAGES = 1024
MAX_RESTARTS = 1
DEADLINE_S = 10.0
# Python sleeps 250 ms after a busy step by default, an age next to a 10 ms writer.
BUSY_SLEEP_S = 0.005


@dataclass(frozen=True)
class CopyStats:
    """How an online copy went: ``stepped`` or ``one-step``, restarts seen, seconds."""

    method: str
    restarts: int
    seconds: float
    pages: int


class _FallBack(Exception):
    """Raised from the progress callback to abandon the stepped copy."""


def online_copy(
    source: Path,
    dest: PrivateFile,
    *,
    busy_timeout_s: float = 5.0,
    step_pages: int = STEP_PAGES,
    max_restarts: int = MAX_RESTARTS,
    deadline_s: float = DEADLINE_S,
    progress: Progress | None = None,
) -> CopyStats:
    """Copy the live database ``source`` into ``dest`` (a new file) with the backup API.

    The copy is a consistent snapshot: every transaction is in it whole or not at all.
    ``dest`` is left in ``journal_mode=DELETE`` so the one file is self-contained. SQLite
    opens ``dest`` by its name, so the name is checked to still be the file this process
    created before the copy and after it.

    Args:
        source: the live database (WAL mode; other processes may be writing).
        dest: the empty file to fill, created exclusively (mode 0600).
        busy_timeout_s: how long to wait for a lock on the source.
        step_pages: pages per step while no writer restarts the copy.
        max_restarts: restarts tolerated before finishing in one step.
        deadline_s: seconds of stepping tolerated before finishing in one step.
        progress: called with ``(pages_done, pages_total)``.
    """
    started = time.monotonic()
    restarts = 0
    last_remaining: int | None = None
    total_pages = 0

    def on_step(_status: int, remaining: int, total: int) -> None:
        nonlocal restarts, last_remaining, total_pages
        total_pages = total
        if last_remaining is not None and remaining >= last_remaining:  # restarted or stalled
            restarts += 1
        last_remaining = remaining
        if progress is not None:
            progress(total - remaining, total)
        if remaining < total:
            fault_point("backup-mid-copy")
        if restarts > max_restarts or time.monotonic() - started > deadline_s:
            raise _FallBack

    dest.check()
    src = sqlite3.connect(source, timeout=busy_timeout_s)
    try:
        method = "stepped"
        dst = _open_dest(dest.path)
        try:
            src.backup(dst, pages=step_pages, progress=on_step, sleep=BUSY_SLEEP_S)
        except _FallBack:
            # Without a journal the abandoned copy cannot roll back: start from an empty file.
            dst.close()
            os.ftruncate(dest.fd, 0)
            method = "one-step"
            log.warning(
                "backup_fallback_one_step",
                restarts=restarts,
                elapsed_s=round(time.monotonic() - started, 3),
                reason="writers kept restarting the stepped copy",
            )
            dest.check()
            dst = _open_dest(dest.path)
            src.backup(dst, pages=-1, sleep=BUSY_SLEEP_S)
            if progress is not None:
                progress(total_pages, total_pages)
        finally:
            try:
                dst.execute("PRAGMA journal_mode=DELETE")
            finally:
                dst.close()
    finally:
        src.close()
    dest.check()
    return CopyStats(method, restarts, round(time.monotonic() - started, 4), total_pages)


def _open_dest(dest: Path) -> sqlite3.Connection:
    """The destination connection, without journal or syncs.

    The copy is a temp file, fsynced and verified afterwards and never listed until it is
    renamed, so a journal on it would only double the writes.
    """
    dst = sqlite3.connect(dest)
    dst.execute("PRAGMA journal_mode=OFF")
    dst.execute("PRAGMA synchronous=OFF")
    return dst


def structural_error(path: Path) -> RestoreError | None:
    """Why ``path`` cannot even be opened as a backup, or None (read-only, no writes)."""
    if path.is_dir():
        return RestorePathIsDirectoryError(path=str(path))
    if not path.exists():
        return RestoreMissingError(path=str(path))
    size = path.stat().st_size
    if size == 0:
        return RestoreNotADatabaseError(_("the file is empty (0 bytes)"), path=str(path))
    with path.open("rb") as handle:
        header = handle.read(100)
    if len(header) < 100 or not header.startswith(SQLITE_HEADER):
        return RestoreNotADatabaseError(
            _("it does not start with the SQLite header"), path=str(path)
        )
    page_size = int.from_bytes(header[16:18], "big")
    page_size = 65536 if page_size == 1 else page_size
    pages = int.from_bytes(header[28:32], "big")
    if page_size < 512 or page_size & (page_size - 1):
        return RestoreNotADatabaseError(
            _("invalid page size {page_size}").format(page_size=page_size), path=str(path)
        )
    if size % page_size or (header[24:28] == header[92:96] and size < pages * page_size):
        return RestoreTruncatedError(
            _("{size} bytes, the header says {pages} pages of {page_size} bytes").format(
                size=size, pages=pages, page_size=page_size
            ),
            path=str(path),
        )
    return None


def open_readonly(path: Path) -> sqlite3.Connection:
    """A read-only connection that never creates -wal/-shm next to a backup."""
    return sqlite3.connect(f"file:{path}?mode=ro", uri=True)


def schema_error(conn: sqlite3.Connection, path: Path) -> RestoreError | None:
    """Why the SQLite file behind ``conn`` is not an inventory_core database we can use."""
    from inventory_core.models import metadata

    try:
        names = {str(row[0]) for row in conn.execute("SELECT name FROM sqlite_master")}
    except sqlite3.DatabaseError as exc:
        return RestoreNotADatabaseError(str(exc), path=str(path))
    if "alembic_version" not in names:
        return RestoreWrongSchemaError(_("it has no alembic_version table"), path=str(path))
    row = conn.execute("SELECT version_num FROM alembic_version").fetchone()
    revision = None if row is None else str(row[0])
    if revision is None or revision not in migrations.known_revisions():
        if revision is not None and set(metadata.tables) <= names:
            return RestoreSchemaTooNewError(
                found=revision, expected=migrations.head_revision(), path=str(path)
            )
        return RestoreWrongSchemaError(
            _("unknown schema revision {revision}").format(revision=repr(revision)), path=str(path)
        )
    missing = sorted(set(metadata.tables) - names)
    if revision == migrations.head_revision() and missing:
        return RestoreWrongSchemaError(
            _("missing tables: {value}").format(value=", ".join(missing)), path=str(path)
        )
    return None


def content_problems(
    conn: sqlite3.Connection, *, foreign_keys: bool = True, quick: bool = False
) -> list[str]:
    """``integrity_check`` and ``foreign_key_check`` findings (empty when the file is sound).

    Args:
        conn: a connection to the file.
        foreign_keys: also run ``foreign_key_check`` (a join per referencing row). A backup
            whose sha256 matches its manifest had it checked when it was taken.
        quick: ``quick_check`` instead: every page and b-tree, without checking that each
            index matches its table (a tenth of the time; the safety backup of a restore,
            taken while every other writer waits).
    """
    problems: list[str] = []
    pragma = "quick_check" if quick else "integrity_check"
    try:
        rows = [str(r[0]) for r in conn.execute(f"PRAGMA {pragma}(20)")]
    except sqlite3.DatabaseError as exc:
        return [f"{pragma} failed: {exc}"]
    if rows != ["ok"]:
        problems.extend(f"{pragma}: {r}" for r in rows)
    if not foreign_keys:
        return problems
    fk = conn.execute("PRAGMA foreign_key_check").fetchmany(20)
    problems.extend(f"foreign_key_check: {r[0]} rowid {r[1]} -> {r[2]}" for r in fk)
    return problems
