"""PostgreSQL backups through ``pg_dump --format=custom`` and ``pg_restore --clean``.

The URL is passed to the tools in libpq form with the password in ``PGPASSWORD``, never on
the command line where ``ps`` would show it. Without the tools a :class:`BackupToolMissingError`
points at the CSV snapshot, which works on every database.

:func:`dump_facts` reads what a dump holds without restoring it: ``pg_restore --data-only``
writes every table's rows as ``COPY`` text, which is counted as it streams past.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
from dataclasses import dataclass, field
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


RESTORE_APPLICATION = "inventory_core_restore"
"""``application_name`` of ``pg_restore`` sessions (a restore spares them, see
:mod:`inventory_core.backup.server_restore`)."""


def restore(url: URL, source: Path) -> None:
    """``pg_restore --clean --if-exists`` of ``source`` into the database at ``url``.

    Runs as one transaction (``--single-transaction``), so a failed restore leaves the
    target as it was.
    """
    tool = _tool("pg_restore")
    dsn, env = _libpq(url)
    env["PGAPPNAME"] = RESTORE_APPLICATION
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


_COPY = re.compile(r'^COPY (?:"?[^".]+"?\.)?"?([^" ]+)"? \((.*)\) FROM stdin;$')


@dataclass
class DumpFacts:
    """What a dump holds, read from its data (never from its manifest)."""

    row_counts: dict[str, int] = field(default_factory=dict)
    schema_revision: str | None = None
    database_id: str | None = None
    audit_first: tuple[int, str] | None = None
    audit_last: tuple[int, str] | None = None
    values: dict[tuple[str, str], list[str | None]] = field(default_factory=dict)


def dump_facts(source: Path, collect: tuple[tuple[str, str], ...] = ()) -> DumpFacts:
    """Rows per table, schema revision, identity and audit ends of a ``pg_dump`` archive.

    Args:
        source: the archive.
        collect: ``(table, column)`` pairs whose every value is returned in ``values``.

    Raises:
        BackupError: ``pg_restore`` cannot read the archive.
    """
    tool = _tool("pg_restore")
    facts = DumpFacts()
    proc = subprocess.Popen(
        [tool, "--data-only", "--file=-", str(source)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        encoding="utf-8",
    )
    assert proc.stdout is not None
    table: str | None = None
    columns: list[str] = []
    for line in proc.stdout:
        if table is None:
            found = _COPY.match(line.rstrip("\n"))
            if found:
                table = found[1]
                columns = [c.strip().strip('"') for c in found[2].split(",")]
                facts.row_counts[table] = 0
            continue
        if line == "\\.\n":
            table = None
            continue
        facts.row_counts[table] += 1
        _note_row(facts, table, columns, line.rstrip("\n").split("\t"), collect)
    _out, err = proc.communicate()
    if proc.returncode != 0:
        raise BackupError(f"pg_restore --data-only failed: {err.strip()[:500]}")
    facts.row_counts.pop("alembic_version", None)
    return facts


def _note_row(
    facts: DumpFacts,
    table: str,
    columns: list[str],
    cells: list[str],
    collect: tuple[tuple[str, str], ...],
) -> None:
    row = {
        name: (None if cell == "\\N" else cell) for name, cell in zip(columns, cells, strict=False)
    }
    if table == "alembic_version":
        facts.schema_revision = row.get("version_num")
    elif table == "database_identity" and row.get("id") == "1":
        facts.database_id = row.get("database_id")
    elif table == "audit_log" and row.get("audit_id") and row.get("hash"):
        entry = (int(str(row["audit_id"])), str(row["hash"]))
        if facts.audit_first is None or entry[0] < facts.audit_first[0]:
            facts.audit_first = entry
        if facts.audit_last is None or entry[0] > facts.audit_last[0]:
            facts.audit_last = entry
    for wanted_table, column in collect:
        if wanted_table == table:
            facts.values.setdefault((table, column), []).append(row.get(column))
