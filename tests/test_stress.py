"""Many processes on one database: nothing acknowledged is lost, nothing is half-written."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from sqlalchemy import text

from inventory_core import Database
from inventory_core.audit import trail
from tests.stress_support import assert_clean, stress, stress_checks


def test_four_processes_keep_every_acknowledged_write(tmp_path: Path) -> None:
    """Four processes x 15 s of mixed work on one SQLite file pass every post-run check."""
    url = f"sqlite:///{tmp_path / 'stress.db'}"
    summary = stress.stress(url, tmp_path / "work", 4, 15, backup_every_s=5)
    print(json.dumps({k: v for k, v in summary.items() if k != "checks"}))
    assert_clean(summary)
    assert summary["writes"] > 100
    assert summary["reads"] > 100
    assert summary["backups"] >= 1


@pytest.mark.slow
def test_eight_processes_for_two_minutes_keep_every_acknowledged_write(tmp_path: Path) -> None:
    """Eight processes x 120 s of mixed work on one SQLite file pass every post-run check."""
    url = f"sqlite:///{tmp_path / 'stress.db'}"
    summary = stress.stress(url, tmp_path / "work", 8, 120, backup_every_s=10)
    print(json.dumps({k: v for k, v in summary.items() if k != "checks"}))
    assert_clean(summary)
    assert summary["writes"] > 1000


@pytest.mark.postgres
def test_eight_processes_on_postgresql_lose_no_update(pg_url: str, tmp_path: Path) -> None:
    """Eight PostgreSQL processes: no surfaced conflict, stock folds the acks, one audit chain."""
    summary = stress.stress(pg_url, tmp_path / "work", 8, 8, backup_every_s=4)
    print(json.dumps({k: v for k, v in summary.items() if k != "checks"}))
    assert_clean(summary)
    assert summary["writes"] > 50


@pytest.fixture
def ledger(tmp_path: Path) -> tuple[Database, Path]:
    """A database prepared by the harness (SKUs and opening counts) and its ack folder."""
    url = f"sqlite:///{tmp_path / 'stress.db'}"
    work = tmp_path / "work"
    stress.prepare(url, work, ["A", "B"])
    db = Database.open(url)
    return db, work


def test_checks_report_an_event_without_its_audit_row(ledger: tuple[Database, Path]) -> None:
    """A transaction written outside a unit of work's audit append is reported as half a unit."""
    db, _work = ledger
    db.run(
        lambda uow: uow.execute(
            text(
                "INSERT INTO transactions (date, sku, event, qty, priority, created_at) "
                "VALUES ('2026-01-02', 'A', 'SALE', 1, 2, '2026-01-02T00:00:00Z')"
            )
        )
    )
    problems = stress_checks.units_all_or_nothing(db)
    db.close()
    assert len(problems) == 1
    assert "1 ledger row(s), 0 audit row(s)" in problems[0]


def test_checks_report_an_audit_row_without_its_event(ledger: tuple[Database, Path]) -> None:
    """An audit row naming a transaction that is not in the ledger is reported."""
    db, _work = ledger
    db.run(
        lambda uow: trail.append(
            uow, trail.Operation.SELL, user="t", sku="A", details={"transaction_id": 999}
        )
    )
    problems = stress_checks.units_all_or_nothing(db)
    db.close()
    assert problems == ["transaction 999: 0 ledger row(s), 1 audit row(s)"]


def test_checks_report_a_lost_acknowledged_write(ledger: tuple[Database, Path]) -> None:
    """An acknowledged id missing from the database fails the check, and the stock fold too."""
    db, work = ledger
    line = {"op": "sell", "events": [[999, "A", "2026-01-03", "SALE", 2]], "reverts": [998]}
    (work / "acks-9.jsonl").write_text(json.dumps(line) + "\n" + '{"op": "se')
    acked = stress_checks.read_acks(work)
    missing = stress_checks.acknowledged_present(db, acked)
    folded = stress_checks.stock_matches_fold(db, acked)
    db.close()
    assert acked.torn_lines == 1
    assert any("999" in p for p in missing)
    assert any("998" in p for p in missing)
    assert folded and folded[0].startswith("A:")
