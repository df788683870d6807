"""The ledger pass of ``audit verify`` in a second process, beside the chain walk.

``verify`` hashes every audit row (the chain) and every ledger row (the coverage): two passes
of about the same cost that do not depend on each other's work, so on a machine with two
cores they run side by side. Python threads would take turns on the GIL for the hashing, so
the ledger pass runs in a second process: a bare interpreter (``python -I``) that loads
:mod:`inventory_core.audit.seal_check` from its file alone, not the package (whose imports
cost about a second of CPU), and checks the ledger on its own read-only ``sqlite3``
connection with the statements compiled here.

Both passes must check one and the same database. Two SQLite connections cannot share a read
transaction, so the second one is proven to see what the first sees: ``PRAGMA data_version``
on a probe connection changes whenever any other connection commits (a checkpoint too). It
is read before the walk's read transaction takes its snapshot and again as soon as the
second process reports that its own transaction holds one: the same value means nothing was
committed in between, so the two snapshots are the same database state. The second process
also reports the newest ``audit_id`` it sees, which must be the walk's.

Anything that breaks that proof (a commit in between, the process failing to start, to open
the file or to finish) throws its result away, and ``verify`` runs the check in the walk's
own transaction, as it does on PostgreSQL and inside a caller's unit of work: the outcome is
exact either way, only slower.
"""

from __future__ import annotations

import json
import os
import sqlite3
import subprocess
import sys
import threading
from functools import cache
from pathlib import Path
from typing import Any
from urllib.parse import quote

from sqlalchemy import func, select
from sqlalchemy.dialects import sqlite

from inventory_core.audit import coverage, seal_check
from inventory_core.audit.seal_check import TABLES, CoverageReport
from inventory_core.models import AuditLog

MIN_AUDIT_ROWS = 20_000
"""Below this many audit rows the check takes less than starting a process costs."""

_BOOT = (
    "import importlib.util as u, sys\n"
    "spec = u.spec_from_file_location('seal_check', sys.argv[1])\n"
    "module = u.module_from_spec(spec)\n"
    "sys.modules['seal_check'] = module\n"
    "spec.loader.exec_module(module)\n"
    "module.main()\n"
)


@cache
def _job_statements() -> dict[str, Any]:
    """The SQL of the second process, compiled once for SQLite with its literals inline."""

    def sql(stmt: Any) -> str:
        return str(stmt.compile(dialect=sqlite.dialect(), compile_kwargs={"literal_binds": True}))

    return {
        "top": sql(select(func.max(AuditLog.audit_id))),
        "seals": sql(coverage.seals_statement()),
        "rows": {name: sql(coverage.rows_statement(name)) for name, _changes in TABLES},
    }


def top_statement() -> Any:
    """The newest ``audit_id``: the walk's first statement, which starts its snapshot."""
    return select(func.max(AuditLog.audit_id))


def wanted(parallel: bool | None, top: int | None) -> bool:
    """Whether to run the pass beside the walk: asked for, or left to us (``None``) with a
    second CPU and a trail long enough to pay for the process. Never in a frozen
    application, whose ``sys.executable`` is the application itself, not Python."""
    if getattr(sys, "frozen", False):
        return False
    if parallel is not None:
        return parallel
    return (os.cpu_count() or 1) > 1 and (top or 0) >= MIN_AUDIT_ROWS


class LedgerPass:
    """The coverage check of one SQLite file, run in a second process.

    Create it before the walk's read transaction reads anything (it takes the probe's
    first ``data_version``), :meth:`start` it once the walk's first statement has run,
    then take :meth:`result` after the walk; :meth:`close` stops the process whatever
    happened.
    """

    def __init__(self, path: Path) -> None:
        self.uri = f"file:{quote(str(path))}?mode=ro"
        self._probe = sqlite3.connect(
            self.uri, uri=True, isolation_level=None, check_same_thread=False
        )
        self._before = self._version()
        self._process: subprocess.Popen[str] | None = None
        self._listener: threading.Thread | None = None
        self._same = False
        self._outcome: dict[str, Any] | None = None

    def _version(self) -> int:
        return int(self._probe.execute("PRAGMA data_version").fetchone()[0])

    def start(self, top: int | None) -> None:
        """Start the second process; ``top`` is the newest ``audit_id`` the walk sees."""
        job = {"uri": self.uri, **_job_statements()}
        self._process = subprocess.Popen(
            [sys.executable, "-I", "-c", _BOOT, seal_check.__file__],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.DEVNULL,
            text=True,
        )
        assert self._process.stdin is not None
        self._process.stdin.write(json.dumps(job) + "\n")
        self._process.stdin.close()
        self._listener = threading.Thread(target=self._listen, args=(top,), daemon=True)
        self._listener.start()

    def _listen(self, top: int | None) -> None:
        process = self._process
        assert process is not None and process.stdout is not None
        try:
            first = process.stdout.readline()
            # Read at once: a commit after both snapshots are taken is harmless, one
            # between them is not, and the sooner this runs the fewer false alarms.
            self._same = self._version() == self._before and json.loads(first) == {"snapshot": top}
            if not self._same:
                process.kill()
                return
            last = process.stdout.readline()
            self._outcome = json.loads(last) if last else None
        except (ValueError, OSError, sqlite3.Error):
            self._same = False
            process.kill()

    def result(self) -> CoverageReport | None:
        """The second process's report, or None when it cannot stand for the walk's snapshot
        (the caller then runs the check in the walk's own transaction)."""
        if self._process is None or self._listener is None:
            return None
        self._listener.join()
        code = self._process.wait()
        outcome = self._outcome
        if not self._same or code != 0 or outcome is None:
            return None
        report = CoverageReport(
            ok=bool(outcome["ok"]),
            rows_checked=int(outcome["rows_checked"]),
            findings=int(outcome["findings"]),
            sample=[str(finding) for finding in outcome["sample"]],
        )
        return report

    def close(self) -> None:
        """Stop the process if it still runs and close the probe."""
        if self._process is not None and self._process.poll() is None:
            self._process.kill()
            self._process.wait()
        if self._listener is not None:
            self._listener.join()
        self._probe.close()
