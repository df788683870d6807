"""Restore: verification first, a dry-run plan, one transaction, and rollback on any failure."""

from __future__ import annotations

import json
import os
import shutil
import sqlite3
from collections.abc import Callable
from pathlib import Path

import pytest

from inventory_core import Database
from inventory_core.backup import BackupService, RestorePlan, RestoreResult
from inventory_core.backup.manifest import manifest_path
from inventory_core.errors import (
    RestoreChecksumError,
    RestoreError,
    RestoreManifestMissingError,
    RestoreMissingError,
    RestoreNotADatabaseError,
    RestorePathIsDirectoryError,
    RestoreRolledBackError,
    RestoreSchemaTooNewError,
    RestoreTruncatedError,
    RestoreWrongSchemaError,
)
from tests.backup_support import add_sku, all_rows, checkpointed_sha, seed, sha256
from tests.db_support import test_settings


@pytest.fixture
def service(db: Database, tmp_path: Path) -> BackupService:
    """A service over a seeded database."""
    seed(db)
    return BackupService(db, tmp_path / "backups")


def live_bytes(db: Database) -> tuple[str, ...]:
    """sha256 of the live file and of its -wal, if any."""
    assert db.path is not None
    files = [db.path, db.path.with_name(db.path.name + "-wal")]
    return tuple(sha256(f) if f.exists() else "-" for f in files)


def _rewrite_manifest_sha(path: Path) -> None:
    manifest = json.loads(manifest_path(path).read_text())
    manifest["sha256"] = sha256(path)
    manifest["size"] = path.stat().st_size
    manifest_path(path).write_text(json.dumps(manifest))


def _truncated(good: Path) -> None:
    data = good.read_bytes()
    good.write_bytes(data[: len(data) // 2 // 4096 * 4096])


def _random(good: Path) -> None:
    good.write_bytes(os.urandom(good.stat().st_size))


def _zero(good: Path) -> None:
    good.write_bytes(b"")


def _foreign_schema(good: Path) -> None:
    good.unlink()
    conn = sqlite3.connect(good)
    conn.execute("CREATE TABLE customers (id INTEGER PRIMARY KEY, name TEXT)")
    conn.execute("INSERT INTO customers VALUES (1, 'Rossi')")
    conn.commit()
    conn.close()
    _rewrite_manifest_sha(good)


def _bad_checksum(good: Path) -> None:
    manifest = json.loads(manifest_path(good).read_text())
    manifest["sha256"] = "0" * 64
    manifest_path(good).write_text(json.dumps(manifest))


def _newer_revision(good: Path) -> None:
    conn = sqlite3.connect(good)
    conn.execute("UPDATE alembic_version SET version_num = '9999_from_the_future'")
    conn.commit()
    conn.close()
    _rewrite_manifest_sha(good)


def _no_manifest(good: Path) -> None:
    manifest_path(good).unlink()


BAD_BACKUPS: list[tuple[str, Callable[[Path], None], type[RestoreError], str]] = [
    ("truncated", _truncated, RestoreTruncatedError, "BAK_012"),
    ("random-bytes", _random, RestoreNotADatabaseError, "BAK_013"),
    ("zero-length", _zero, RestoreNotADatabaseError, "BAK_013"),
    ("foreign-schema", _foreign_schema, RestoreWrongSchemaError, "BAK_014"),
    ("bad-checksum", _bad_checksum, RestoreChecksumError, "BAK_011"),
    ("newer-revision", _newer_revision, RestoreSchemaTooNewError, "BAK_015"),
    ("no-manifest", _no_manifest, RestoreManifestMissingError, "BAK_017"),
]


@pytest.mark.parametrize(
    ("spoil", "error", "code"), [b[1:] for b in BAD_BACKUPS], ids=[b[0] for b in BAD_BACKUPS]
)
def test_bad_backup_is_refused_and_the_live_database_keeps_its_bytes(
    service: BackupService, spoil: Callable[[Path], None], error: type[RestoreError], code: str
) -> None:
    """Each kind of bad backup raises its own RestoreError and the live file is unchanged."""
    good = service.backup("manual")
    spoil(good)
    before = live_bytes(service.db)
    with pytest.raises(error) as raised:
        service.restore(good)
    assert raised.value.code == code
    assert raised.value.recovery_steps
    assert live_bytes(service.db) == before
    assert service.verify(good)[0].code == code
    assert [e.reason for e in service.list()] == ["manual"]


def test_a_directory_or_a_missing_path_is_refused(service: BackupService, tmp_path: Path) -> None:
    """A folder and a path that does not exist get their own errors; nothing changes."""
    before = live_bytes(service.db)
    (tmp_path / "folder.db").mkdir()
    with pytest.raises(RestorePathIsDirectoryError):
        service.restore(tmp_path / "folder.db")
    with pytest.raises(RestoreMissingError):
        service.restore(tmp_path / "nope.db")
    assert live_bytes(service.db) == before


def test_dry_run_returns_the_plan_and_changes_nothing(service: BackupService) -> None:
    """The plan shows revisions, per-table counts now and after, and the safety backup name."""
    path = service.backup("manual")
    add_sku(service.db, "EXTRA")
    before = live_bytes(service.db)
    plan = service.restore(path, dry_run=True)
    assert isinstance(plan, RestorePlan)
    skus = next(t for t in plan.tables if t.table == "skus")
    assert (skus.now, skus.after, skus.delta) == (4, 3, -1)
    assert plan.revision_now == plan.revision_backup and not plan.upgrade_after
    assert "pre-restore" in plan.safety_backup.name and not plan.safety_backup.exists()
    assert live_bytes(service.db) == before


def test_restore_brings_back_the_backup_and_keeps_the_database_usable(
    service: BackupService,
) -> None:
    """After a restore the rows equal the backup's, a safety backup exists, and writes work."""
    path = service.backup("manual")
    expected = all_rows(service.db)
    add_sku(service.db, "LOST")
    result = service.restore(path)
    assert isinstance(result, RestoreResult)
    rows = all_rows(service.db)
    for table, content in expected.items():
        if table not in ("audit_log", "database_identity"):
            assert rows[table] == content, table
    assert rows["audit_log"][: len(expected["audit_log"]) - 1] == expected["audit_log"][:-1]
    assert rows["audit_log"][-1][2] == "restore"
    assert rows["database_identity"][0][:3] == expected["database_identity"][0][:3]
    assert path.name in rows["database_identity"][0][3]
    assert result.safety_backup.exists() and service.verify(result.safety_backup) == []
    add_sku(service.db, "AFTER")
    assert service.db.path is not None
    leftovers = [p.name for p in service.db.path.parent.iterdir() if ".restore" in p.name]
    assert leftovers == []


def test_safety_backup_restores_what_was_there_before(service: BackupService) -> None:
    """Restoring the safety backup undoes a restore: the lost SKU comes back."""
    path = service.backup("manual")
    add_sku(service.db, "KEEPME")
    result = service.restore(path)
    assert isinstance(result, RestoreResult)
    service.restore(result.safety_backup)
    skus = [r[0] for r in all_rows(service.db)["skus"]]
    assert "KEEPME" in skus


IN_TRANSACTION = ["restore-safety-taken", "restore-replaced", "restore-before-commit"]


@pytest.mark.parametrize("step", IN_TRANSACTION)
def test_failure_inside_the_restore_transaction_leaves_the_live_file_byte_for_byte(
    service: BackupService, monkeypatch: pytest.MonkeyPatch, step: str
) -> None:
    """A failure after the lock was taken rolls back: same bytes, same rows, still writable."""
    path = service.backup("manual")
    add_sku(service.db, "OLDONLY")
    db = service.db
    assert db.path is not None
    before, inode = checkpointed_sha(db.path), os.stat(db.path).st_ino
    monkeypatch.setenv("INVENTORY_CORE_TEST_FAULT", f"enospc:{step}")
    with pytest.raises(RestoreRolledBackError) as raised:
        service.restore(path)
    monkeypatch.delenv("INVENTORY_CORE_TEST_FAULT")
    assert raised.value.code == "BAK_019"
    assert checkpointed_sha(db.path) == before and os.stat(db.path).st_ino == inode
    assert "OLDONLY" in [r[0] for r in all_rows(db)["skus"]]
    safety = Path(raised.value.context["safety_backup"])
    assert service.verify(safety) == []
    add_sku(db, "STILL-WRITABLE")
    assert not [p for p in db.path.parent.iterdir() if ".restore" in p.name]


def test_a_reader_keeps_its_snapshot_then_sees_the_restored_database(
    service: BackupService,
) -> None:
    """An open read transaction does not stop the restore; its next one reads the backup."""
    path = service.backup("manual")
    add_sku(service.db, "PENDING")
    assert service.db.path is not None
    inode = os.stat(service.db.path).st_ino
    reader = sqlite3.connect(service.db.path, isolation_level=None)
    reader.execute("BEGIN")
    assert reader.execute("SELECT count(*) FROM skus").fetchone()[0] == 4
    try:
        result = service.restore(path)
        assert reader.execute("SELECT count(*) FROM skus").fetchone()[0] == 4
        reader.execute("COMMIT")
        assert reader.execute("SELECT count(*) FROM skus").fetchone()[0] == 3
    finally:
        reader.close()
    # the backup's own BACKUP row (written after the copy) and PENDING's ADD_SKU row
    assert isinstance(result, RestoreResult) and result.writes_discarded == 2
    assert os.stat(service.db.path).st_ino == inode
    assert "PENDING" not in [r[0] for r in all_rows(service.db)["skus"]]


@pytest.mark.postgres
def test_postgresql_restore_goes_through_pg_restore(pg_url: str, tmp_path: Path) -> None:
    """On PostgreSQL a pg_dump backup restores the old rows and the database stays usable."""
    database = Database.open(pg_url, settings=test_settings())
    database.upgrade()
    try:
        seed(database, skus=2, events_per_sku=2)
        service = BackupService(database, tmp_path / "pg")
        path = service.backup("manual")
        add_sku(database, "GONE")
        service.restore(path)
        skus = [r[0] for r in all_rows(database)["skus"]]
        assert skus == ["SKU000", "SKU001"]
        add_sku(database, "NEW")
    finally:
        database.close()


def test_copy_of_backup_elsewhere_still_verifies(service: BackupService, tmp_path: Path) -> None:
    """A backup copied with its manifest to another folder verifies and restores there."""
    path = service.backup("manual")
    elsewhere = tmp_path / "usb"
    elsewhere.mkdir()
    shutil.copy2(path, elsewhere / path.name)
    shutil.copy2(manifest_path(path), elsewhere / manifest_path(path).name)
    assert service.verify(elsewhere / path.name) == []


def test_a_writer_holding_the_lock_makes_the_restore_give_up_cleanly(tmp_path: Path) -> None:
    """A lock held past the timeout raises RestoreBusyError (BAK_053); nothing changes."""
    from inventory_core.errors import RestoreBusyError

    path = tmp_path / "inventory.db"
    db = Database.open(path, settings=test_settings(writer_lock_timeout_s=0.5))
    db.upgrade()
    seed(db)
    service = BackupService(db, tmp_path / "backups")
    good = service.backup("manual")
    add_sku(db, "KEPT")
    before = checkpointed_sha(path)
    holder = sqlite3.connect(path, isolation_level=None)
    holder.execute("BEGIN IMMEDIATE")
    try:
        with pytest.raises(RestoreBusyError) as raised:
            service.restore(good)
    finally:
        holder.execute("ROLLBACK")
        holder.close()
    assert raised.value.code == "BAK_053" and raised.value.recovery_steps
    assert checkpointed_sha(path) == before
    assert [b.reason for b in service.list()] == ["manual"]
    result = service.restore(good)
    assert isinstance(result, RestoreResult)
    db.close()
