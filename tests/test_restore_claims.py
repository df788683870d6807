"""Verify and restore check what the backup holds, not only its checksum.

Each tampered backup below keeps a manifest whose sha256 and size match the file (an
attacker, or a careless tool, can always recompute them); verify and restore must still
refuse it with its own typed error, and the live database must keep its exact bytes.
"""

from __future__ import annotations

import json
import shutil
import sqlite3
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from typer.testing import CliRunner

from inventory_core import Database
from inventory_core.backup import BackupService, RestorePlan, RestoreResult
from inventory_core.backup.manifest import manifest_path
from inventory_core.cli import app
from inventory_core.db import migrations
from inventory_core.db.engine import make_engine
from inventory_core.errors import (
    RestoreAuditChainError,
    RestoreBackupChangedError,
    RestoreError,
    RestoreManifestMismatchError,
    RestoreOtherDatabaseError,
    RestoreRolledBackError,
)
from tests.backup_support import add_sku, all_rows, checkpointed_sha, seed, sha256
from tests.db_support import test_settings

OLD_REVISION = "0004_ledger_coverage"  # the revision before database identities


@pytest.fixture
def service(db: Database, tmp_path: Path) -> BackupService:
    """A service over a seeded database."""
    seed(db)
    return BackupService(db, tmp_path / "backups")


def _edit_manifest(path: Path, **changes: object) -> None:
    manifest = json.loads(manifest_path(path).read_text())
    manifest.update(changes)
    manifest["sha256"], manifest["size"] = sha256(path), path.stat().st_size
    manifest_path(path).write_text(json.dumps(manifest))


def _edit_audit_row(path: Path) -> None:
    """What a forger does: lift the append-only trigger, edit a row, put the trigger back."""
    conn = sqlite3.connect(path, isolation_level=None)
    trigger = conn.execute(
        "SELECT sql FROM sqlite_master WHERE name = 'trg_audit_log_no_update'"
    ).fetchone()[0]
    conn.execute("DROP TRIGGER trg_audit_log_no_update")
    conn.execute("UPDATE audit_log SET user = 'someone-else' WHERE audit_id = 2")
    conn.execute(trigger)
    conn.close()
    _edit_manifest(path)


def _lying_counts(path: Path) -> None:
    counts = json.loads(manifest_path(path).read_text())["row_counts"]
    _edit_manifest(path, row_counts={**counts, "skus": counts["skus"] + 5})


def _wrong_head(path: Path) -> None:
    _edit_manifest(path, audit_head_hash="f" * 64)


def _wrong_revision(path: Path) -> None:
    _edit_manifest(path, schema_revision=OLD_REVISION)


def _wrong_identity(path: Path) -> None:
    _edit_manifest(path, database_id="00000000-0000-0000-0000-000000000000")


TAMPERED: list[tuple[str, Callable[[Path], None], type[RestoreError], str]] = [
    ("audit-row-edited", _edit_audit_row, RestoreAuditChainError, "BAK_051"),
    ("lying-row-counts", _lying_counts, RestoreManifestMismatchError, "BAK_050"),
    ("wrong-head-hash", _wrong_head, RestoreManifestMismatchError, "BAK_050"),
    ("wrong-schema-revision", _wrong_revision, RestoreManifestMismatchError, "BAK_050"),
    ("wrong-identity-claim", _wrong_identity, RestoreManifestMismatchError, "BAK_050"),
]


@pytest.mark.parametrize(
    ("spoil", "error", "code"), [t[1:] for t in TAMPERED], ids=[t[0] for t in TAMPERED]
)
def test_tampered_backup_is_refused_and_the_live_file_keeps_its_bytes(
    service: BackupService, spoil: Callable[[Path], None], error: type[RestoreError], code: str
) -> None:
    """A backup edited behind a recomputed sha256 is refused by verify, the plan and restore."""
    good = service.backup("manual")
    spoil(good)
    db = service.db
    assert db.path is not None
    before = checkpointed_sha(db.path)
    problems = service.verify(good)
    assert problems and problems[0].code == code
    for dry_run in (True, False):
        with pytest.raises(error) as raised:
            service.restore(good, dry_run=dry_run)
        assert raised.value.code == code and raised.value.recovery_steps
    assert checkpointed_sha(db.path) == before
    assert [b.reason for b in service.list()] == ["manual"]  # no safety backup either


def _other_database(tmp_path: Path) -> Path:
    """A good backup of another database (same schema, its own identity and history)."""
    other = Database.open(tmp_path / "other" / "shop.db", settings=test_settings())
    other.upgrade()
    seed(other, skus=2, events_per_sku=1)
    path = BackupService(other, tmp_path / "backups").backup("other")
    other.close()
    return path


def test_backup_of_another_database_is_refused_unless_asked(
    service: BackupService, tmp_path: Path
) -> None:
    """Another database's backup is refused (BAK_052) and accepted with allow_other_database."""
    foreign = _other_database(tmp_path)
    db = service.db
    assert db.path is not None
    before = checkpointed_sha(db.path)
    assert [p.code for p in service.verify(foreign)] == ["BAK_052"]
    assert service.verify(foreign, allow_other_database=True) == []
    with pytest.raises(RestoreOtherDatabaseError) as raised:
        service.restore(foreign)
    assert raised.value.code == "BAK_052"
    assert checkpointed_sha(db.path) == before
    plan = service.restore(foreign, dry_run=True, allow_other_database=True)
    assert isinstance(plan, RestorePlan) and plan.other_database
    result = service.restore(foreign, allow_other_database=True)
    assert isinstance(result, RestoreResult)
    assert [r[0] for r in all_rows(db)["skus"]] == ["SKU000", "SKU001"]


def test_plan_shows_the_rows_of_the_backup_file_itself(service: BackupService) -> None:
    """The 'after' column counts the backup file's rows, equal to what the restore brings."""
    path = service.backup("manual")
    add_sku(service.db, "EXTRA")
    plan = service.restore(path, dry_run=True)
    assert isinstance(plan, RestorePlan)
    conn = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
    try:
        for diff in plan.tables:
            found = conn.execute(f'SELECT count(*) FROM "{diff.table}"').fetchone()[0]
            assert diff.after == found, diff.table
    finally:
        conn.close()
    assert plan.sha256 == sha256(path) and plan.audit_rows_backup > 0


def test_a_backup_changed_after_its_plan_is_refused(service: BackupService) -> None:
    """Swapping the backup and its manifest after the plan was confirmed is caught (BAK_054)."""
    first = service.backup("first")
    add_sku(service.db, "LATER")
    second = service.backup("second")
    plan = service.restore(first, dry_run=True)
    assert isinstance(plan, RestorePlan)
    shutil.copy(second, first)
    shutil.copy(manifest_path(second), manifest_path(first))
    _edit_manifest(first, file=first.name)
    with pytest.raises(RestoreBackupChangedError) as raised:
        service.restore(first, plan=plan)
    assert raised.value.code == "BAK_054"
    assert "LATER" in [r[0] for r in all_rows(service.db)["skus"]]


def _as_old_backup(path: Path) -> None:
    """Turn a backup into one taken before database identities (later tables gone too)."""
    engine = make_engine(path, test_settings())
    migrations.downgrade(engine, OLD_REVISION)
    engine.dispose()
    conn = sqlite3.connect(path, isolation_level=None)
    conn.execute("PRAGMA journal_mode=DELETE")
    tables = {r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
    conn.close()
    manifest = json.loads(manifest_path(path).read_text())
    counts = {k: v for k, v in manifest["row_counts"].items() if k in tables}
    manifest.pop("database_id")
    _edit_manifest(path, schema_revision=OLD_REVISION, row_counts=counts)
    manifest_path(path).write_text(
        json.dumps({**json.loads(manifest_path(path).read_text()), "database_id": None})
    )


def test_a_backup_from_before_identities_is_upgraded_and_keeps_the_live_identity(
    service: BackupService,
) -> None:
    """A backup from before identities restores: upgraded on its copy, the live identity kept."""
    path = service.backup("old")
    _as_old_backup(path)
    identity = all_rows(service.db)["database_identity"][0][1]
    add_sku(service.db, "NEWER")
    assert service.verify(path) == []
    result = service.restore(path)
    assert isinstance(result, RestoreResult) and result.upgraded
    assert service.db.revision() == migrations.head_revision()
    assert all_rows(service.db)["database_identity"][0][1] == identity
    assert "NEWER" not in [r[0] for r in all_rows(service.db)["skus"]]


def test_an_old_backup_of_another_database_is_told_apart_by_its_audit_chain(
    service: BackupService, tmp_path: Path
) -> None:
    """Without identities, a backup whose chain starts elsewhere is another database's."""
    foreign = _other_database(tmp_path)
    _as_old_backup(foreign)
    assert [p.code for p in service.verify(foreign)] == ["BAK_052"]
    with pytest.raises(RestoreOtherDatabaseError):
        service.restore(foreign)


def test_cli_verify_and_restore_refuse_tampered_and_foreign_backups(
    db: Database, tmp_path: Path
) -> None:
    """'verify' exits 1 with the code; 'restore --yes' refuses; --other-database accepts."""
    seed(db)
    service = BackupService(db, tmp_path / "backups")
    tampered = service.backup("tampered")
    _edit_audit_row(tampered)
    foreign = _other_database(tmp_path)
    assert db.path is not None
    before = checkpointed_sha(db.path)
    runner = CliRunner()
    base = ["--db", str(db.path)]
    env = {"INVENTORY_CORE_BACKUP_DIR": str(tmp_path / "backups")}
    verified = runner.invoke(app, [*base, "verify", str(tampered)], env=env)
    assert verified.exit_code == 1 and "BAK_051" in verified.output
    refused = runner.invoke(app, [*base, "restore", str(foreign), "--yes"], env=env)
    assert refused.exit_code != 0 and "BAK_052" in refused.output
    assert checkpointed_sha(db.path) == before
    accepted = runner.invoke(
        app, [*base, "restore", str(foreign), "--yes", "--other-database"], env=env
    )
    assert accepted.exit_code == 0, accepted.output
    assert "another database" in accepted.output


@pytest.fixture
def pg_service(pg_url: str, tmp_path: Path) -> Iterator[BackupService]:
    """A service over a seeded PostgreSQL database."""
    database = Database.open(pg_url, settings=test_settings())
    database.upgrade()
    seed(database, skus=2, events_per_sku=2)
    yield BackupService(database, tmp_path / "pg")
    database.close()


PG_TAMPERED: list[tuple[str, Callable[[Path], None]]] = [
    ("lying-row-counts", _lying_counts),
    ("wrong-head-hash", _wrong_head),
    ("wrong-schema-revision", _wrong_revision),
    ("wrong-identity-claim", _wrong_identity),
]


@pytest.mark.postgres
@pytest.mark.parametrize("spoil", [t[1] for t in PG_TAMPERED], ids=[t[0] for t in PG_TAMPERED])
def test_postgresql_dump_claims_are_read_from_the_dump(
    pg_service: BackupService, spoil: Callable[[Path], None]
) -> None:
    """A dump whose manifest lies (sha256 recomputed) is refused before pg_restore runs."""
    dump = pg_service.backup("manual")
    spoil(dump)
    add_sku(pg_service.db, "KEPT")
    assert [p.code for p in pg_service.verify(dump)][:1] == ["BAK_050"]
    with pytest.raises(RestoreManifestMismatchError):
        pg_service.restore(dump)
    assert "KEPT" in [r[0] for r in all_rows(pg_service.db)["skus"]]


@pytest.mark.postgres
def test_postgresql_dump_of_another_database_is_refused(
    pg_service: BackupService, pg_server: str, tmp_path: Path
) -> None:
    """Another PostgreSQL database's dump carries its identity and is refused (BAK_052)."""
    from tests.db_support import fresh_pg_database

    with fresh_pg_database(pg_server) as other_url:
        other = Database.open(other_url, settings=test_settings())
        other.upgrade()
        seed(other, skus=1, events_per_sku=1)
        foreign = BackupService(other, tmp_path / "other").backup("other")
        other.close()
    assert [p.code for p in pg_service.verify(foreign)] == ["BAK_052"]
    with pytest.raises(RestoreOtherDatabaseError):
        pg_service.restore(foreign)


@pytest.mark.postgres
def test_postgresql_restore_with_a_broken_chain_puts_the_safety_dump_back(
    pg_service: BackupService,
) -> None:
    """A dump whose audit chain does not verify is caught after pg_restore and undone."""
    from sqlalchemy import text

    db = pg_service.db
    with db.unit_of_work() as uow:
        uow.execute(text("ALTER TABLE audit_log DISABLE TRIGGER USER"))
        uow.execute(text('UPDATE audit_log SET "user" = :u WHERE audit_id = 2'), {"u": "forger"})
        uow.execute(text("ALTER TABLE audit_log ENABLE TRIGGER USER"))
        uow.commit()
    forged = pg_service.backup("forged")
    with db.unit_of_work() as uow:
        uow.execute(text("ALTER TABLE audit_log DISABLE TRIGGER USER"))
        uow.execute(text('UPDATE audit_log SET "user" = :u WHERE audit_id = 2'), {"u": "tester"})
        uow.execute(text("ALTER TABLE audit_log ENABLE TRIGGER USER"))
        uow.commit()
    add_sku(db, "LATER")
    with pytest.raises(RestoreRolledBackError) as raised:
        pg_service.restore(forged)
    assert "BAK_051" in str(raised.value.__cause__)
    assert "LATER" in [r[0] for r in all_rows(db)["skus"]]
    from inventory_core.audit.verify import verify

    assert verify(db).ok


@pytest.mark.postgres
def test_postgresql_dump_from_before_identities_is_upgraded_and_keeps_the_live_identity(
    pg_service: BackupService,
) -> None:
    """A revision-0002 dump restores on PostgreSQL: upgraded, the live identity kept."""
    from inventory_core.db.engine import ConnectionTracker

    db = pg_service.db
    migrations.downgrade(db.engine, OLD_REVISION)
    old = Database(
        db.url, make_engine(db.url, test_settings()), test_settings(), ConnectionTracker(5)
    )
    try:
        dump = BackupService(old, pg_service.directory).backup("old", record=False)
    finally:
        old.engine.dispose()
    migrations.upgrade(db.engine, "head")
    identity = all_rows(db)["database_identity"][0][1]
    add_sku(db, "NEWER")
    assert pg_service.verify(dump) == []
    result = pg_service.restore(dump)
    assert isinstance(result, RestoreResult) and result.upgraded
    assert db.revision() == migrations.head_revision()
    assert all_rows(db)["database_identity"][0][1] == identity
    assert "NEWER" not in [r[0] for r in all_rows(db)["skus"]]
