"""The restore journal: the step a file swap reached, and finishing it after a crash.

A file swap records each step in ``<db>.restore.json`` *before* acting on it and keeps the
old database as the hard link ``<db>.restore-old`` until the new one has passed every
check, so :func:`recover_interrupted_restore` can always leave one whole database: a
``done`` journal keeps the new one, anything else puts the old one back. Only
:func:`~inventory_core.backup.damaged.restore_damaged` swaps files today; every restore
of 0.1.0 did too, and a journal one of them left behind (the library upgraded over a
crashed restore) is finished the same way. It also removes the private copies a
killed restore left (:func:`~inventory_core.backup.staging.clean_stale`).
"""

from __future__ import annotations

import contextlib
import json
import os
from pathlib import Path

from inventory_core.backup.files import fsync_dir, remove_quietly, sidecars
from inventory_core.backup.private import PrivateFile, remove_stale
from inventory_core.obs.logs import get_logger

log = get_logger("inventory_core.backup")


def journal_path(live: Path) -> Path:
    return live.with_name(live.name + ".restore.json")


def old_path(live: Path) -> Path:
    return live.with_name(live.name + ".restore-old")


def new_path(live: Path) -> Path:
    return live.with_name(live.name + ".restore-new")


def journal_temp_path(live: Path) -> Path:
    return live.with_name(f".{journal_path(live).name}.tmp")


def write_journal(live: Path, step: str, backup: Path, safety: Path) -> None:
    """Record the step reached, durably, before acting on it."""
    target = journal_path(live)
    tmp = journal_temp_path(live)
    body = {"step": step, "backup": str(backup), "safety_backup": str(safety)}
    remove_stale(tmp)
    with PrivateFile(tmp) as out:
        with out.open("w", encoding="utf-8") as handle:
            json.dump(body, handle)
        out.publish(target, replace=True)


def finish(live: Path) -> None:
    remove_quietly(old_path(live), new_path(live), journal_path(live))
    fsync_dir(live.parent)


def recover_interrupted_restore(live: Path) -> str | None:
    """Complete or undo a restore that a crash interrupted; None when there was none.

    Returns:
        ``"kept-new"`` when the restore had passed its checks, ``"kept-old"`` when the old
        database was put back (or never left), None when no restore was under way.
    """
    from inventory_core.backup.staging import clean_stale

    clean_stale(live)
    journal = journal_path(live)
    if not journal.exists():
        remove_stale(new_path(live))
        return None
    step = None
    with contextlib.suppress(OSError, ValueError):
        step = json.loads(journal.read_text(encoding="utf-8")).get("step")
    old = old_path(live)
    if step == "done":
        finish(live)
        log.warning("restore_recovered", path=str(live), outcome="kept-new")
        return "kept-new"
    if old.exists():
        remove_quietly(*sidecars(live))
        os.replace(old, live)
        remove_quietly(old)
        fsync_dir(live.parent)
    remove_stale(new_path(live))  # the staged copy, logged as the leftover it is
    finish(live)
    log.warning("restore_recovered", path=str(live), outcome="kept-old", step=step)
    return "kept-old"
