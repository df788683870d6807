"""The health report on a consistent ledger, the ledger semantics the queries follow, and plans."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import date, timedelta
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import insert, text

from inventory_core import Database
from inventory_core.errors import ValidationError
from inventory_core.invariants import INVARIANTS, NAMES, HealthStatus, check_all
from inventory_core.invariants.base import QueryInvariant, Severity
from inventory_core.invariants.ledger import StockNeverNegative
from inventory_core.models import EVENT_PRIORITY, EventType, Sku, Transaction, TransactionReversal
from tests.invariants_support import execute, seeded_database, unguarded


@pytest.fixture
def seeded(any_url: str) -> Iterator[Database]:
    """The consistent seeded ledger, on SQLite and PostgreSQL."""
    db = seeded_database(any_url)
    yield db
    db.close()


def test_seeded_ledger_is_healthy(seeded: Database) -> None:
    """Every invariant holds on the consistent ledger, in quick and full mode."""
    for full in (False, True):
        report = check_all(seeded, full=full)
        assert report.status is HealthStatus.HEALTHY, report.to_json()
        assert [r.name for r in report.results] == list(NAMES)
        assert all(r.count == 0 and r.sample == () for r in report.results)


def test_sqlite_only_checks_are_skipped_on_postgresql(seeded: Database) -> None:
    """quick_check and foreign_key_check run on SQLite and are reported skipped elsewhere."""
    report = check_all(seeded)
    sqlite_only = {"sqlite_integrity", "foreign_key_check"}
    skipped = {r.name for r in report.results if r.skipped}
    assert skipped == (sqlite_only if seeded.dialect == "postgresql" else set())


def test_audit_chain_is_verified_through_the_audit_package(seeded: Database) -> None:
    """The audit chain invariant runs audit.verify instead of being skipped."""
    result = check_all(seeded, only=["audit_chain"]).result("audit_chain")
    assert result.ok and not result.skipped


def test_report_serialises_to_json(seeded: Database) -> None:
    """The report's JSON holds the status and, per invariant, count, sample, ms and steps."""
    data = json.loads(check_all(seeded).to_json())
    assert data["status"] == "HEALTHY"
    first = data["results"][0]
    assert set(first) >= {"name", "ok", "count", "sample", "elapsed_ms", "recovery_steps"}
    assert all(r["recovery_steps"] for r in data["results"])


def test_only_runs_the_named_invariants(seeded: Database) -> None:
    """only= restricts the report to the invariants named, in registry order."""
    report = check_all(seeded, only=["lots_consistent", "schema_revision"])
    assert [r.name for r in report.results] == ["schema_revision", "lots_consistent"]


def test_unknown_invariant_name_is_refused(seeded: Database) -> None:
    """A misspelt name in only= raises a ValidationError that lists the valid names."""
    with pytest.raises(ValidationError, match="stock_never_negative"):
        check_all(seeded, only=["stock_never_negativ"])


def test_registry_is_one_tuple_of_frozen_dataclasses() -> None:
    """Every invariant has a unique name, a description, a severity and recovery steps."""
    assert len(set(NAMES)) == len(INVARIANTS)
    for invariant in INVARIANTS:
        assert invariant.description and invariant.recovery_steps
        assert isinstance(invariant.severity, Severity)
        with pytest.raises(AttributeError):
            invariant.name = "other"  # type: ignore[misc]


def test_a_failed_warning_makes_the_report_degraded(seeded: Database, any_url: str) -> None:
    """A broken WARNING invariant (the demand history) gives DEGRADED and exit code 1."""
    with unguarded(any_url) as conn:  # sales is not sealed: only its own invariant sees it
        execute(conn, "UPDATE sales SET qty_sold = 99 WHERE sku = 'PASTA'")
    report = check_all(seeded)
    assert report.status is HealthStatus.DEGRADED and report.status.exit_code == 1
    assert [r.name for r in report.failures] == ["demand_history"]


def test_a_failed_critical_makes_the_report_unhealthy(seeded: Database, any_url: str) -> None:
    """A negative stock point gives UNHEALTHY and exit code 2."""
    with unguarded(any_url) as conn:
        execute(
            conn,
            "INSERT INTO transactions (transaction_id, date, sku, event, qty, priority, "
            "created_at) VALUES (77, '2026-01-15', 'PASTA', 'WASTE', 1, 2, '')",
        )
    report = check_all(seeded)
    assert report.status is HealthStatus.UNHEALTHY and report.status.exit_code == 2
    assert report.result("stock_never_negative").sample[0]["transaction_id"] == 77


# --- ledger semantics ----------------------------------------------------------------------


def _event(uow: Any, tid: int, sku: str, day: str, event: str, qty: int) -> None:
    uow.execute(
        insert(Transaction).values(
            transaction_id=tid,
            sku=sku,
            date=date.fromisoformat(day),
            event=event,
            qty=qty,
            priority=EVENT_PRIORITY[EventType(event)],
        )
    )


def test_reversed_events_do_not_count(any_db: Database) -> None:
    """A WASTE that would take stock negative is ignored once it is reversed."""

    def write(uow: Any) -> None:
        uow.execute(insert(Sku).values(sku="X"))
        _event(uow, 1, "X", "2026-03-01", "SNAPSHOT", 5)
        _event(uow, 2, "X", "2026-03-02", "WASTE", 9)

    any_db.run(write)
    assert check_all(any_db, only=["stock_never_negative"]).result("stock_never_negative").count
    any_db.run(
        lambda uow: uow.execute(
            insert(TransactionReversal).values(transaction_id=2, reason="wrong", user="t")
        )
    )
    assert check_all(any_db, only=["stock_never_negative"]).status is HealthStatus.HEALTHY


def test_same_day_order_follows_priority(any_db: Database) -> None:
    """A SALE on the day of a count comes after the count; one the day before does not."""

    def write(uow: Any) -> None:
        uow.execute(insert(Sku).values(sku="X"))
        _event(uow, 1, "X", "2026-03-02", "SALE", 4)  # same day, written first: priority 2
        _event(uow, 2, "X", "2026-03-02", "SNAPSHOT", 4)
        _event(uow, 3, "X", "2026-03-01", "SALE", 1)  # before any count: -1

    any_db.run(write)
    result = check_all(any_db, only=["stock_never_negative"]).result("stock_never_negative")
    assert result.count == 1 and result.sample[0]["transaction_id"] == 3


EVENTS = st.sampled_from(["SNAPSHOT", "RECEIPT", "SALE", "WASTE", "ADJUST", "ORDER"])
HISTORY = st.lists(
    st.tuples(st.sampled_from(["A", "B"]), st.integers(0, 6), EVENTS, st.integers(1, 9),
              st.booleans()),
    min_size=1,
    max_size=25,
)  # fmt: skip


def fold_negative_points(rows: list[tuple[int, str, int, str, int, bool]]) -> set[int]:
    """The oracle: ids of the events after which a Python fold of on_hand is negative."""
    ordered = sorted(
        (r for r in rows if not r[5]),
        key=lambda r: (r[1], r[2], EVENT_PRIORITY[EventType(r[3])], r[0]),
    )
    on_hand: dict[str, int] = {}
    negative: set[int] = set()
    for tid, sku, _day, event, qty, _rev in ordered:
        if event == "ORDER":
            continue
        before = on_hand.get(sku, 0)
        after = {"SNAPSHOT": qty, "RECEIPT": before + qty, "ADJUST": before + qty}.get(
            event, before - qty
        )
        on_hand[sku] = after
        if after < 0:
            negative.add(tid)
    return negative


def test_stock_query_matches_a_python_fold(db: Database) -> None:
    """For random histories with reversals, the query flags exactly the fold's negative points."""
    base = date(2026, 1, 1)
    with db.unit_of_work() as uow:
        uow.execute(insert(Sku), [{"sku": "A"}, {"sku": "B"}])
        uow.commit()

    @settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
    @given(HISTORY)
    def check(history: list[tuple[str, int, str, int, bool]]) -> None:
        rows = [
            (i + 1, sku, day, event, -qty if event == "ADJUST" and qty % 2 else qty, rev)
            for i, (sku, day, event, qty, rev) in enumerate(history)
        ]
        with db.unit_of_work() as uow:
            uow.execute(text("DROP TRIGGER IF EXISTS trg_transactions_no_delete"))
            uow.execute(text("DROP TRIGGER IF EXISTS trg_transaction_reversals_no_delete"))
            uow.execute(text("DELETE FROM transaction_reversals"))
            uow.execute(text("DELETE FROM transactions"))
            for tid, sku, day, event, qty, rev in rows:
                _event(uow, tid, sku, (base + timedelta(days=day)).isoformat(), event, qty)
                if rev:
                    uow.execute(
                        insert(TransactionReversal).values(transaction_id=tid, reason="r", user="t")
                    )
            found = {
                row["transaction_id"]
                for row in uow.execute(StockNeverNegative().query()).mappings()
            }
            uow.commit()
        assert found == fold_negative_points(rows)

    check()


# --- query plans ---------------------------------------------------------------------------

LEDGER_TABLES = ("transactions", "audit_log", "transaction_reversals")


def plan(db: Database, invariant: QueryInvariant) -> list[str]:
    """The EXPLAIN QUERY PLAN lines of an invariant's query."""
    with db.read() as uow:
        sql = invariant.sql(uow.connection.dialect)
        return [str(r[3]) for r in uow.connection.exec_driver_sql(f"EXPLAIN QUERY PLAN {sql}")]


def test_per_sku_queries_read_the_ledger_through_indices(db: Database) -> None:
    """No invariant query scans transactions, reversals or audit_log without an index."""
    db.run(lambda uow: uow.execute(text("ANALYZE")))
    for invariant in INVARIANTS:
        if not isinstance(invariant, QueryInvariant):
            continue
        for line in plan(db, invariant):
            for table in LEDGER_TABLES:
                if line.startswith(f"SCAN {table}"):
                    assert "USING" in line and "INDEX" in line, (invariant.name, line)


def test_stock_query_walks_the_covering_index_in_ledger_order(db: Database) -> None:
    """The running on_hand reads (sku, date, priority) from the covering index, no sort."""
    lines = plan(db, StockNeverNegative())
    assert "SCAN transactions USING COVERING INDEX ix_transactions_sku_date" in lines
    assert any("SEARCH transaction_reversals USING COVERING INDEX" in line for line in lines)


def test_lots_and_sales_are_matched_per_sku_through_indices(db: Database) -> None:
    """Lot totals group along (sku, expiry) and sales are looked up by their (sku, date) key."""
    lots_plan = plan(db, next(i for i in INVARIANTS if i.name == "lots_consistent"))  # type: ignore[arg-type]
    demand_plan = plan(db, next(i for i in INVARIANTS if i.name == "demand_history"))  # type: ignore[arg-type]
    assert any("lots USING INDEX ix_lots_sku_expiry_date" in line for line in lots_plan)
    assert any(line.startswith("SEARCH sales USING COVERING INDEX") for line in demand_plan)
