"""The profile command: timings against targets, and no per-SKU query scanning history."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import text
from typer.testing import CliRunner

from inventory_core import Database
from inventory_core.cli import app
from inventory_core.tools.generate import generate
from inventory_core.tools.profile import capture, explain, full_scans, profile, status_of
from tests.db_support import test_settings

PER_SKU = {"get_sku", "history_50", "fefo_lots", "stock_sku", "audit_tail_20"}


@pytest.fixture(scope="module")
def generated(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A generated SQLite database of 40 SKUs and 8,000 events, analyzed like a live one."""
    path = tmp_path_factory.mktemp("profile") / "shop.db"
    with Database.open(path, settings=test_settings()) as db:
        db.upgrade()
        generate(db, skus=40, events=8_000, days=200, seed=5)
        with db.unit_of_work() as uow:
            uow.execute(text("ANALYZE"))
            uow.commit()
    return path


@pytest.fixture
def shop(generated: Path) -> Iterator[Database]:
    """The generated database, open."""
    with Database.open(generated, settings=test_settings(), check=None) as db:
        yield db


def test_no_per_sku_query_scans_a_ledger_table(shop: Database) -> None:
    """EXPLAIN QUERY PLAN of every per-SKU query reads transactions/lots/sales/audit by index."""
    report = profile(shop, repeat=2, with_plans=True)
    per_sku = [q for q in report.queries if q.per_sku]
    assert {q.name for q in per_sku} == PER_SKU
    for query in per_sku:
        assert query.plan, query.name
        assert query.full_scans == (), (query.name, query.plan)


def test_full_scan_detector_sees_a_scan_through_an_alias(shop: Database) -> None:
    """A filter on an unindexed column is reported as a full scan, even under an alias."""
    with shop.read() as uow:
        [(sql, params)] = capture(
            uow,
            lambda u: u.execute(
                text("SELECT ev.qty FROM transactions AS ev WHERE ev.note = :n"), {"n": "x"}
            ).all(),
        )
        plan = explain(uow, sql, params)
    assert full_scans(sql, plan) == ["SCAN ev"]


def test_status_compares_with_the_target() -> None:
    """Within the target passes, within five times warns, beyond fails."""
    assert [status_of(ms, 1.0) for ms in (0.5, 1.0, 4.9, 5.1)] == ["PASS", "PASS", "WARN", "FAIL"]


def test_profile_runs_on_every_database(any_db: Database) -> None:
    """Each critical query is timed and explained on SQLite and PostgreSQL alike."""
    generate(any_db, skus=5, events=500, days=60, seed=1)
    report = profile(any_db, repeat=3, with_plans=True)
    assert [q.name for q in report.queries] == [
        "get_sku", "list_100_skus", "history_50", "fefo_lots", "stock_sku", "stock_all",
        "audit_tail_20",
    ]  # fmt: skip
    assert report.events == 500 and report.skus == 5
    assert all(q.median_ms > 0 and q.plan and q.statements for q in report.queries)


def test_profile_command_prints_table_and_plans(generated: Path) -> None:
    """``profile --explain`` shows every query with its status and its plan."""
    result = CliRunner().invoke(app, ["--db", str(generated), "profile", "--explain"])
    assert result.exit_code == 0, result.output
    for name in ("get_sku", "stock_all", "audit_tail_20", "ix_transactions_sku_date"):
        assert name in result.output
    assert "Overall:" in result.output


def test_profile_command_prints_json(generated: Path) -> None:
    """``profile --json`` prints one JSON document with a status per query."""
    result = CliRunner().invoke(app, ["--db", str(generated), "profile", "--json"])
    assert result.exit_code == 0, result.output
    body = json.loads(result.output)
    assert {q["status"] for q in body["queries"]} <= {"PASS", "WARN", "FAIL"}
    assert body["events"] == 8_000
