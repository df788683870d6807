"""BackupService: taking, naming, listing and verifying backups on real files."""

from __future__ import annotations

import json
import sqlite3
import stat
from pathlib import Path

import pytest
from sqlalchemy import select

from inventory_core import Database
from inventory_core.audit.trail import GENESIS_HASH, row_hash
from inventory_core.backup import BackupService, RetentionPolicy
from inventory_core.backup.manifest import manifest_path
from inventory_core.models import AuditLog
from tests.backup_support import count_orders_and_audit, seed, sha256
from tests.db_support import test_settings


@pytest.fixture
def service(db: Database, tmp_path: Path) -> BackupService:
    """A service over the seeded test database."""
    seed(db)
    return BackupService(db, tmp_path / "backups")


def test_backup_is_one_private_self_contained_file(service: BackupService) -> None:
    """The backup is mode 0600, in rollback-journal mode, with no -wal/-shm beside it."""
    path = service.backup("manual")
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert not Path(str(path) + "-wal").exists()
    conn = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
    try:
        assert conn.execute("PRAGMA journal_mode").fetchone()[0] == "delete"
        assert conn.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
    finally:
        conn.close()
    assert sorted(p.name for p in path.parent.iterdir()) == [
        path.name,
        path.name + ".manifest.json",
    ]


def test_backup_name_carries_stem_timestamp_and_reason(service: BackupService) -> None:
    """The name is <stem>_YYYYMMDD_HHMMSS_<reason>.db and same-second backups differ."""
    first = service.backup("before sale!")
    second = service.backup("before sale!")
    assert first.name.startswith("inventory_") and first.name.endswith("_before-sale.db")
    assert first != second
    assert len(service.list()) == 2


def test_manifest_records_checksum_counts_and_audit_head(service: BackupService) -> None:
    """The manifest's sha256, size, row counts and audit head match the backup file."""
    path = service.backup("manual")
    manifest = json.loads(manifest_path(path).read_text())
    assert manifest["sha256"] == sha256(path)
    assert manifest["size"] == path.stat().st_size
    assert manifest["row_counts"]["skus"] == 3
    assert manifest["row_counts"]["transactions"] == 15
    conn = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
    head = conn.execute("SELECT hash FROM audit_log ORDER BY audit_id DESC LIMIT 1").fetchone()
    conn.close()
    assert manifest["audit_head_hash"] == head[0]
    assert manifest["schema_revision"] == service.db.revision()
    assert manifest["reason"] == "manual" and manifest["run_id"]
    assert manifest["created_at"].endswith("+00:00")


def test_backup_appends_an_audit_row_to_the_live_database(service: BackupService) -> None:
    """Each backup adds one BACKUP audit row, chained, to the live database only."""
    path = service.backup("manual")
    with service.db.read() as uow:
        rows = uow.execute(select(AuditLog.__table__).order_by(AuditLog.audit_id)).all()
    assert rows[-1].operation == "backup"
    assert json.loads(rows[-1].details)["file"] == path.name
    prev = GENESIS_HASH
    for row in rows:
        assert row.prev_hash == prev
        prev = row_hash(
            prev,
            {
                f: getattr(row, f)
                for f in (
                    "timestamp",
                    "operation",
                    "user",
                    "details",
                    "run_id",
                    "duration_ms",
                    "sku",
                    "ledger",
                )
            },
        )
        assert row.hash == prev
    assert count_orders_and_audit(path) == (15, 15)


def test_list_is_newest_first_with_reason_size_and_verified_flag(service: BackupService) -> None:
    """list() returns the newest backup first, with its reason, size and verified flag."""
    older = service.backup("one")
    newer = service.backup("two")
    entries = service.list()
    assert [e.path for e in entries] == [newer, older]
    assert entries[0].reason == "two" and entries[0].size == newer.stat().st_size
    assert all(e.verified for e in entries)
    assert entries[0].age.total_seconds() >= 0


def test_list_ignores_temporary_and_foreign_files(service: BackupService) -> None:
    """Half-written temp files and other databases' backups are not listed."""
    service.directory.mkdir(parents=True, exist_ok=True)
    (service.directory / ".inventory_20260101_000000_manual.db.tmp").write_bytes(b"x")
    (service.directory / "other_20260101_000000_manual.db").write_bytes(b"x")
    assert service.list() == []


def test_verify_accepts_a_good_backup_and_reports_a_flipped_byte(service: BackupService) -> None:
    """verify() finds nothing on a fresh backup and a checksum problem after one byte changes."""
    path = service.backup("manual")
    assert service.verify(path) == []
    data = bytearray(path.read_bytes())
    data[-10] ^= 0xFF
    path.write_bytes(bytes(data))
    codes = [p.code for p in service.verify(path)]
    assert "BAK_011" in codes


def test_database_backup_applies_retention(db: Database, tmp_path: Path) -> None:
    """db.backup() (the automatic path) prunes with the default policy and keeps the newest."""
    seed(db, skus=1, events_per_sku=1)
    paths = [db.backup("auto") for _ in range(12)]
    left = BackupService(db, db.settings.backup_dir).list()
    assert len(left) == 10
    assert left[0].path == paths[-1]
    assert len(list(db.settings.backup_dir.iterdir())) == 20  # each kept backup + manifest


def test_open_with_backup_on_open_backs_up_a_non_empty_database(
    sqlite_url: str, tmp_path: Path
) -> None:
    """Opening a non-empty database with backup_on_open leaves an 'open' backup behind."""
    first = Database.open(sqlite_url, settings=test_settings())
    first.upgrade()
    seed(first, skus=1, events_per_sku=1)
    first.close()
    with Database.open(sqlite_url, settings=test_settings(), backup_on_open=True) as again:
        entries = BackupService(again, again.settings.backup_dir).list()
    assert [e.reason for e in entries] == ["open"]
    assert entries[0].verified


def test_custom_retention_policy_is_used(service: BackupService) -> None:
    """A service built with keep_last=1 and no calendar buckets keeps one backup."""
    service.retention = RetentionPolicy(keep_last=1, daily=0, weekly=0, monthly=0)
    service.backup("a")
    newest = service.backup("b")
    service.apply_retention()
    assert [e.path for e in service.list()] == [newest]


@pytest.mark.postgres
def test_postgresql_backup_uses_pg_dump_with_the_same_manifest(pg_url: str) -> None:
    """On PostgreSQL the backup is a pg_dump archive with a verified manifest."""
    database = Database.open(pg_url, settings=test_settings())
    database.upgrade()
    try:
        seed(database, skus=2, events_per_sku=2)
        service = BackupService(database, Path("pgbackups"))
        path = service.backup("manual")
        manifest = json.loads(manifest_path(path).read_text())
        assert path.suffix == ".dump" and manifest["method"] == "pg_dump"
        assert manifest["row_counts"]["transactions"] == 4
        assert manifest["sha256"] == sha256(path)
        assert service.verify(path) == []
    finally:
        database.close()
