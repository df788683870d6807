"""``Database.open(check=...)``: the cheap start-up check, the full one, and none."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Engine, event
from sqlalchemy.engine import make_url

from inventory_core import Database
from inventory_core.errors import HealthCheckError, NotMigratedError
from inventory_core.invariants import HealthStatus, check_all
from tests.db_support import test_settings
from tests.invariants_support import damage_index_page, execute, seeded_database, unguarded

DATA_TABLES = ("transactions", "audit_log", "sales", "lots", "order_logs", "receiving_logs")


@pytest.fixture
def seeded_url(any_url: str) -> str:
    """A seeded database, closed, ready to be damaged and re-opened."""
    seeded_database(any_url).close()
    return any_url


def reopen(url: str, check: Any = "quick") -> Database:
    """Open ``url`` the way an application would."""
    return Database.open(url, settings=test_settings(), check=check)


def drop_trigger(conn: Any, name: str, table: str) -> None:
    """Drop an append-only trigger on either dialect."""
    suffix = f" ON {table}" if conn.dialect.name == "postgresql" else ""
    execute(conn, f"DROP TRIGGER {name}{suffix}")


def test_quick_check_refuses_a_missing_append_only_trigger(seeded_url: str) -> None:
    """A dropped ledger trigger is refused at open, naming it and saying what to do."""
    trigger = (
        "trg_transactions_append_only"
        if make_url(seeded_url).get_backend_name() == "postgresql"
        else "trg_transactions_no_delete"
    )
    with unguarded(seeded_url) as conn:
        drop_trigger(conn, trigger, "transactions")
    with pytest.raises(HealthCheckError) as caught:
        reopen(seeded_url)
    assert trigger in caught.value.message
    steps = " ".join(caught.value.recovery_steps)
    assert "check --full -v" in steps and "backup" in steps


def test_quick_check_refuses_a_plain_index_in_place_of_a_unique_one(seeded_url: str) -> None:
    """Replacing the unique receiving index by a plain one is caught at open."""
    with unguarded(seeded_url) as conn:
        execute(conn, "DROP INDEX ix_receiving_logs_document_id_sku")
        execute(
            conn,
            "CREATE INDEX ix_receiving_logs_document_id_sku ON receiving_logs (document_id, sku)",
        )
    with pytest.raises(HealthCheckError, match="ix_receiving_logs_document_id_sku"):
        reopen(seeded_url)


def test_quick_check_refuses_a_missing_table_as_not_migrated(seeded_url: str) -> None:
    """A dropped table is reported as a schema that needs creating (NotMigratedError)."""
    with unguarded(seeded_url) as conn:
        execute(conn, "DROP TABLE kpi_daily")
    with pytest.raises(NotMigratedError, match="kpi_daily"):
        reopen(seeded_url)


def test_check_none_opens_a_damaged_database_for_inspection(seeded_url: str) -> None:
    """check=None skips the start-up check, so the damage can be reported by check_all."""
    with unguarded(seeded_url) as conn:
        execute(conn, "DROP INDEX ix_lots_sku_expiry_date")
    with reopen(seeded_url, check=None) as db:
        report = check_all(db)
    assert report.status is HealthStatus.UNHEALTHY
    assert report.result("schema_objects").sample[0]["object"] == "ix_lots_sku_expiry_date"


def test_full_check_refuses_negative_stock_that_quick_lets_through(seeded_url: str) -> None:
    """Negative stock is a ledger scan away: only check="full" finds and refuses it."""
    with unguarded(seeded_url) as conn:
        execute(
            conn,
            "INSERT INTO transactions (transaction_id, date, sku, event, qty, priority, "
            "created_at) VALUES (90, '2026-01-20', 'BIRRA', 'SALE', 3, 2, '')",
        )
    reopen(seeded_url).close()
    with pytest.raises(HealthCheckError, match="stock_never_negative"):
        reopen(seeded_url, check="full")


def test_full_check_opens_a_degraded_database(seeded_url: str) -> None:
    """A failed WARNING invariant does not stop the database from opening in full mode."""
    with unguarded(seeded_url) as conn:
        execute(conn, "UPDATE sales SET qty_sold = 99 WHERE sku = 'PASTA'")
    with reopen(seeded_url, check="full") as db:
        assert check_all(db).status is HealthStatus.DEGRADED


@pytest.fixture
def statements() -> Iterator[list[str]]:
    """Every SQL statement any engine runs while the fixture is active."""
    seen: list[str] = []

    def remember(_conn: Any, _cursor: Any, statement: str, *_args: Any) -> None:
        seen.append(statement)

    event.listen(Engine, "before_cursor_execute", remember)
    yield seen
    event.remove(Engine, "before_cursor_execute", remember)


def test_quick_check_reads_no_data_table(seeded_url: str, statements: list[str]) -> None:
    """The start-up check reads the catalogue only, so its cost does not grow with the ledger."""
    reopen(seeded_url).close()
    assert any("sqlite_master" in s or "pg_catalog" in s for s in statements)
    for statement in statements:
        lowered = statement.lower()
        assert not any(f"from {table}" in lowered for table in DATA_TABLES), statement
        assert "quick_check" not in lowered and "integrity_check" not in lowered


def test_damaged_page_is_reported_by_quick_check(sqlite_url: str) -> None:
    """A torn page in an index makes quick_check (and the report) UNHEALTHY, naming the page."""
    seeded_database(sqlite_url).close()
    damage_index_page(Path(make_url(sqlite_url).database or ""), "ix_audit_log_run_id")
    with reopen(sqlite_url, check=None) as db:
        report = check_all(db)
    result = report.result("sqlite_integrity")
    assert report.status is HealthStatus.UNHEALTHY and not result.ok
    assert "btreeInitPage" in result.sample[0]["message"]
    with pytest.raises(HealthCheckError, match="sqlite_integrity"):
        reopen(sqlite_url, check="full")
