"""PostgreSQL backups through ``pg_dump --format=custom`` and ``pg_restore --clean``.

The URL is passed to the tools in libpq form with the password in ``PGPASSWORD``, never on
the command line where ``ps`` would show it. Without the tools a :class:`BackupToolMissingError`
points at the CSV snapshot, which works on every database.
"""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

from sqlalchemy.engine import URL

from inventory_core.errors import BackupError, BackupToolMissingError


def _tool(name: str) -> str:
    found = shutil.which(name)
    if found is None:
        raise BackupToolMissingError(tool=name)
    return found


def _libpq(url: URL) -> tuple[str, dict[str, str]]:
    env = dict(os.environ)
    if url.password:
        env["PGPASSWORD"] = str(url.password)
    plain = url.set(drivername="postgresql", password=None)
    return plain.render_as_string(hide_password=False), env


def _run(args: list[str], env: dict[str, str], what: str) -> str:
    done = subprocess.run(args, env=env, capture_output=True, text=True, check=False)
    if done.returncode != 0:
        raise BackupError(f"{what} failed: {done.stderr.strip()[:500]}")
    return done.stdout


def dump(url: URL, target: Path) -> None:
    """``pg_dump --format=custom`` of the database at ``url`` into ``target``."""
    tool = _tool("pg_dump")
    dsn, env = _libpq(url)
    _run([tool, "--format=custom", "--no-owner", f"--file={target}", dsn], env, "pg_dump")


def restore(url: URL, source: Path) -> None:
    """``pg_restore --clean --if-exists`` of ``source`` into the database at ``url``.

    Runs as one transaction (``--single-transaction``), so a failed restore leaves the
    target as it was.
    """
    tool = _tool("pg_restore")
    dsn, env = _libpq(url)
    _run(
        [
            tool,
            "--clean",
            "--if-exists",
            "--no-owner",
            "--single-transaction",
            "--exit-on-error",
            f"--dbname={dsn}",
            str(source),
        ],
        env,
        "pg_restore",
    )


def check_archive(source: Path) -> str | None:
    """Why ``source`` is not a readable pg_dump archive, or None (``pg_restore --list``)."""
    tool = _tool("pg_restore")
    done = subprocess.run(
        [tool, "--list", str(source)], capture_output=True, text=True, check=False
    )
    if done.returncode != 0:
        return done.stderr.strip()[:300] or "pg_restore --list failed"
    return None
