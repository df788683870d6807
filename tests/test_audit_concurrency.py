"""Four processes appending at once never fork the audit chain (SQLite and PostgreSQL)."""

from __future__ import annotations

from datetime import date

import pytest

from inventory_core import Database, audit
from inventory_core.inventory import Inventory
from tests.audit_support import SPAWN, audit_count, writer_process

PROCESSES = 4


def _run_writers(db: Database, sales_each: int) -> list[str]:
    inventory = Inventory(db, user="setup")
    inventory.add_sku("BIRRA", "Birra Lager 0.5L")
    inventory.snapshot("BIRRA", 100_000, on=date(2026, 2, 1))
    url = db.url.render_as_string(hide_password=False)
    queue = SPAWN.Queue()
    workers = [
        SPAWN.Process(target=writer_process, args=(url, "BIRRA", sales_each, f"w{n}", queue))
        for n in range(PROCESSES)
    ]
    for worker in workers:
        worker.start()
    run_ids = [queue.get(timeout=300) for _ in workers]
    for worker in workers:
        worker.join(60)
        assert worker.exitcode == 0
    return run_ids


def _check(db: Database, run_ids: list[str], sales_each: int) -> None:
    report = audit.verify(db)
    assert report.ok, report.reason
    assert audit_count(db) == 2 + PROCESSES * sales_each
    per_run = [audit.by_run(db, run_id) for run_id in run_ids]
    assert sorted(len(rows) for rows in per_run) == [sales_each] * PROCESSES
    assert {row.user for rows in per_run for row in rows} == {f"w{n}" for n in range(PROCESSES)}
    assert Inventory(db).stock("BIRRA").on_hand == 100_000 - PROCESSES * sales_each


def test_four_processes_selling_at_once_leave_a_valid_chain(any_db: Database) -> None:
    """Four processes selling concurrently leave one row per sale in one unbroken chain."""
    run_ids = _run_writers(any_db, 10)
    _check(any_db, run_ids, 10)


@pytest.mark.slow
def test_four_processes_selling_many_times_leave_a_valid_chain(any_db: Database) -> None:
    """The same with 250 sales per process, long enough for heavy lock contention."""
    run_ids = _run_writers(any_db, 250)
    _check(any_db, run_ids, 250)
