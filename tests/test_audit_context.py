"""The run context: run ids and users on log events, nesting, threads and asyncio tasks."""

from __future__ import annotations

import asyncio
import threading
import uuid
from collections.abc import Iterator

import pytest
import structlog
from structlog.testing import capture_logs

from inventory_core import Database, audit
from inventory_core.errors import InsufficientStockError
from inventory_core.obs.context import add_run_context, current_user
from inventory_core.obs.logs import get_logger
from tests.audit_support import add_sku

CONTEXT = [structlog.contextvars.merge_contextvars, add_run_context]


@pytest.fixture(autouse=True)
def _clean_context() -> Iterator[None]:
    """Each test starts without structlog context bound by an earlier one."""
    structlog.contextvars.clear_contextvars()
    yield
    structlog.contextvars.clear_contextvars()


def test_database_open_binds_a_uuid4_process_run(db: Database) -> None:
    """Opening a database gives the process a UUID4 run id that is current outside any run."""
    assert uuid.UUID(db.run_id).version == 4
    assert audit.current_run_id() == db.run_id


def test_process_run_and_user_are_on_events_outside_any_run(db: Database) -> None:
    """A log event with no run in scope carries the process run id and the user 'system'."""
    with capture_logs(processors=[structlog.contextvars.merge_contextvars]) as logs:
        Database.open(db.url, check=None).close()
        get_logger("inventory_core.test").info("plain_event")
    assert logs[-1]["run_id"] == db.run_id
    assert logs[-1]["user"] == "system"


def test_run_scopes_run_id_and_user_on_log_events(db: Database) -> None:
    """Inside ``audit.run`` every event (library ones included) carries that run id and user."""
    with capture_logs(processors=CONTEXT) as logs, audit.run(user="anna") as run_id:
        get_logger("inventory_core.test").info("inside_run")
        add_sku(db, "BIRRA", user="anna")
    assert [e["event"] for e in logs] == ["inside_run", "audit_appended"]
    assert {(e["run_id"], e["user"]) for e in logs} == {(run_id, "anna")}


def test_failure_event_carries_run_id_user_and_error_code(db: Database) -> None:
    """A rejected unit of work logs unit_of_work_failed with its code, run id and user, at info."""

    def refuse(_uow: object) -> None:
        raise InsufficientStockError(sku="BIRRA", date="2026-02-12", shortfall=3)

    with (
        capture_logs(processors=CONTEXT) as logs,
        audit.run(user="luca") as run_id,
        pytest.raises(InsufficientStockError),
    ):
        db.run(refuse, operation="sell")
    failed = [e for e in logs if e["event"] == "unit_of_work_failed"]
    assert len(failed) == 1
    assert failed[0]["code"] == "WF_001"
    assert failed[0]["log_level"] == "info"
    assert (failed[0]["run_id"], failed[0]["user"], failed[0]["operation"]) == (
        run_id,
        "luca",
        "sell",
    )


def test_nested_runs_restore_the_outer_run() -> None:
    """An inner run wins inside its block; the outer run id and user are back after it."""
    with audit.run(user="outer", run_id="run-outer"):
        with audit.run(user="inner") as inner:
            assert (audit.current_run_id(), current_user()) == (inner, "inner")
        assert (audit.current_run_id(), current_user()) == ("run-outer", "outer")
        with audit.run() as keeps_user:
            assert current_user() == "outer"
            assert audit.current_run_id() == keeps_user != "run-outer"
        with capture_logs(processors=CONTEXT) as logs:
            get_logger("inventory_core.test").info("after_inner")
        assert (logs[0]["run_id"], logs[0]["user"]) == ("run-outer", "outer")


def test_run_restores_the_outer_run_when_the_block_raises() -> None:
    """An exception leaving an inner run still restores the outer run."""
    with audit.run(user="outer", run_id="run-outer"):
        with pytest.raises(RuntimeError), audit.run(user="inner"):
            raise RuntimeError("boom")
        assert (audit.current_run_id(), current_user()) == ("run-outer", "outer")


def test_threads_never_see_each_others_runs(db: Database) -> None:
    """Eight threads in their own runs each see only their own run id and user."""
    barrier = threading.Barrier(8)
    seen: dict[int, list[tuple[str, str]]] = {}
    expected: dict[int, str] = {}

    def worker(number: int) -> None:
        with audit.run(user=f"user{number}") as run_id:
            expected[number] = run_id
            barrier.wait(timeout=10)
            seen[number] = []
            for _ in range(50):
                seen[number].append((audit.current_run_id(), current_user()))
                barrier_free_yield()

    threads = [threading.Thread(target=worker, args=(n,)) for n in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    assert len(set(expected.values())) == 8
    for number, pairs in seen.items():
        assert set(pairs) == {(expected[number], f"user{number}")}
    assert audit.current_run_id() == db.run_id


def barrier_free_yield() -> None:
    """Give other threads a chance to run (and to clobber shared state, if there were any)."""
    threading.Event().wait(0.0005)


def test_a_fresh_thread_logs_with_the_process_run(db: Database) -> None:
    """A thread that never entered a run logs the process run id and the user 'system'."""
    with capture_logs(processors=CONTEXT) as logs, audit.run(user="main-only"):
        thread = threading.Thread(target=lambda: get_logger("inventory_core.t").info("in_thread"))
        thread.start()
        thread.join()
    assert (logs[0]["run_id"], logs[0]["user"]) == (db.run_id, "system")


def test_concurrent_asyncio_tasks_keep_their_own_runs() -> None:
    """Interleaved asyncio tasks, each in its own run, never see each other's run id or user."""

    async def task(number: int) -> set[tuple[str, str]]:
        with audit.run(user=f"task{number}", run_id=f"run-{number}"):
            seen = set()
            for _ in range(20):
                await asyncio.sleep(0)
                seen.add((audit.current_run_id(), current_user()))
            return seen

    async def main() -> list[set[tuple[str, str]]]:
        return list(await asyncio.gather(*(task(n) for n in range(5))))

    results = asyncio.run(main())
    assert results == [{(f"run-{n}", f"task{n}")} for n in range(5)]
