"""The debug bundle: one zip with what a maintainer needs to diagnose a problem.

It holds a consistent copy of the database (the online backup API, or a CSV snapshot on
PostgreSQL), the health report, recent log files, the settings with secrets redacted, the
versions of everything involved and the tail of the audit trail. It is meant to be sent to
someone else, so no credential of the database URL may be in it (see
:mod:`inventory_core.obs.redaction`).
"""

from __future__ import annotations

import json
import os
import platform
import shutil
import sqlite3
import tempfile
import zipfile
from pathlib import Path
from typing import TYPE_CHECKING, Any

from sqlalchemy import select

from inventory_core.backup.files import CHUNK
from inventory_core.backup.manifest import library_version
from inventory_core.backup.private import PrivateFile, remove_stale, resolved_parent
from inventory_core.backup.sqlite_copy import online_copy
from inventory_core.obs.redaction import redact, redact_text, redact_url, scrub, url_secrets

if TYPE_CHECKING:
    from inventory_core.db.database import Database

AUDIT_TAIL = 50
LOG_FILES = 5


def versions() -> dict[str, str]:
    """Python, SQLite, SQLAlchemy, Alembic and inventory_core versions."""
    import sqlalchemy

    import alembic

    return {
        "python": platform.python_version(),
        "platform": platform.platform(),
        "sqlite": sqlite3.sqlite_version,
        "sqlalchemy": sqlalchemy.__version__,
        "alembic": alembic.__version__,
        "inventory_core": library_version(),
    }


def health_report(db: Database) -> dict[str, Any]:
    """The full invariant health report (``check_all``), as JSON-friendly data."""
    from inventory_core.invariants import check_all

    return check_all(db).to_dict()


def audit_tail(db: Database, limit: int = AUDIT_TAIL) -> list[dict[str, Any]]:
    """The newest audit rows, oldest first."""
    from inventory_core.models import AuditLog

    with db.read() as uow:
        rows = uow.fetch(select(AuditLog.__table__).order_by(AuditLog.audit_id.desc()).limit(limit))
        return [row._asdict() for row in rows][::-1]


def recent_logs(db: Database) -> list[Path]:
    """The newest ``*.log`` files next to the database and in ``./logs``.

    Only regular files: a link named like a log could otherwise carry any file the user may
    read (a private key, a password store) into a bundle meant to be sent away.
    """
    folders = [Path("logs"), db.backup_dir.parent / "logs"]
    if db.path is not None:
        folders += [db.path.parent, db.path.parent / "logs"]
    found = {
        p.resolve()
        for f in folders
        if f.is_dir()
        for p in f.glob("*.log*")
        if p.is_file() and not p.is_symlink()
    }
    return sorted(found, key=lambda p: p.stat().st_mtime, reverse=True)[:LOG_FILES]


def settings_dump(db: Database) -> dict[str, Any]:
    """The settings in effect, every credential redacted (the URL's too)."""
    settings = {k: redact(k, v) for k, v in db.settings.model_dump(mode="json").items()}
    settings["database_url"] = redact_url(db.url)
    return settings


def debug_bundle(db: Database, path: str | os.PathLike[str], include_data: bool = True) -> Path:
    """Write the debug bundle zip to ``path`` (``.zip`` added when missing).

    No credential of the database URL is in it: settings and URLs are redacted, and every
    text entry (health report, audit tail, log files) is scrubbed of the URL's password and
    other secret values. The zip and the database copy are private files (mode 0600,
    created exclusively); a leftover of a killed run at their temp names is removed first.

    Args:
        db: the open database.
        path: the zip file to write.
        include_data: put a copy of the data in the bundle (leave it out for data that
            must not leave the shop; the rest still helps).

    Returns:
        The zip written (mode 0600: it may hold business data).
    """
    target = resolved_parent(Path(path))
    target = target if target.suffix == ".zip" else target.with_name(target.name + ".zip")
    target.parent.mkdir(parents=True, exist_ok=True)
    secrets = url_secrets(db.url)

    def text(value: Any) -> str:
        return scrub(json.dumps(value, indent=2, default=str), secrets)

    tmp = target.with_name(f".{target.name}.tmp")
    copy = target.with_name(f".{target.name}.db.tmp")
    remove_stale(tmp)
    remove_stale(copy)
    with PrivateFile(tmp) as out:
        with (
            out.open("w+b") as handle,
            zipfile.ZipFile(handle, "w", compression=zipfile.ZIP_DEFLATED) as archive,
        ):
            archive.writestr("versions.json", text(versions()))
            archive.writestr("settings.json", text(settings_dump(db)))
            archive.writestr("health.json", text(health_report(db)))
            archive.writestr("audit_tail.json", text(audit_tail(db)))
            for log_file in recent_logs(db):
                content = log_file.read_text(encoding="utf-8", errors="replace")
                archive.writestr(f"logs/{log_file.name}", redact_text(scrub(content, secrets)))
            if include_data:
                _add_data(db, copy, archive)
        out.publish(target, replace=True)
    return target


def _add_data(db: Database, copy: Path, archive: zipfile.ZipFile) -> None:
    if db.path is not None:
        with PrivateFile(copy) as data:
            online_copy(db.path, data)
            with data.open("rb") as src, archive.open("database.db", "w", force_zip64=True) as dst:
                shutil.copyfileobj(src, dst, CHUNK)
            data.discard()
        return
    from inventory_core.backup.csv_snapshot import export_csv

    with tempfile.TemporaryDirectory(prefix="inventory_core-bundle-") as work:  # mode 0700
        folder = export_csv(db, Path(work) / "snapshot")
        for item in sorted(folder.iterdir()):
            archive.write(item, f"snapshot/{item.name}")
