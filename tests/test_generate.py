"""The data generator: deterministic, realistic, and always a healthy ledger."""

from __future__ import annotations

from collections import Counter
from pathlib import Path

import pytest
from sqlalchemy import text
from typer.testing import CliRunner

from inventory_core import Database, Inventory
from inventory_core.cli import app
from inventory_core.errors import DuplicateError, GenerateTargetNotEmptyError
from inventory_core.invariants import HealthStatus, check_all
from inventory_core.tools.generate import generate
from tests.db_support import test_settings

LEDGER_COLUMNS = {
    "transactions": "transaction_id, date, sku, event, qty, priority, document_id, note",
    "lots": "lot_id, sku, transaction_id, received_date, expiry_date, qty_received, qty_remaining",
    "sales": "sku, date, qty_sold",
    "promo_calendar": "sku, start_date, end_date",
    "receiving_logs": "document_id, sku, receipt_date, qty_received",
    "transaction_reversals": 'transaction_id, reason, "user"',
    "skus": "sku, pack_size, moq, lead_time_days",
}


def content(db: Database) -> dict[str, list[tuple[object, ...]]]:
    """The generated rows of every ledger table, without wall-clock timestamps."""
    with db.read() as uow:
        return {
            table: [
                tuple(row)
                for row in uow.execute(text(f"SELECT {columns} FROM {table} ORDER BY 1, 2"))
            ]
            for table, columns in LEDGER_COLUMNS.items()
        }


def fresh(url: str) -> Database:
    """An open, migrated database."""
    db = Database.open(url, settings=test_settings())
    db.upgrade()
    return db


def test_same_seed_gives_the_same_rows(tmp_path: Path) -> None:
    """Two runs with one seed write identical ledgers; another seed writes a different one."""
    results = []
    for name, seed in (("a", 7), ("b", 7), ("c", 8)):
        with fresh(f"sqlite:///{tmp_path / name}.db") as db:
            generate(db, skus=12, events=1_500, days=120, seed=seed)
            results.append(content(db))
    assert results[0] == results[1]
    assert results[0]["transactions"] != results[2]["transactions"]


def test_generated_ledger_is_healthy_and_realistic(any_url: str) -> None:
    """The result passes the full check and holds every kind of event the issue lists."""
    with fresh(any_url) as db:
        result = generate(db, skus=20, events=4_000, days=180, seed=1)
        report = check_all(db, full=True)
        data = content(db)
    assert report.status == HealthStatus.HEALTHY, [r.name for r in report.failures]
    assert result.events == len(data["transactions"]) == 4_000
    kinds = Counter(row[3] for row in data["transactions"])
    assert set(kinds) >= {"SNAPSHOT", "ORDER", "RECEIPT", "SALE", "WASTE", "ADJUST"}
    assert kinds["ORDER"] == kinds["RECEIPT"]
    assert len(data["lots"]) == kinds["RECEIPT"]
    assert result.reversals == len(data["transaction_reversals"]) > 0
    assert result.promotions == len(data["promo_calendar"]) > 0
    assert sum(result.counts.values()) == 4_000


def test_sales_follow_the_weekly_pattern(tmp_path: Path) -> None:
    """Saturdays sell more units than Sundays over a generated half year."""
    with fresh(f"sqlite:///{tmp_path / 'w.db'}") as db:
        generate(db, skus=30, events=6_000, days=182, seed=2)
        with db.read() as uow:
            per_weekday = dict(
                uow.execute(
                    text(
                        "SELECT strftime('%w', date), SUM(qty) FROM transactions "
                        "WHERE event = 'SALE' GROUP BY 1"
                    )
                ).all()
            )
    assert per_weekday["6"] > per_weekday["0"] * 1.5


def test_generate_command_reports_what_it_wrote(tmp_path: Path) -> None:
    """After init, the CLI writes the data and prints the rate."""
    path = tmp_path / "demo.db"
    assert CliRunner().invoke(app, ["--db", str(path), "init"]).exit_code == 0
    result = CliRunner().invoke(
        app, ["--db", str(path), "generate", "--skus", "5", "--events", "300", "--days", "60"]
    )
    assert result.exit_code == 0, result.output
    assert "Generated 5 SKUs, 300 events" in result.output
    with Database.open(path, settings=test_settings()) as db:
        assert check_all(db).status == HealthStatus.HEALTHY


def audit_rows(db: Database) -> int:
    """How many audit rows the database holds."""
    with db.read() as uow:
        return int(uow.execute(text("SELECT count(*) FROM audit_log")).scalar_one())


def test_generate_refuses_a_database_that_holds_skus_or_events(any_url: str) -> None:
    """A second run, or a run beside a real SKU, raises VAL_030 and writes nothing."""
    with fresh(any_url) as db:
        Inventory(db, user="owner").add_sku("BIRRA", "Birra", pack_size=24)
        before = (content(db), audit_rows(db))
        with pytest.raises(GenerateTargetNotEmptyError) as caught:
            generate(db, skus=3, events=60, days=20)
        assert caught.value.code == "VAL_030"
        assert caught.value.context["skus"] == 1
        assert (content(db), audit_rows(db)) == before


def test_a_second_generate_is_refused_too(tmp_path: Path) -> None:
    """Generated data counts as data: generating again into it needs into_existing."""
    with fresh(f"sqlite:///{tmp_path / 'g.db'}") as db:
        generate(db, skus=3, events=60, days=20)
        with pytest.raises(GenerateTargetNotEmptyError) as caught:
            generate(db, skus=3, events=60, days=20, seed=1)
        assert caught.value.context == {"skus": 3, "events": 60, "field": "into_existing"}


def test_into_existing_keeps_the_data_and_a_code_clash_writes_nothing(tmp_path: Path) -> None:
    """into_existing adds GEN-* SKUs beside real ones; a GEN-* code already taken is REPO_002."""
    with fresh(f"sqlite:///{tmp_path / 'g.db'}") as db:
        Inventory(db, user="owner").add_sku("BIRRA", "Birra", pack_size=24)
        result = generate(db, skus=3, events=60, days=20, into_existing=True)
        assert result.skus == 3
        before = (content(db), audit_rows(db))
        with pytest.raises(DuplicateError):
            generate(db, skus=3, events=60, days=20, into_existing=True)
        assert (content(db), audit_rows(db)) == before
        assert before[0]["skus"][0][0] == "BIRRA"
