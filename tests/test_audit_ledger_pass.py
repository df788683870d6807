"""The ledger pass of audit verify in a second process: the same findings, the walk's snapshot."""

from __future__ import annotations

from datetime import date

from inventory_core import Database, Inventory
from inventory_core.audit import coverage, ledger_pass
from tests.test_ledger_coverage import shop, tamper_ledger


def side_report(db: Database, *, commit_between: bool = False) -> object:
    """Run the second process against a read transaction of this process, as verify does."""
    assert db.path is not None
    with db.read() as uow:
        side = ledger_pass.LedgerPass(db.path)
        try:
            if commit_between:
                Inventory(db, user="tester").sell("BIRRA", 1, on=date(2026, 2, 20))
            top = uow.execute(ledger_pass.top_statement()).scalar()
            side.start(top)
            return side.result(), coverage.check(uow)
        finally:
            side.close()


def test_the_second_process_reports_what_the_walks_transaction_finds(db: Database) -> None:
    """On an intact shop the second process's report equals the check run in-process."""
    shop(db)
    found, expected = side_report(db)  # type: ignore[misc]
    assert found is not None and found.ok
    assert found == expected


def test_the_second_process_names_the_same_tampering(db: Database) -> None:
    """A sale's quantity edited behind the library's back: both reports name the same rows."""
    ids = shop(db)
    tamper_ledger(db, f"UPDATE transactions SET qty = 50 WHERE transaction_id = {ids['sale']}")
    found, expected = side_report(db)  # type: ignore[misc]
    assert found is not None and not found.ok and "edited" in found.reason
    assert found == expected


def test_a_commit_before_the_second_snapshot_discards_its_report(db: Database) -> None:
    """A write committed after the probe's first look: the report cannot stand for the walk."""
    shop(db)
    found, expected = side_report(db, commit_between=True)  # type: ignore[misc]
    assert found is None
    assert expected.ok


def test_verify_decides_by_the_trails_length() -> None:
    """Left to itself, verify uses the second process only for a long trail on 2+ CPUs."""
    assert ledger_pass.wanted(True, 1) and not ledger_pass.wanted(False, 10**9)
    assert not ledger_pass.wanted(None, ledger_pass.MIN_AUDIT_ROWS - 1)
