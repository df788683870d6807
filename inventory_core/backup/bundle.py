"""The debug bundle: one zip with what a maintainer needs to diagnose a problem.

It holds a consistent copy of the database (the online backup API, or a CSV snapshot on
PostgreSQL), the health report, recent log files, the settings with secrets redacted, the
versions of everything involved and the tail of the audit trail.
"""

from __future__ import annotations

import json
import os
import platform
import re
import sqlite3
import tempfile
import zipfile
from pathlib import Path
from typing import TYPE_CHECKING, Any

from sqlalchemy import select
from sqlalchemy.engine import make_url

from inventory_core.backup.files import create_private
from inventory_core.backup.manifest import library_version
from inventory_core.backup.sqlite_copy import online_copy

if TYPE_CHECKING:
    from inventory_core.db.database import Database

SECRET_NAME = re.compile(r"pass|secret|token|key|credential|auth", re.IGNORECASE)
REDACTED = "***"
AUDIT_TAIL = 50
LOG_FILES = 5


def redact(name: str, value: Any) -> Any:
    """Hide secrets: values of secret-looking names, and passwords inside URLs."""
    if SECRET_NAME.search(name):
        return REDACTED
    if isinstance(value, str) and "://" in value:
        try:
            url = make_url(value)
        except Exception:
            return re.sub(r"://([^:/@]+):[^@]*@", rf"://\1:{REDACTED}@", value)
        if url.password:
            return url.render_as_string(hide_password=True)
    return value


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
        rows = uow.execute(select(AuditLog).order_by(AuditLog.audit_id.desc()).limit(limit))
        return [dict(row._mapping) for row in rows][::-1]


def recent_logs(db: Database) -> list[Path]:
    """The newest ``*.log`` files next to the database and in ``./logs``."""
    folders = [Path("logs"), db.backup_dir.parent / "logs"]
    if db.path is not None:
        folders += [db.path.parent, db.path.parent / "logs"]
    found = {p.resolve() for f in folders if f.is_dir() for p in f.glob("*.log*") if p.is_file()}
    return sorted(found, key=lambda p: p.stat().st_mtime, reverse=True)[:LOG_FILES]


def debug_bundle(db: Database, path: str | os.PathLike[str], include_data: bool = True) -> Path:
    """Write the debug bundle zip to ``path`` (``.zip`` added when missing).

    Args:
        db: the open database.
        path: the zip file to write.
        include_data: put a copy of the data in the bundle (leave it out for data that
            must not leave the shop; the rest still helps).

    Returns:
        The zip written (mode 0600: it may hold business data).
    """
    target = Path(path).expanduser().resolve()
    target = target if target.suffix == ".zip" else target.with_name(target.name + ".zip")
    target.parent.mkdir(parents=True, exist_ok=True)
    settings = {k: redact(k, v) for k, v in db.settings.model_dump(mode="json").items()}
    settings["database_url"] = redact("database_url", db.url.render_as_string(False))
    tmp = target.with_name(f".{target.name}.tmp")
    create_private(tmp)
    with (
        tempfile.TemporaryDirectory() as work,
        zipfile.ZipFile(tmp, "w", compression=zipfile.ZIP_DEFLATED) as archive,
    ):
        archive.writestr("versions.json", json.dumps(versions(), indent=2))
        archive.writestr("settings.json", json.dumps(settings, indent=2, default=str))
        archive.writestr("health.json", json.dumps(health_report(db), indent=2, default=str))
        archive.writestr("audit_tail.json", json.dumps(audit_tail(db), indent=2, default=str))
        for log_file in recent_logs(db):
            archive.write(log_file, f"logs/{log_file.name}")
        if include_data:
            _add_data(db, Path(work), archive)
    os.replace(tmp, target)
    return target


def _add_data(db: Database, work: Path, archive: zipfile.ZipFile) -> None:
    if db.path is not None:
        copy = work / "database.db"
        create_private(copy)
        online_copy(db.path, copy)
        archive.write(copy, "database.db")
        return
    from inventory_core.backup.csv_snapshot import export_csv

    folder = export_csv(db, work / "snapshot")
    for item in sorted(folder.iterdir()):
        archive.write(item, f"snapshot/{item.name}")
