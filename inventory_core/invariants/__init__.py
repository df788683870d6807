"""Invariant query objects and the health report.

Each invariant is a frozen dataclass registered in :data:`INVARIANTS`; most return a
SQLAlchemy ``Select`` of the rows that break their rule. :func:`check_all` runs them into a
:class:`HealthReport`; :func:`startup_check` is what ``Database.open`` runs.
"""

from __future__ import annotations

from inventory_core.invariants.base import Invariant, InvariantResult, QueryInvariant, Severity
from inventory_core.invariants.registry import INVARIANTS, NAMES, by_name
from inventory_core.invariants.report import HealthReport, HealthStatus, check_all, check_unit
from inventory_core.invariants.startup import startup_check

__all__ = [
    "INVARIANTS",
    "NAMES",
    "HealthReport",
    "HealthStatus",
    "Invariant",
    "InvariantResult",
    "QueryInvariant",
    "Severity",
    "by_name",
    "check_all",
    "check_unit",
    "startup_check",
]
