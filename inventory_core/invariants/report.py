"""``check_all`` and the :class:`HealthReport` it returns."""

from __future__ import annotations

import contextvars
import enum
import json
import os
import time
from collections.abc import Iterable
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from inventory_core.errors import ValidationError
from inventory_core.errors.i18n import gettext as _
from inventory_core.invariants.audit_chain import DATABASE_KEY
from inventory_core.invariants.base import Invariant, InvariantResult, Severity, elapsed_since
from inventory_core.invariants.registry import INVARIANTS, NAMES
from inventory_core.invariants.sqlite_checks import FULL_KEY
from inventory_core.obs.logs import get_logger

if TYPE_CHECKING:
    from inventory_core.db.database import Database
    from inventory_core.db.uow import UnitOfWork

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
            _("unknown invariant {value}; choose from {value2}").format(
                value=", ".join(unknown), value2=", ".join(NAMES)
            ),
            field="only",
        )
    return tuple(inv for inv in INVARIANTS if inv.name in wanted)


# The longest checks at 1M events (seconds, each alone): SQLite's integrity_check of the
# whole file (~5), the audit-chain walk in Python (~2.2), the running-stock window (~1.7).
# Started first, they overlap each other and the short queries fill the gaps around them;
# in registry order the audit walk, last in the tuple, would run alone at the end. Any
# other check, including one added later, starts after them in registry order.
LONG_CHECKS_FIRST = ("sqlite_integrity", "audit_chain", "stock_never_negative")


def default_workers(db: Database) -> int:
    """How many checks ``check_all`` runs at once on ``db``: one per CPU it may use.

    The long checks spend their time inside SQLite, which releases the GIL while it steps,
    or hashing in Python, so they overlap on separate CPUs. More workers than CPUs only
    make the checks compete: on 2 CPUs at 1M events, 3 workers were no faster than 2 and 4
    were about 20% slower. An in-memory SQLite database runs one check at a time, since
    each pooled connection to it would be a different, empty database.
    """
    if db.dialect == "sqlite" and db.path is None:
        return 1
    affinity = getattr(os, "sched_getaffinity", None)
    cpus = len(affinity(0)) if affinity is not None else os.cpu_count()
    return max(1, cpus or 1)


def start_order(invariants: tuple[Invariant, ...]) -> list[int]:
    """Positions of ``invariants`` in the order to start them: long checks first."""
    rank = {name: index for index, name in enumerate(LONG_CHECKS_FIRST)}
    return sorted(range(len(invariants)), key=lambda i: rank.get(invariants[i].name, len(rank)))


def run_checks(
    db: Database, invariants: Iterable[Invariant], *, full: bool, workers: int = 1
) -> tuple[InvariantResult, ...]:
    """Run each invariant in its own read unit of work; results in the given order.

    A separate transaction per check keeps one failing query (say, a damaged page) from
    aborting the others: PostgreSQL refuses every statement of a transaction after an error.

    With ``workers`` > 1 the checks run on that many threads, each on its own pooled
    connection, long checks first (:data:`LONG_CHECKS_FIRST`). Each check still reads its
    own snapshot, as it does when they run one after the other: on a database that is
    being written meanwhile, a write committed during the check can be seen by some checks
    and not by others, in either mode. On a database no one writes to meanwhile, the
    results do not depend on the mode; only each ``elapsed_ms`` does (it is measured while
    other checks share the CPUs).

    Raises:
        Whatever a check raises that is not an ``InventoryError`` (a bug): the first one
        in the given order, after the checks already running have finished; checks not
        yet started are cancelled.
    """
    chosen = tuple(invariants)

    def run_one(invariant: Invariant) -> InvariantResult:
        with db.read() as uow:
            uow.info[FULL_KEY] = full
            uow.info[DATABASE_KEY] = db
            return invariant.check(uow)

    if workers <= 1 or len(chosen) <= 1:
        return tuple(run_one(invariant) for invariant in chosen)
    futures: dict[int, Future[InvariantResult]] = {}
    with ThreadPoolExecutor(
        max_workers=min(workers, len(chosen)), thread_name_prefix="inventory-check"
    ) as pool:
        try:
            for index in start_order(chosen):
                # Each check runs in a copy of the caller's context (run id, user), so its
                # log events carry them as they would on the calling thread.
                context = contextvars.copy_context()
                futures[index] = pool.submit(context.run, run_one, chosen[index])
            return tuple(futures[index].result() for index in range(len(chosen)))
        except BaseException:
            pool.shutdown(wait=True, cancel_futures=True)
            raise


def check_unit(
    uow: UnitOfWork, invariants: Iterable[Invariant] = INVARIANTS, *, full: bool = True
) -> tuple[InvariantResult, ...]:
    """Run the checks inside ``uow``, on the rows it holds, committed or not.

    A CSV import calls this on its own write unit of work just before COMMIT: the checks
    (every registered invariant, the audit chain walk among them; full mode by default, as
    ``check --full``) see the imported rows, and a finding lets the caller roll them all
    back. Each check runs inside a SAVEPOINT that is always rolled back: a query that fails
    (reported as a failed result) cannot abort the transaction for the checks after it, as
    PostgreSQL would, and no check can leave a change behind.
    """
    uow.info[FULL_KEY] = full
    results = []
    for invariant in invariants:
        savepoint = uow.connection.begin_nested()
        try:
            results.append(invariant.check(uow))
        finally:
            savepoint.rollback()
    return tuple(results)


def check_all(
    db: Database,
    full: bool = False,
    only: Iterable[str] | None = None,
    *,
    workers: int | None = None,
) -> HealthReport:
    """Check the database against every registered invariant (or those in ``only``).

    The checks run concurrently (see :func:`run_checks`): the whole check takes about as
    long as its longest part instead of the sum of all, and the report is the same, in
    registry order. Each check reads its own snapshot; for one point in time across all
    of them, check a backup, or a database no one writes to meanwhile.

    Args:
        db: the open database.
        full: run SQLite's ``integrity_check`` instead of ``quick_check``.
        only: names of the invariants to run.
        workers: checks run at once; ``1`` runs them one after the other, None picks
            :func:`default_workers`.

    Raises:
        ValidationError: ``only`` names an invariant that does not exist.
    """
    started = time.perf_counter()
    checked_at = datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")
    count = default_workers(db) if workers is None else workers
    results = run_checks(db, select_invariants(only), full=full, workers=count)
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


__all__ = [
    "LONG_CHECKS_FIRST",
    "HealthReport",
    "HealthStatus",
    "check_all",
    "check_unit",
    "default_workers",
    "run_checks",
    "select_invariants",
    "start_order",
    "status_of",
]
