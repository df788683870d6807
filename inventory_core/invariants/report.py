"""``check_all`` and the :class:`HealthReport` it returns."""

from __future__ import annotations

import enum
import json
import time
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from inventory_core.audit.logs import get_logger
from inventory_core.errors import ValidationError
from inventory_core.invariants.audit_chain import DATABASE_KEY
from inventory_core.invariants.base import Invariant, InvariantResult, Severity, elapsed_since
from inventory_core.invariants.registry import INVARIANTS, NAMES
from inventory_core.invariants.sqlite_checks import FULL_KEY

if TYPE_CHECKING:
    from inventory_core.db.database import Database

log = get_logger("inventory_core.invariants")


class HealthStatus(enum.StrEnum):
    """The verdict of a health check, and the ``check`` command's exit code."""

    HEALTHY = "HEALTHY"
    DEGRADED = "DEGRADED"
    UNHEALTHY = "UNHEALTHY"

    @property
    def exit_code(self) -> int:
        """0 healthy, 1 degraded, 2 unhealthy."""
        return {"HEALTHY": 0, "DEGRADED": 1, "UNHEALTHY": 2}[self.value]


def status_of(results: Iterable[InvariantResult]) -> HealthStatus:
    """UNHEALTHY if a CRITICAL invariant failed, DEGRADED if a WARNING one did."""
    failed = {r.severity for r in results if not r.ok}
    if Severity.CRITICAL in failed:
        return HealthStatus.UNHEALTHY
    if Severity.WARNING in failed:
        return HealthStatus.DEGRADED
    return HealthStatus.HEALTHY


@dataclass(frozen=True)
class HealthReport:
    """Every invariant's result and the overall status."""

    status: HealthStatus
    results: tuple[InvariantResult, ...]
    full: bool
    dialect: str
    database: str
    checked_at: str
    elapsed_ms: float

    @property
    def failures(self) -> tuple[InvariantResult, ...]:
        """The results that did not hold."""
        return tuple(r for r in self.results if not r.ok)

    def result(self, name: str) -> InvariantResult:
        """The result of the invariant called ``name``."""
        return next(r for r in self.results if r.name == name)

    def to_dict(self) -> dict[str, Any]:
        """A JSON-friendly view of the report."""
        return {
            "status": self.status.value,
            "full": self.full,
            "dialect": self.dialect,
            "database": self.database,
            "checked_at": self.checked_at,
            "elapsed_ms": self.elapsed_ms,
            "failures": [r.name for r in self.failures],
            "results": [r.to_dict() for r in self.results],
        }

    def to_json(self, *, indent: int | None = 2) -> str:
        """The report as JSON text."""
        return json.dumps(self.to_dict(), indent=indent, ensure_ascii=False)


def select_invariants(only: Iterable[str] | None) -> tuple[Invariant, ...]:
    """The registered invariants named in ``only`` (all of them when None).

    Raises:
        ValidationError: a name is not a registered invariant.
    """
    if only is None:
        return INVARIANTS
    wanted = list(only)
    unknown = sorted(set(wanted) - set(NAMES))
    if unknown:
        raise ValidationError(
            f"unknown invariant {', '.join(unknown)}; choose from {', '.join(NAMES)}",
            field="only",
        )
    return tuple(inv for inv in INVARIANTS if inv.name in wanted)


def run_checks(
    db: Database, invariants: Iterable[Invariant], *, full: bool
) -> tuple[InvariantResult, ...]:
    """Run each invariant in its own read unit of work.

    A separate transaction per check keeps one failing query (say, a damaged page) from
    aborting the others: PostgreSQL refuses every statement of a transaction after an error.
    """
    results: list[InvariantResult] = []
    for invariant in invariants:
        with db.read() as uow:
            uow.info[FULL_KEY] = full
            uow.info[DATABASE_KEY] = db
            results.append(invariant.check(uow))
    return tuple(results)


def check_all(db: Database, full: bool = False, only: Iterable[str] | None = None) -> HealthReport:
    """Check the database against every registered invariant (or those in ``only``).

    Args:
        db: the open database.
        full: run SQLite's ``integrity_check`` instead of ``quick_check``.
        only: names of the invariants to run.

    Raises:
        ValidationError: ``only`` names an invariant that does not exist.
    """
    started = time.perf_counter()
    checked_at = datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")
    results = run_checks(db, select_invariants(only), full=full)
    report = HealthReport(
        status=status_of(results),
        results=results,
        full=full,
        dialect=db.dialect,
        database=db.display_url,
        checked_at=checked_at,
        elapsed_ms=elapsed_since(started),
    )
    log.info(
        "health_checked",
        status=report.status.value,
        failures=[r.name for r in report.failures],
        elapsed_ms=report.elapsed_ms,
    )
    return report


__all__ = ["HealthReport", "HealthStatus", "check_all", "select_invariants", "status_of"]
