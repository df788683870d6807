"""Audit rows: one per write, in the same transaction, logged after commit, retried once."""

from __future__ import annotations

import hashlib
import json

import pytest
import structlog
from hypothesis import given
from hypothesis import strategies as st
from sqlalchemy import insert, select
from sqlalchemy.engine import make_url
from structlog.testing import capture_logs

from inventory_core import Database, Settings, audit
from inventory_core.audit import trail
from inventory_core.db.uow import UnitOfWork
from inventory_core.errors import DuplicateError, InventoryError, WorkflowError
from inventory_core.models import AuditLog, Sku
from inventory_core.obs.context import add_run_context
from tests.audit_support import (
    SPAWN,
    add_sku,
    audit_count,
    hold_write_lock,
    ledger_count,
    sale_work,
    sell,
)

CONTEXT = [structlog.contextvars.merge_contextvars, add_run_context]


def test_every_write_kind_leaves_one_correct_row(any_db: Database) -> None:
    """Each operation appended in its own unit leaves exactly one row with its own fields."""
    add_sku(any_db, "BIRRA", user="anna")
    with audit.run(user="anna") as run_id:
        for operation in trail.Operation:

            def work(uow: UnitOfWork, op: trail.Operation = operation) -> str:
                return trail.append(
                    uow, op, user="anna", sku="BIRRA", details={"op": op.value}, duration_ms=2.25
                )

            before = audit_count(any_db)
            any_db.run(work, operation=operation.value)
            assert audit_count(any_db) == before + 1
    rows = audit.by_run(any_db, run_id)
    assert [r.operation for r in rows] == [op.value for op in trail.Operation]
    for row in rows:
        assert (row.user, row.sku, row.run_id, row.duration_ms) == ("anna", "BIRRA", run_id, 2.25)
        assert row.details == {"op": row.operation, "sku": "BIRRA"}
        assert row.timestamp.endswith("Z")
    assert audit.verify(any_db).ok


def test_operation_enum_covers_every_inventory_write_and_maintenance_job() -> None:
    """The operations name every Inventory write plus backup, restore and the other jobs."""
    writes = {"add_sku", "update_sku", "snapshot", "order", "receive", "sell", "waste"}
    writes |= {"adjust", "unfulfilled", "revert"}
    jobs = {"backup", "restore", "retention", "export", "import", "maintenance", "migration"}
    assert writes | jobs <= {op.value for op in trail.Operation}


def test_row_and_change_commit_together(any_db: Database) -> None:
    """A sale's ledger row and its audit row are both there after the unit commits."""
    add_sku(any_db, "BIRRA")
    digest = sell(any_db, "BIRRA", 3, user="marco")
    assert (ledger_count(any_db), audit_count(any_db)) == (1, 2)
    assert audit.head(any_db) == (digest, 2)
    last = audit.tail(any_db, 1)[0]
    assert (last.operation, last.user, last.sku, last.details) == (
        "sell",
        "marco",
        "BIRRA",
        {"qty": 3, "sku": "BIRRA"},
    )


def test_failed_write_leaves_no_row_and_logs_no_append(any_db: Database) -> None:
    """A unit that appends and then fails rolls the audit row back and logs only the failure."""
    add_sku(any_db, "BIRRA")

    def append_then_refuse(uow: UnitOfWork) -> None:
        sale_work("BIRRA", 5)(uow)
        raise WorkflowError("refused after the append")

    with capture_logs(processors=CONTEXT) as logs, pytest.raises(WorkflowError):
        any_db.run(append_then_refuse, operation="sell")
    assert (ledger_count(any_db), audit_count(any_db)) == (0, 1)
    assert [e["event"] for e in logs] == ["unit_of_work_failed"]
    assert logs[0]["code"] == "WF_000"


def test_database_error_after_append_leaves_no_row(any_db: Database) -> None:
    """A constraint error after the append rolls back the row and logs a warning with its code."""
    add_sku(any_db, "BIRRA")

    def append_then_duplicate(uow: UnitOfWork) -> None:
        trail.append(uow, trail.Operation.ADD_SKU, user="x", sku="BIRRA")
        uow.execute(insert(Sku).values(sku="BIRRA"))

    with capture_logs(processors=CONTEXT) as logs, pytest.raises(DuplicateError):
        any_db.run(append_then_duplicate, operation="add_sku")
    assert audit_count(any_db) == 1
    failed = [e for e in logs if e["event"] == "unit_of_work_failed"]
    assert (failed[0]["code"], failed[0]["log_level"]) == ("REPO_002", "warning")
    assert audit.verify(any_db).ok


def test_after_commit_event_carries_the_new_head_hash(any_db: Database) -> None:
    """The audit_appended event is emitted after commit with operation, user, sku and head."""
    add_sku(any_db, "BIRRA")
    with capture_logs(processors=CONTEXT) as logs, audit.run(user="sara") as run_id:
        digest = sell(any_db, "BIRRA", 2, user="sara")
    appended = [e for e in logs if e["event"] == "audit_appended"]
    assert len(appended) == 1
    event = appended[0]
    assert (event["operation"], event["user"], event["sku"], event["run_id"]) == (
        "sell",
        "sara",
        "BIRRA",
        run_id,
    )
    assert event["head_hash"] == digest == audit.head(any_db)[0]


def test_event_is_not_emitted_before_commit(any_db: Database) -> None:
    """Inside the unit, after the append, no audit_appended event has been logged yet."""
    add_sku(any_db, "BIRRA")
    seen_inside: list[int] = []

    def work(uow: UnitOfWork) -> None:
        sale_work("BIRRA", 1)(uow)
        seen_inside.append(sum(e["event"] == "audit_appended" for e in logs))

    with capture_logs() as logs:
        any_db.run(work)
    assert seen_inside == [0]
    assert sum(e["event"] == "audit_appended" for e in logs) == 1


def test_retried_unit_of_work_leaves_exactly_one_row(any_url: str) -> None:
    """With another process holding the write lock at first, the retried sale writes one row."""
    settings = Settings.load(busy_timeout_ms=50, retry_attempts=40, retry_max_delay_s=0.1)
    db = Database.open(any_url, settings=settings)
    db.upgrade()
    try:
        add_sku(db, "BIRRA")
        ready = SPAWN.Event()
        # On PostgreSQL the unit first waits for the chain head, up to PG_QUEUE_WAIT_MS:
        # held longer than that, the wait fails and the unit is retried.
        hold_s = 0.8 if make_url(any_url).get_backend_name() == "sqlite" else 2.6
        holder = SPAWN.Process(target=hold_write_lock, args=(any_url, hold_s, ready))
        holder.start()
        assert ready.wait(30)
        attempts: list[int] = []

        def work(uow: UnitOfWork) -> str:
            attempts.append(1)
            if db.dialect == "postgresql":
                from sqlalchemy import text

                uow.execute(text("SET LOCAL lock_timeout = '100ms'"))
            return sale_work("BIRRA", 4, user="retry")(uow)

        with capture_logs() as logs:
            digest = db.run(work, operation="sell")
        holder.join(30)
        retries = [e for e in logs if e["event"] == "unit_of_work_retry"]
        assert len(retries) >= 1
        if db.dialect == "postgresql":
            # The retried wait came before the unit began: fn ran once, holding the head.
            assert len(attempts) == 1
        assert (ledger_count(db), audit_count(db)) == (1, 2)
        assert sum(e["event"] == "audit_appended" for e in logs) == 1
        assert audit.head(db) == (digest, 2)
        assert audit.verify(db).ok
    finally:
        db.close()


def test_details_are_stored_as_canonical_json(any_db: Database) -> None:
    """Details are stored with sorted keys and no spaces, and non-ASCII text as UTF-8."""
    add_sku(any_db, "CAFFÈ")
    any_db.run(
        lambda uow: trail.append(
            uow,
            trail.Operation.UPDATE_SKU,
            user="gianni",
            sku="CAFFÈ",
            details={"before": {"moq": 6}, "after": {"moq": 12}, "descrizione": "caffè"},
        )
    )
    with any_db.read() as uow:
        stored = uow.execute(select(AuditLog.details).order_by(AuditLog.audit_id.desc())).first()
    assert stored is not None
    assert (
        stored[0] == '{"after":{"moq":12},"before":{"moq":6},"descrizione":"caffè","sku":"CAFFÈ"}'
    )
    assert json.loads(stored[0])["before"] == {"moq": 6}


def test_unknown_operation_is_refused(any_db: Database) -> None:
    """Appending an operation outside the enum raises before anything is written."""
    with pytest.raises((ValueError, InventoryError)):
        any_db.run(lambda uow: trail.append(uow, "drop_table", user="x"))
    assert audit_count(any_db) == 0


_text = st.text(max_size=40)


@given(
    prev=st.text(alphabet="0123456789abcdef", min_size=64, max_size=64),
    timestamp=_text,
    operation=_text,
    user=_text,
    details=_text,
    run_id=_text,
    duration=st.floats(allow_nan=False, allow_infinity=False, min_value=0, max_value=1e9),
)
def test_chain_hash_equals_sha256_of_canonical_json(
    prev: str,
    timestamp: str,
    operation: str,
    user: str,
    details: str,
    run_id: str,
    duration: float,
) -> None:
    """The fast chain hash is sha256(prev_hash + canonical_json(hashed fields)) for any text."""
    fields = {"timestamp": timestamp, "operation": operation, "user": user}
    fields |= {"details": details, "run_id": run_id, "duration_ms": round(duration, 3)}
    expected = hashlib.sha256((prev + trail.canonical_json(fields)).encode("utf-8")).hexdigest()
    assert trail.chain_hash(prev, timestamp, operation, user, details, run_id, duration) == expected
    assert trail.row_hash(prev, fields) == expected
