"""Audit queries: tail, by_run, by_sku return frozen rows and search their indices."""

from __future__ import annotations

import dataclasses

import pytest
from sqlalchemy import Select

from inventory_core import Database, audit
from inventory_core.audit import queries
from tests.audit_support import add_sku, sell


def _plan(db: Database, stmt: Select[object]) -> str:
    sql = str(stmt.compile(db.engine, compile_kwargs={"literal_binds": True}))
    with db.read() as uow:
        rows = uow.connection.exec_driver_sql("EXPLAIN QUERY PLAN " + sql).all()
    return " | ".join(str(row[-1]) for row in rows)


def _two_runs(db: Database) -> tuple[str, str]:
    add_sku(db, "BIRRA")
    add_sku(db, "VINO")
    with audit.run(user="anna") as first:
        sell(db, "BIRRA", 1, user="anna")
        sell(db, "VINO", 2, user="anna")
    with audit.run(user="bruno") as second:
        sell(db, "BIRRA", 3, user="bruno")
    return first, second


def test_tail_returns_the_newest_rows_oldest_first(any_db: Database) -> None:
    """tail(n) gives the last n rows in chain order."""
    _two_runs(any_db)
    rows = audit.tail(any_db, 3)
    assert [r.audit_id for r in rows] == [3, 4, 5]
    assert [r.details["qty"] for r in rows] == [1, 2, 3]
    assert len(audit.tail(any_db, 100)) == 5


def test_by_run_returns_only_that_runs_rows(any_db: Database) -> None:
    """by_run lists exactly the rows written inside that run, in order."""
    first, second = _two_runs(any_db)
    assert [(r.sku, r.user) for r in audit.by_run(any_db, first)] == [
        ("BIRRA", "anna"),
        ("VINO", "anna"),
    ]
    assert [r.user for r in audit.by_run(any_db, second)] == ["bruno"]
    assert audit.by_run(any_db, "no-such-run") == []


def test_by_sku_returns_only_that_skus_rows(any_db: Database) -> None:
    """by_sku lists the SKU's creation and its sales, nothing about other SKUs."""
    _two_runs(any_db)
    assert [r.operation for r in audit.by_sku(any_db, "BIRRA")] == ["add_sku", "sell", "sell"]
    assert [r.operation for r in audit.by_sku(any_db, "VINO")] == ["add_sku", "sell"]


def test_entries_are_frozen(any_db: Database) -> None:
    """Rows handed to callers cannot be modified."""
    _two_runs(any_db)
    entry = audit.tail(any_db, 1)[0]
    with pytest.raises(dataclasses.FrozenInstanceError):
        entry.user = "mallory"  # type: ignore[misc]
    assert entry.to_dict()["audit_id"] == entry.audit_id


def test_by_run_searches_the_run_id_index(db: Database) -> None:
    """The run query is an index SEARCH on ix_audit_log_run_id with no sort step."""
    plan = _plan(db, queries.run_query("some-run"))
    assert "SEARCH audit_log USING INDEX ix_audit_log_run_id (run_id=?)" in plan
    assert "TEMP B-TREE" not in plan


def test_by_sku_searches_the_sku_index(db: Database) -> None:
    """The SKU query is an index SEARCH on ix_audit_log_sku with no sort step."""
    plan = _plan(db, queries.sku_query("BIRRA"))
    assert "SEARCH audit_log USING INDEX ix_audit_log_sku (sku=?)" in plan
    assert "TEMP B-TREE" not in plan


def test_tail_walks_the_timestamp_index_without_sorting(db: Database) -> None:
    """The tail query reads ix_audit_log_timestamp backwards and needs no sort of the table."""
    plan = _plan(db, queries.tail_query(20))
    assert "USING INDEX ix_audit_log_timestamp" in plan
    assert "TEMP B-TREE" not in plan


def test_tail_since_searches_the_timestamp_index(db: Database) -> None:
    """A tail bounded by a start time is a range SEARCH on ix_audit_log_timestamp."""
    plan = _plan(db, queries.tail_query(20, since="2026-02-12"))
    assert "SEARCH audit_log USING INDEX ix_audit_log_timestamp (timestamp>?)" in plan
    assert "TEMP B-TREE" not in plan


def test_tail_since_keeps_only_newer_rows(any_db: Database) -> None:
    """tail(since=...) leaves out rows older than the given timestamp."""
    _two_runs(any_db)
    cut = audit.tail(any_db, 5)[3].timestamp
    assert [r.audit_id for r in audit.tail(any_db, 10, since=cut)] == [4, 5]
    assert audit.tail(any_db, 10, since="2999-01-01") == []
