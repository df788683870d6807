"""Time the critical queries of a live database against their targets, and show their plans.

The queries timed are the library's own: each probe calls the ledger (or audit) function
the :class:`~inventory_core.Inventory` facade calls, inside one read unit of work, so
what is measured is the statement users run. The SQL shown by ``--explain`` is captured
from the driver while the probe runs (a ``before_cursor_execute`` listener on that unit's
connection, with the unit's ``traced`` flag set so its prepared statements pass through
SQLAlchemy too), so the plan always belongs to the exact statement and parameters the library
sends, and no second copy of any query lives here.

A per-SKU read that has to scan a whole ledger table (``transactions``, ``lots``,
``sales``, ``audit_log``) gets slower with every day of history; :func:`full_scans` finds
such steps in SQLite's ``EXPLAIN QUERY PLAN`` so tests can refuse them.
"""

from __future__ import annotations

import re
import statistics
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass
from datetime import date, timedelta
from typing import Any

from sqlalchemy import event, func, select

from inventory_core.audit.queries import tail_query
from inventory_core.db.database import Database
from inventory_core.db.uow import UnitOfWork
from inventory_core.ledger import lots, master
from inventory_core.ledger import stock as stock_sql
from inventory_core.ledger import stock_one as stock_one_sql
from inventory_core.models import Sku, Transaction

LEDGER_TABLES = ("transactions", "lots", "sales", "audit_log")
"""Tables that grow with history: a per-SKU query must never scan them in full."""

PER_SKU_TARGET_MS = 1.0
"""The legacy system's target for any read of one SKU."""

LIST_TARGET_MS = 50.0
"""The legacy system's target for a page of 100 SKUs."""

STOCK_ALL_US_PER_EVENT = 1.0
"""stock_all's budget per ledger event: 10M events in 10 s (issue 8), at least 50 ms."""

WARN_FACTOR = 5.0
"""A timing up to this many times its target is WARN; beyond it, FAIL."""

_ALIAS = re.compile(r"\b(\w+) AS (\w+)\b", re.IGNORECASE)
_SCAN = re.compile(r"^SCAN (\w+)(.*)$")

Probe = Callable[[UnitOfWork], object]


@dataclass(frozen=True, slots=True)
class QueryProfile:
    """One critical query: its timing against its target, and (optionally) its plan."""

    name: str
    target_ms: float
    median_ms: float
    p95_ms: float
    status: str
    per_sku: bool
    statements: tuple[str, ...] = ()
    plan: tuple[str, ...] = ()
    full_scans: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class ProfileReport:
    """The profile of one database."""

    database: str
    dialect: str
    sku: str | None
    skus: int
    events: int
    repeat: int
    queries: tuple[QueryProfile, ...]

    @property
    def status(self) -> str:
        """The worst status of any query (FAIL > WARN > PASS)."""
        found = {q.status for q in self.queries}
        return next((s for s in ("FAIL", "WARN") if s in found), "PASS")

    def to_dict(self) -> dict[str, Any]:
        """A JSON-friendly view."""
        body = asdict(self)
        body["status"] = self.status
        return body


def status_of(median_ms: float, target_ms: float) -> str:
    """PASS within the target, WARN within :data:`WARN_FACTOR` times it, FAIL beyond."""
    if median_ms <= target_ms:
        return "PASS"
    return "WARN" if median_ms <= target_ms * WARN_FACTOR else "FAIL"


def stock_all_target_ms(events: int) -> float:
    """stock_all's target for a ledger of ``events`` rows."""
    return max(50.0, events * STOCK_ALL_US_PER_EVENT / 1000)


def list_skus(uow: UnitOfWork, limit: int = 100) -> list[str]:
    """The first ``limit`` SKU codes in code order (a page of the SKU list)."""
    s = Sku.__table__
    return list(uow.scalars(select(s.c.sku).order_by(s.c.sku).limit(limit)))


def probes(sku: str, asof: date) -> dict[str, tuple[Probe, bool]]:
    """The critical queries as calls into the library: name -> (probe, is it per SKU)."""
    return {
        "get_sku": (lambda uow: master.find_sku(uow, sku), True),
        "list_100_skus": (lambda uow: list_skus(uow, 100), False),
        "history_50": (lambda uow: master.history(uow, sku, None, None, 50), True),
        "fefo_lots": (lambda uow: lots.list_lots(uow, sku), True),
        "stock_sku": (lambda uow: stock_one_sql.stock_one(uow, sku, asof), True),
        "stock_all": (lambda uow: stock_sql.stock_all(uow, asof), False),
        "audit_tail_20": (lambda uow: uow.fetch(tail_query(20)), True),
    }


def capture(uow: UnitOfWork, probe: Probe) -> list[tuple[str, Any]]:
    """Run ``probe`` once and return every (SQL, parameters) it sent to the driver."""
    seen: list[tuple[str, Any]] = []

    def listener(_conn: Any, _cur: Any, statement: str, params: Any, *_rest: Any) -> None:
        seen.append((statement, params))

    event.listen(uow.connection, "before_cursor_execute", listener)
    uow.traced = True  # prepared statements too go through SQLAlchemy, where it sees them
    try:
        probe(uow)
    finally:
        uow.traced = False
        event.remove(uow.connection, "before_cursor_execute", listener)
    return seen


def explain(uow: UnitOfWork, statement: str, params: Any) -> list[str]:
    """The query plan of one captured statement, one line per step.

    SQLite gives ``EXPLAIN QUERY PLAN`` rows (indented by depth); PostgreSQL its
    ``EXPLAIN`` text.
    """
    raw = uow.connection.exec_driver_sql
    if uow.dialect == "sqlite":
        rows = raw(f"EXPLAIN QUERY PLAN {statement}", params).all()
        depth: dict[int, int] = {0: -1}
        lines = []
        for node, parent, _, detail in rows:
            depth[node] = depth.get(parent, -1) + 1
            lines.append("  " * depth[node] + str(detail))
        return lines
    return [str(r[0]) for r in raw(f"EXPLAIN {statement}", params).all()]


def full_scans(statement: str, plan: list[str]) -> list[str]:
    """The plan steps that read a whole ledger table (``SCAN t`` with no index).

    SQLite names aliases in its plan (``SCAN ev``), so aliases are resolved through the
    ``<table> AS <alias>`` clauses of the statement first.
    """
    aliases = {alias.lower(): table.lower() for table, alias in _ALIAS.findall(statement)}
    found = []
    for line in plan:
        match = _SCAN.match(line.strip())
        if match is None or "INDEX" in match.group(2).upper():
            continue
        name = match.group(1).lower()
        if aliases.get(name, name) in LEDGER_TABLES:
            found.append(line.strip())
    return found


def _time(uow: UnitOfWork, probe: Probe, repeat: int) -> list[float]:
    probe(uow)
    samples = []
    for _ in range(repeat):
        started = time.perf_counter()
        probe(uow)
        samples.append((time.perf_counter() - started) * 1000)
    return samples


def _pick_sku(uow: UnitOfWork) -> str | None:
    """The SKU of the newest event (a busy one), found through the primary key."""
    t = Transaction.__table__
    found = uow.fetch_one(select(t.c.sku).order_by(t.c.transaction_id.desc()).limit(1))
    if found is not None:
        return str(found[0])
    first = list_skus(uow, 1)
    return first[0] if first else None


def _events(uow: UnitOfWork) -> int:
    """The ledger's size: the newest transaction id (a count(*) would scan the table)."""
    t = Transaction.__table__
    return int(uow.scalar(select(func.coalesce(func.max(t.c.transaction_id), 0))))


def profile(
    db: Database,
    *,
    sku: str | None = None,
    asof: date | None = None,
    repeat: int = 20,
    with_plans: bool = False,
) -> ProfileReport:
    """Time each critical query ``repeat`` times (after one warm-up) against its target.

    Args:
        db: the database to profile (any size, SQLite or PostgreSQL).
        sku: the SKU the per-SKU queries read; by default the SKU of the newest event.
        asof: the as-of date of the stock queries; by default tomorrow.
        repeat: timed runs per query; the median and the 95th percentile are reported.
        with_plans: also capture each query's SQL and its plan.
    """
    when = asof or date.today() + timedelta(days=1)
    with db.read() as uow:
        chosen = sku or _pick_sku(uow)
        events = _events(uow)
        skus = int(uow.scalar(select(func.count()).select_from(Sku.__table__)))
        results = []
        for name, (probe, per_sku) in probes(chosen or "", when).items():
            target = stock_all_target_ms(events) if name == "stock_all" else PER_SKU_TARGET_MS
            target = LIST_TARGET_MS if name == "list_100_skus" else target
            samples = _time(uow, probe, repeat)
            median = statistics.median(samples)
            p95 = sorted(samples)[max(0, round(0.95 * len(samples)) - 1)]
            statements: list[str] = []
            plan: list[str] = []
            scans: list[str] = []
            if with_plans:
                for statement, params in capture(uow, probe):
                    statements.append(statement)
                    steps = explain(uow, statement, params)
                    plan.extend(steps)
                    if uow.dialect == "sqlite":
                        scans.extend(full_scans(statement, steps))
            results.append(
                QueryProfile(
                    name=name,
                    target_ms=target,
                    median_ms=median,
                    p95_ms=p95,
                    status=status_of(median, target),
                    per_sku=per_sku,
                    statements=tuple(statements),
                    plan=tuple(plan),
                    full_scans=tuple(scans),
                )
            )
    return ProfileReport(
        database=db.display_url,
        dialect=db.dialect,
        sku=chosen,
        skus=skus,
        events=events,
        repeat=repeat,
        queries=tuple(results),
    )


__all__ = [
    "LEDGER_TABLES",
    "ProfileReport",
    "QueryProfile",
    "capture",
    "explain",
    "full_scans",
    "list_skus",
    "probes",
    "profile",
    "status_of",
    "stock_all_target_ms",
]
