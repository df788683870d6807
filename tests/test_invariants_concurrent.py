"""check_all running its checks concurrently reports exactly what one check at a time does."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any, ClassVar

import pytest

from inventory_core import Database, audit
from inventory_core.db.uow import UnitOfWork
from inventory_core.invariants import INVARIANTS, NAMES, HealthReport, InvariantResult, check_all
from inventory_core.invariants.base import BaseInvariant
from inventory_core.invariants.report import (
    LONG_CHECKS_FIRST,
    default_workers,
    run_checks,
    start_order,
)
from inventory_core.invariants.sqlite_checks import FULL_KEY
from tests.audit_support import bulk_chain, tamper
from tests.invariants_support import execute, seeded_database, unguarded


def _findings(report: HealthReport) -> list[tuple[Any, ...]]:
    """What a report found, without its timings."""
    return [(r.name, r.ok, r.count, r.sample, r.detail, r.skipped) for r in report.results]


@pytest.fixture
def damaged(any_url: str) -> Iterator[Database]:
    """The seeded ledger with a negative stock, a wrong order status and an edited audit row."""
    db = seeded_database(any_url)
    with unguarded(any_url) as conn:
        execute(
            conn,
            "INSERT INTO transactions (transaction_id, date, sku, event, qty, priority, "
            "created_at) VALUES (77, '2026-01-15', 'PASTA', 'WASTE', 1, 2, '')",
        )
        execute(conn, "UPDATE order_logs SET status = 'PENDING' WHERE order_id = 1")
    tamper(db, "UPDATE audit_log SET \"user\" = 'mallory' WHERE audit_id = 2")
    yield db
    db.close()


def test_concurrent_check_reports_the_same_findings_in_registry_order(damaged: Database) -> None:
    """Several workers give the same results, in the same order, as one check at a time."""
    for full in (False, True):
        alone = check_all(damaged, full=full, workers=1)
        together = check_all(damaged, full=full, workers=4)
        assert [r.name for r in together.results] == list(NAMES)
        assert _findings(together) == _findings(alone)
        assert together.status is alone.status
        failed = {r.name for r in together.failures}
        assert {"stock_never_negative", "orders_consistent", "audit_chain"} <= failed
        assert together.result("audit_chain").sample[0]["first_broken_id"] == 2


@pytest.mark.parametrize(
    ("damage", "first_broken_id", "words"),
    [
        ("UPDATE audit_log SET details = '{}' WHERE audit_id IN (12345, 20000)", 12345, "edited"),
        ("DELETE FROM audit_log WHERE audit_id BETWEEN 10000 AND 10002", 10003, "missing"),
        ("UPDATE audit_log SET hash = prev_hash WHERE audit_id = 20001", 20001, "edited"),
    ],
)
def test_concurrent_check_names_the_first_broken_audit_row(
    db: Database, damage: str, first_broken_id: int, words: str
) -> None:
    """Over a chain of several fetch batches, both modes name the same first broken row."""
    bulk_chain(db, 25_000)
    tamper(db, damage)
    alone = check_all(db, full=True, workers=1)
    together = check_all(db, full=True)
    assert _findings(together) == _findings(alone)
    sample = together.result("audit_chain").sample[0]
    assert sample["first_broken_id"] == first_broken_id
    assert words in sample["reason"]
    walked = audit.verify(db)
    assert sample == {key: getattr(walked, key) for key in sample}


@dataclass(frozen=True)
class _Recorder(BaseInvariant):
    """Records the thread, the audit user and the mode it ran with."""

    name: ClassVar[str] = "recorder"
    description: ClassVar[str] = "Records where it ran."
    seen: list[tuple[str, str, bool]] = field(default_factory=list)
    pause_s: float = 0.05

    def check(self, uow: UnitOfWork) -> InvariantResult:
        started = time.perf_counter()
        time.sleep(self.pause_s)
        name = threading.current_thread().name
        self.seen.append((name, audit.current_user(), bool(uow.info[FULL_KEY])))
        return self.result(ok=True, count=len(self.seen), started=started)


def test_concurrent_checks_run_on_worker_threads_in_the_callers_run(db: Database) -> None:
    """Each check runs on a worker thread with the caller's run context and mode."""
    seen: list[tuple[str, str, bool]] = []
    recorders = [_Recorder(seen=seen) for _ in range(4)]
    with audit.run(user="night_auditor"):
        results = run_checks(db, recorders, full=True, workers=2)
    assert len(results) == 4 and all(r.ok for r in results)
    assert {user for _, user, _ in seen} == {"night_auditor"}
    assert {full for _, _, full in seen} == {True}
    assert all(thread.startswith("inventory-check") for thread, _, _ in seen)
    assert len({thread for thread, _, _ in seen}) == 2


@dataclass(frozen=True)
class _Broken(BaseInvariant):
    """A check with a bug: it raises something that is not an InventoryError."""

    name: ClassVar[str] = "broken"
    description: ClassVar[str] = "Raises."

    def check(self, uow: UnitOfWork) -> InvariantResult:
        raise RuntimeError("a bug in a check")


def test_a_bug_in_a_concurrent_check_is_raised_to_the_caller(db: Database) -> None:
    """An unexpected exception in a worker propagates out of run_checks, as it does alone."""
    checks = [_Recorder(), _Broken(), _Recorder()]
    for workers in (1, 2):
        with pytest.raises(RuntimeError, match="a bug in a check"):
            run_checks(db, checks, full=False, workers=workers)


def test_long_checks_start_first_and_the_rest_keep_registry_order() -> None:
    """The start order puts the long checks first; every other check follows in order."""
    order = [INVARIANTS[i].name for i in start_order(INVARIANTS)]
    long_ones = [name for name in LONG_CHECKS_FIRST if name in NAMES]
    assert order[: len(long_ones)] == long_ones
    assert order[len(long_ones) :] == [name for name in NAMES if name not in long_ones]
    assert sorted(order) == sorted(NAMES)


def test_a_file_database_uses_a_worker_per_cpu(db: Database) -> None:
    """A SQLite file gets at least one worker, and never more than there are CPUs."""
    import os

    assert 1 <= default_workers(db) <= (os.cpu_count() or 1)


def test_an_in_memory_database_is_checked_one_check_at_a_time() -> None:
    """Each pooled connection to ':memory:' is another database, so checks run in turn."""
    db = Database.open("sqlite://", check=None)
    try:
        db.upgrade()
        assert default_workers(db) == 1
        # audit_chain is left out: verify opens a second read transaction, which the one
        # connection of an in-memory database cannot (one check at a time or not).
        report = check_all(db, full=True, only=[n for n in NAMES if n != "audit_chain"])
        assert report.status.value == "HEALTHY", report.to_json()
    finally:
        db.close()
