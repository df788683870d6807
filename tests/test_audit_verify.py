"""verify: an intact chain passes; edits, deletions, forged rows and rewrites are each named."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from inventory_core import Database, audit
from inventory_core.audit import trail
from inventory_core.errors import AuditChainBrokenError, AuditManifestError
from tests.audit_support import (
    add_sku,
    bulk_chain,
    sell,
    tamper,
)


def _five_rows(db: Database) -> None:
    add_sku(db, "BIRRA")
    for qty in (1, 2, 3, 4):
        sell(db, "BIRRA", qty)


def _forged_hash(prev: str, **fields: object) -> str:
    row = {"timestamp": "2026-01-01T00:00:00.000000Z", "operation": "sell", "user": "mallory"}
    row |= {"details": '{"qty":1,"sku":"BIRRA"}', "run_id": "forged", "duration_ms": 0.0}
    row |= fields
    return trail.row_hash(prev, row)


def _insert_sql(audit_id: int, prev: str, digest: str) -> str:
    return (
        'INSERT INTO audit_log (audit_id, timestamp, operation, "user", sku, details, run_id, '
        f"duration_ms, prev_hash, hash) VALUES ({audit_id}, '2026-01-01T00:00:00.000000Z', "
        "'sell', 'mallory', 'BIRRA', '{\"qty\":1,\"sku\":\"BIRRA\"}', 'forged', 0.0, "
        f"'{prev}', '{digest}')"
    )


def test_intact_chain_verifies(any_db: Database) -> None:
    """A chain written only through the library verifies, with its head and row count."""
    _five_rows(any_db)
    report = audit.verify(any_db)
    assert report.ok and report.first_broken_id is None and report.reason == ""
    assert (report.head_hash, report.rows_checked) == audit.head(any_db)
    assert audit.head(any_db)[1] == 5


def test_empty_chain_verifies_with_the_genesis_head(any_db: Database) -> None:
    """An empty audit log is a valid chain whose head is the genesis hash."""
    assert audit.verify(any_db) == audit.ChainReport(True, 0, audit.GENESIS_HASH)
    assert audit.head(any_db) == (audit.GENESIS_HASH, 0)


def test_edited_details_are_named(any_db: Database) -> None:
    """Changing the quantity in one row's details is reported as an edit of that row."""
    _five_rows(any_db)
    tamper(any_db, 'UPDATE audit_log SET details = \'{"qty":30,"sku":"BIRRA"}\' WHERE audit_id = 3')
    report = audit.verify(any_db)
    assert not report.ok
    assert report.first_broken_id == 3
    assert "edited" in report.reason
    assert report.head_hash == audit.tail(any_db, 5)[1].hash


def test_edit_with_recomputed_hash_is_caught_at_the_next_row(any_db: Database) -> None:
    """An edit whose own hash was recomputed still breaks the link from the next row."""
    _five_rows(any_db)
    row = audit.tail(any_db, 5)[2]
    fields = {
        "timestamp": row.timestamp,
        "operation": row.operation,
        "user": "someone-else",
        "details": trail.canonical_json(row.details),
        "run_id": row.run_id,
        "duration_ms": row.duration_ms,
        "sku": row.sku,
        "ledger": row.ledger,
    }
    digest = trail.row_hash(row.prev_hash, fields)
    tamper(
        any_db,
        f"UPDATE audit_log SET \"user\" = 'someone-else', hash = '{digest}' WHERE audit_id = 3",
    )
    report = audit.verify(any_db)
    assert (report.ok, report.first_broken_id) == (False, 4)
    assert "does not chain to row 3" in report.reason


def test_deleted_row_is_named(any_db: Database) -> None:
    """Deleting a row in the middle is reported at the row after the gap, with the gap."""
    _five_rows(any_db)
    tamper(any_db, "DELETE FROM audit_log WHERE audit_id = 3")
    report = audit.verify(any_db)
    assert (report.ok, report.first_broken_id) == (False, 4)
    assert "deleted" in report.reason and "1 audit_id values missing" in report.reason


def test_deleted_first_row_is_named(any_db: Database) -> None:
    """Deleting the first row leaves a chain that no longer starts at the genesis hash."""
    _five_rows(any_db)
    tamper(any_db, "DELETE FROM audit_log WHERE audit_id = 1")
    report = audit.verify(any_db)
    assert (report.ok, report.first_broken_id) == (False, 2)
    assert "first row" in report.reason


def test_forged_row_with_a_wrong_hash_is_named(any_db: Database) -> None:
    """A row appended by hand, chained to the head but hashed differently, is named as edited."""
    _five_rows(any_db)
    head_hash, _ = audit.head(any_db)
    tamper(any_db, _insert_sql(6, head_hash, "f" * 64))
    report = audit.verify(any_db)
    assert (report.ok, report.first_broken_id) == (False, 6)


def test_forged_row_with_a_valid_hash_inserted_before_the_first_is_named(any_db: Database) -> None:
    """A correctly hashed row slipped in before the chain's start is named as inserted."""
    _five_rows(any_db)
    forged = _forged_hash(audit.GENESIS_HASH)
    tamper(any_db, _insert_sql(0, audit.GENESIS_HASH, forged))
    report = audit.verify(any_db)
    assert (report.ok, report.first_broken_id) == (False, 0)
    assert "inserted" in report.reason


def test_raise_if_broken_carries_the_row_and_reason(any_db: Database) -> None:
    """A broken report raises AuditChainBrokenError naming the row id and the reason."""
    _five_rows(any_db)
    tamper(any_db, "DELETE FROM audit_log WHERE audit_id = 2")
    report = audit.verify(any_db)
    with pytest.raises(AuditChainBrokenError) as caught:
        report.raise_if_broken()
    assert caught.value.code == "AUD_002"
    assert caught.value.context["audit_id"] == 3
    assert "row 3" in caught.value.message


def test_verify_against_a_matching_manifest_passes(any_db: Database, tmp_path: Path) -> None:
    """A manifest taken earlier still matches after more rows were appended."""
    _five_rows(any_db)
    head_hash, rows = audit.head(any_db)
    manifest = tmp_path / "backup.manifest.json"
    manifest.write_text(json.dumps({"audit_head_hash": head_hash, "audit_rows": rows}))
    sell(any_db, "BIRRA", 1)
    assert audit.verify(any_db, against=manifest).ok
    assert audit.verify(any_db, against={"audit_head_hash": head_hash}).ok


def test_chain_rewritten_from_scratch_is_caught_by_the_manifest(any_db: Database) -> None:
    """A chain rebuilt with valid hashes verifies alone but not against the old manifest."""
    _five_rows(any_db)
    head_hash, rows = audit.head(any_db)
    statements = ["DELETE FROM audit_log"]
    prev = audit.GENESIS_HASH
    for audit_id in range(1, 6):
        digest = _forged_hash(prev)
        statements.append(_insert_sql(audit_id, prev, digest))
        prev = digest
    tamper(any_db, *statements)
    assert audit.verify(any_db, ledger=False).ok
    unsealed = audit.verify(any_db)
    assert not unsealed.ok and "sealed by no audit row" in unsealed.reason
    report = audit.verify(any_db, against={"audit_head_hash": head_hash, "audit_rows": rows})
    assert (report.ok, report.first_broken_id) == (False, 5)
    assert "rewritten" in report.reason
    headless = audit.verify(any_db, against={"audit_head_hash": head_hash})
    assert not headless.ok and "not in the chain" in headless.reason


def test_truncated_chain_is_caught_by_the_manifest(any_db: Database) -> None:
    """Deleting the newest rows leaves a valid chain that no longer reaches the manifest head."""
    _five_rows(any_db)
    head_hash, rows = audit.head(any_db)
    tamper(any_db, "DELETE FROM audit_log WHERE audit_id >= 4")
    assert audit.verify(any_db, ledger=False).ok
    assert "sealed by no audit row" in audit.verify(any_db).reason
    report = audit.verify(any_db, against={"audit_head_hash": head_hash, "audit_rows": rows})
    assert not report.ok and "truncated" in report.reason


def test_manifest_without_a_head_hash_is_refused(any_db: Database, tmp_path: Path) -> None:
    """A manifest with no audit_head_hash, or not JSON, raises AuditManifestError."""
    bad = tmp_path / "m.json"
    bad.write_text(json.dumps({"sha256": "x"}))
    with pytest.raises(AuditManifestError):
        audit.verify(any_db, against=bad)
    bad.write_text("not json")
    with pytest.raises(AuditManifestError):
        audit.verify(any_db, against=bad)


def test_progress_is_reported_in_batches(db: Database) -> None:
    """verify streams the rows and reports progress once per batch of 10,000."""
    bulk_chain(db, 25_000)
    seen: list[int] = []
    report = audit.verify(db, progress=seen.append)
    assert report.ok and report.rows_checked == 25_000
    assert seen == [10_000, 20_000, 25_000]


def test_manifest_of_an_empty_trail_matches_any_honest_chain(any_db: Database) -> None:
    """A manifest taken while the trail was empty (head None, 0 rows) accepts a valid chain."""
    _five_rows(any_db)
    assert audit.verify(any_db, against={"audit_head_hash": None, "audit_rows": 0}).ok


def test_verify_against_a_real_backup_manifest(any_db: Database, tmp_path: Path) -> None:
    """The head a backup's manifest records (the backup's own trail) is checked by verify."""
    from inventory_core.backup import BackupService

    _five_rows(any_db)
    backup = BackupService(any_db, tmp_path / "backups").backup(reason="manual")
    manifest = Path(f"{backup}.manifest.json")
    recorded = json.loads(manifest.read_text(encoding="utf-8"))
    fifth = audit.tail(any_db, 100)[4]
    assert (recorded["audit_head_hash"], recorded["audit_rows"]) == (fifth.hash, 5)
    sell(any_db, "BIRRA", 1)
    assert audit.verify(any_db, against=manifest).ok
    tamper(any_db, "DELETE FROM audit_log")
    report = audit.verify(any_db, against=manifest)
    assert not report.ok and "not in the chain" in report.reason
