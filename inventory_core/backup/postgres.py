"""PostgreSQL backups through ``pg_dump --format=custom`` and ``pg_restore --clean``.

Credentials never reach the tools' command line, where ``ps`` and ``/proc/<pid>/cmdline``
show them to every user of the machine. :func:`invocation` splits the URL: the host, port,
user, database and the other non-secret parameters go on the command line as a libpq URL
without password; the password (from ``user:pw@`` or ``?password=``) goes in ``PGPASSWORD``,
``passfile`` and ``sslkey`` in ``PGPASSFILE`` / ``PGSSLKEY``, and any other secret-looking
parameter (``sslpassword``...), which has no variable, in a private service file (mode 0600,
in a private folder, deleted afterwards) named by ``PGSERVICEFILE``. A dump is written to a
file descriptor the library created, never to a path the tool opens itself. Without the
tools a :class:`BackupToolMissingError` points at the CSV snapshot, which works on every
database.

:func:`dump_facts` reads what a dump holds without restoring it: ``pg_restore --data-only``
writes every table's rows as ``COPY`` text, which is counted as it streams past.
"""

from __future__ import annotations

import contextlib
import os
import re
import shutil
import subprocess
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

from sqlalchemy.engine import URL

from inventory_core.backup.private import PrivateFile
from inventory_core.errors import BackupError, BackupToolMissingError
from inventory_core.errors.i18n import gettext as _
from inventory_core.obs.redaction import is_secret_name, scrub, url_secrets

SERVICE = "inventory_core"
ENV_OF = {"password": "PGPASSWORD", "passfile": "PGPASSFILE", "sslkey": "PGSSLKEY"}
"""Secret parameters libpq also reads from an environment variable."""


@dataclass(frozen=True)
class Invocation:
    """How to reach a server without a secret on the command line.

    ``args`` go on the command line; ``env`` is added to the tool's environment;
    ``service`` holds the secret parameters that have no environment variable.
    """

    args: tuple[str, ...]
    env: dict[str, str]
    service: dict[str, str] = field(default_factory=dict)


def _tool(name: str) -> str:
    found = shutil.which(name)
    if found is None:
        raise BackupToolMissingError(tool=name)
    return found


def invocation(url: URL) -> Invocation:
    """Split ``url`` into the tools' command-line arguments and their secret channels.

    Raises:
        BackupError: a secret parameter without environment variable in a URL that also
            names a ``service`` (libpq reads one service only).
    """
    secrets: dict[str, str] = {}
    plain: dict[str, str] = {}
    for name, value in url.query.items():
        text = value if isinstance(value, str) else ",".join(value)
        (secrets if is_secret_name(name) else plain)[name] = text
    if url.password and "password" not in secrets:
        secrets["password"] = str(url.password)
    env = {ENV_OF[name]: value for name, value in secrets.items() if name in ENV_OF}
    service = {name: value for name, value in secrets.items() if name not in ENV_OF}
    if service and "service" in plain:
        raise BackupError(
            _(
                "{value} cannot be passed to the PostgreSQL tools together with service=; put it "
                "in that service's entry of pg_service.conf instead"
            ).format(value=", ".join(sorted(service)))
        )
    if any("\n" in v or "\r" in v for v in service.values()):
        raise BackupError(_("a connection parameter holds a line break"))
    libpq = URL.create(
        "postgresql",
        username=url.username,
        host=url.host,
        port=url.port,
        database=url.database,
        query=plain,
    ).render_as_string(hide_password=False)
    return Invocation(args=(f"--dbname={libpq}",), env=env, service=service)


@contextlib.contextmanager
def _environment(call: Invocation) -> Iterator[dict[str, str]]:
    """The tool's environment, with a private service file for as long as it runs."""
    env = {**os.environ, **call.env}
    if not call.service:
        yield env
        return
    with tempfile.TemporaryDirectory(prefix="inventory_core-pg-") as folder:  # mode 0700
        lines = [f"[{SERVICE}]", *(f"{k}={v}" for k, v in sorted(call.service.items()))]
        with PrivateFile(Path(folder) / "pg_service.conf") as conf:
            with conf.open("w") as handle:
                handle.write("\n".join(lines) + "\n")
            yield {**env, "PGSERVICEFILE": str(conf.path), "PGSERVICE": SERVICE}


def _run(args: list[str], call: Invocation, what: str, url: URL, stdout: int | None = None) -> None:
    with _environment(call) as env:
        done = subprocess.run(
            args,
            env=env,
            stdout=subprocess.PIPE if stdout is None else stdout,
            stderr=subprocess.PIPE,
            check=False,
        )
    if done.returncode != 0:
        message = done.stderr.decode("utf-8", "replace").strip()[:500]
        raise BackupError(
            _("{what} failed: {value}").format(what=what, value=scrub(message, url_secrets(url)))
        )


def _only(schema: str | None) -> list[str]:
    """``--schema=NAME`` for a store in a schema of its own: the tools touch nothing else.

    The name passed :func:`inventory_core.config.check_store_schema`, so it holds no pattern
    character (``*``, ``?``, ``"``) for the tools to expand.
    """
    return [] if schema is None else [f"--schema={schema}"]


def dump(url: URL, target: PrivateFile, schema: str | None = None) -> None:
    """``pg_dump --format=custom`` of the database at ``url`` (or only of the store in
    ``schema``) into ``target``.

    The archive goes to ``target``'s descriptor (pg_dump's standard output), so the tool
    never opens a path where someone could have planted a link.
    """
    tool = _tool("pg_dump")
    call = invocation(url)
    args = [tool, "--format=custom", "--no-owner", *_only(schema), *call.args]
    _run(args, call, "pg_dump", url, target.fd)


RESTORE_APPLICATION = "inventory_core_restore"
"""``application_name`` of ``pg_restore`` sessions (a restore spares them, see
:mod:`inventory_core.backup.server_restore`)."""


def restore(url: URL, source: Path, schema: str | None = None) -> None:
    """``pg_restore --clean --if-exists`` of ``source`` into the database at ``url`` (with
    ``schema``: only what the dump holds of that store's schema).

    Runs as one transaction (``--single-transaction``), so a failed restore leaves the
    target as it was.
    """
    tool = _tool("pg_restore")
    call = invocation(url)
    call.env["PGAPPNAME"] = RESTORE_APPLICATION
    args = [tool, "--clean", "--if-exists", "--no-owner", "--single-transaction", *_only(schema)]
    _run([*args, "--exit-on-error", *call.args, str(source)], call, "pg_restore", url)


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
        raise BackupError(
            _("pg_restore --data-only failed: {value}").format(value=err.strip()[:500])
        )
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
