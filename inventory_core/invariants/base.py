"""What an invariant is: a named rule, its severity, and how running it is reported.

Most invariants are :class:`QueryInvariant` subclasses: their :meth:`~QueryInvariant.query`
returns a ``Select`` of the rows that break the rule, so the SQL reads like the rule and runs
unchanged on SQLite and PostgreSQL. Checks that are not a query (SQLite PRAGMAs, the schema
revision, the audit chain) implement the same ``check(uow)`` protocol.
"""

from __future__ import annotations

import enum
import time
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from typing import Any, ClassVar, Protocol, runtime_checkable

from sqlalchemy import Executable, Row, Select, func, select

from inventory_core.db.uow import UnitOfWork
from inventory_core.errors import InventoryError, translate_db_errors

SAMPLE_SIZE = 10

AnySelect = Select[*tuple[Any, ...]]
AnyRow = Row[*tuple[Any, ...]]


class Severity(enum.StrEnum):
    """How bad a failure is: CRITICAL makes the database UNHEALTHY, WARNING DEGRADED."""

    CRITICAL = "CRITICAL"
    WARNING = "WARNING"


@dataclass(frozen=True)
class InvariantResult:
    """The outcome of one invariant: how many rows break it and a few of them.

    ``skipped`` results (a SQLite-only check on PostgreSQL) are ``ok`` and say why in
    ``detail``; ``sql`` is the statement that ran, for ``check -v``.
    """

    name: str
    ok: bool
    severity: Severity
    count: int
    sample: tuple[dict[str, Any], ...]
    elapsed_ms: float
    recovery_steps: tuple[str, ...]
    description: str = ""
    skipped: bool = False
    detail: str | None = None
    sql: str | None = None

    def to_dict(self) -> dict[str, Any]:
        """A JSON-friendly view of the result."""
        return {
            "name": self.name,
            "ok": self.ok,
            "skipped": self.skipped,
            "severity": self.severity.value,
            "count": self.count,
            "sample": [dict(row) for row in self.sample],
            "elapsed_ms": self.elapsed_ms,
            "description": self.description,
            "recovery_steps": list(self.recovery_steps),
            "detail": self.detail,
            "sql": self.sql,
        }


@runtime_checkable
class Invariant(Protocol):
    """The protocol every registered check follows."""

    @property
    def name(self) -> str:
        """A stable identifier (``stock_never_negative``), used by ``check --only``."""

    @property
    def description(self) -> str:
        """The rule, in one sentence."""

    @property
    def severity(self) -> Severity:
        """CRITICAL or WARNING."""

    @property
    def recovery_steps(self) -> tuple[str, ...]:
        """What to do when the rule is broken."""

    @property
    def cheap(self) -> bool:
        """True when the check reads only the catalogue (start-up safe)."""

    def check(self, uow: UnitOfWork) -> InvariantResult:
        """Run the check in ``uow`` (a read unit of work) and report it."""


def fetch(uow: UnitOfWork, statement: Executable) -> list[AnyRow]:
    """Run ``statement`` and fetch every row, translating driver errors raised while fetching.

    SQLite reports a damaged page when the cursor reaches it, which is during the fetch,
    after ``execute`` returned; both steps must turn driver errors into ``InventoryError``.
    """
    with translate_db_errors():
        return list(uow.fetch(statement))


def jsonable(value: Any) -> Any:
    """Turn a column value into something ``json.dumps`` accepts, the same on both dialects."""
    if isinstance(value, date | datetime):
        return value.isoformat()
    if isinstance(value, Decimal):
        return int(value) if value == value.to_integral_value() else float(value)
    if isinstance(value, bytes):
        return value.hex()
    return value


def row_dict(mapping: Any) -> dict[str, Any]:
    """A result row as a plain dict of JSON-friendly values."""
    return {str(key): jsonable(value) for key, value in dict(mapping).items()}


def elapsed_since(started: float) -> float:
    """Milliseconds since ``started`` (a ``time.perf_counter`` value), rounded to 0.001."""
    return round((time.perf_counter() - started) * 1000, 3)


@dataclass(frozen=True)
class BaseInvariant:
    """Fields shared by every invariant; subclasses set them as class-level defaults."""

    name: ClassVar[str]
    description: ClassVar[str]
    severity: ClassVar[Severity] = Severity.CRITICAL
    recovery_steps: ClassVar[tuple[str, ...]] = ()
    cheap: ClassVar[bool] = False

    def result(
        self,
        *,
        ok: bool,
        count: int = 0,
        sample: tuple[dict[str, Any], ...] = (),
        started: float,
        skipped: bool = False,
        detail: str | None = None,
        sql: str | None = None,
    ) -> InvariantResult:
        """Build this invariant's result with its name, severity and recovery steps."""
        return InvariantResult(
            name=self.name,
            ok=ok,
            severity=self.severity,
            count=count,
            sample=sample,
            elapsed_ms=elapsed_since(started),
            recovery_steps=self.recovery_steps,
            description=self.description,
            skipped=skipped,
            detail=detail,
            sql=sql,
        )

    def failed(self, exc: InventoryError, started: float) -> InvariantResult:
        """The result of a check that could not run: the database refused the query."""
        return self.result(ok=False, count=1, started=started, detail=str(exc))


@dataclass(frozen=True)
class QueryInvariant(BaseInvariant):
    """An invariant whose violating rows are what :meth:`query` selects."""

    def query(self) -> AnySelect:
        """The rows that break the rule (an empty result means the rule holds)."""
        raise NotImplementedError

    def sql(self, dialect: Any) -> str:
        """The query as SQL text of ``dialect``, with literal values, for ``check -v``."""
        return str(self.query().compile(dialect=dialect, compile_kwargs={"literal_binds": True}))

    def check(self, uow: UnitOfWork) -> InvariantResult:
        """Count the violating rows and keep the first few, in one execution.

        ``COUNT(*) OVER ()`` computes the total alongside the sample, so the (possibly
        expensive) query runs once and at most :data:`SAMPLE_SIZE` rows are fetched.
        """
        started = time.perf_counter()
        violations = self.query().subquery("violations")
        statement = select(violations, func.count().over().label("_total")).limit(SAMPLE_SIZE)
        try:
            rows = [row._mapping for row in fetch(uow, statement)]
        except InventoryError as exc:
            return self.failed(exc, started)
        count = int(rows[0]["_total"]) if rows else 0
        sample = tuple({k: v for k, v in row_dict(row).items() if k != "_total"} for row in rows)
        return self.result(
            ok=count == 0,
            count=count,
            sample=sample,
            started=started,
            sql=self.sql(uow.connection.dialect),
        )


def skipped(invariant: BaseInvariant, reason: str, started: float) -> InvariantResult:
    """A result saying ``invariant`` did not run here, and why."""
    return invariant.result(ok=True, started=started, skipped=True, detail=reason)


__all__ = [
    "SAMPLE_SIZE",
    "AnyRow",
    "AnySelect",
    "BaseInvariant",
    "Invariant",
    "InvariantResult",
    "QueryInvariant",
    "Severity",
    "elapsed_since",
    "fetch",
    "jsonable",
    "row_dict",
    "skipped",
]
