"""The checks ``Database.open`` runs before handing the database to the caller.

``quick`` (the default) runs only the catalogue checks marked ``cheap``: the schema
revision and every table, index and trigger. They read ``sqlite_master`` (or
``pg_catalog``) and ``alembic_version`` and never a data table, so opening stays in the
milliseconds whatever the size of the ledger. The file header and page count were already
checked by :mod:`inventory_core.db.preflight`. ``full`` runs every invariant.
"""

from __future__ import annotations

from pathlib import Path

from inventory_core.config import Settings
from inventory_core.db.database import Database
from inventory_core.errors import HealthCheckError, NotMigratedError
from inventory_core.errors.i18n import gettext as _
from inventory_core.invariants.base import InvariantResult
from inventory_core.invariants.registry import INVARIANTS
from inventory_core.invariants.report import HealthStatus, check_all, run_checks
from inventory_core.obs.logs import get_logger

log = get_logger("inventory_core.invariants")


def describe(failures: tuple[InvariantResult, ...]) -> str:
    """One line naming each failed invariant, its count and its first offending row."""
    parts = []
    for result in failures:
        first = result.sample[0] if result.sample else {}
        shown = result.detail or ", ".join(f"{k}={v}" for k, v in first.items())
        parts.append(f"{result.name} ({result.count}: {shown})")
    return "; ".join(parts)


def startup_check(db: Database, *, full: bool = False) -> None:
    """Refuse a database that is not fit to use.

    Args:
        db: the database being opened.
        full: run every invariant instead of the cheap catalogue checks.

    Raises:
        NotMigratedError: a table of the schema is missing.
        HealthCheckError: another check failed (a missing trigger or index, a wrong
            revision; with ``full``, any CRITICAL invariant).
    """
    if full:
        report = check_all(db, full=True)
        if report.status is HealthStatus.DEGRADED:
            log.warning("database_degraded", failures=[r.name for r in report.failures])
        failures = tuple(r for r in report.failures if r.severity == "CRITICAL")
    else:
        cheap = tuple(invariant for invariant in INVARIANTS if invariant.cheap)
        failures = tuple(r for r in run_checks(db, cheap, full=False) if not r.ok)
    missing_tables = [
        str(row["object"])
        for result in failures
        if result.name == "schema_objects"
        for row in result.sample
        if row.get("kind") == "table" and row.get("found") is None
    ]
    if missing_tables:
        raise NotMigratedError(_("missing tables: {value}").format(value=", ".join(missing_tables)))
    if failures:
        raise HealthCheckError(describe(failures), failing=[r.name for r in failures])


def check_opens(path: Path, settings: Settings | None = None) -> None:
    """Open the SQLite file ``path`` as it is and run the quick start-up checks.

    What a restore asks of the file it has just put in place: what ``Database.open`` would
    refuse, without the recovery, backup or migration that surround an application's open.

    Raises:
        InventoryError: whichever refusal of :meth:`Database.open_handle` or
            :func:`startup_check` the file meets.
    """
    with Database.open_handle(path, settings=settings) as db:
        startup_check(db)


__all__ = ["check_opens", "startup_check"]
