"""Database.open(read_only=True): reads anything readable, writes nothing, refuses every write.

Tests run as root, where permission bits stop no write; so besides ``chmod`` and
``chattr +i`` each test asserts that no file in the folder changed (bytes, mtime, no new
file), which holds whoever runs them.
"""

from __future__ import annotations

import hashlib
import multiprocessing
import shutil
import sqlite3
import subprocess
import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import date
from pathlib import Path

import pytest
from sqlalchemy import text

from inventory_core import Database, Inventory, audit
from inventory_core.backup import BackupService
from inventory_core.db.readonly import Access
from inventory_core.errors import (
    DatabaseNotFoundError,
    ReadOnlyDatabaseError,
    ReadOnlyModeError,
    ReadOnlyUnsafeError,
    ValidationError,
)
from inventory_core.invariants import HealthStatus, check_all
from inventory_core.opening import maintenance as upkeep
from tests.backup_support import seed, writer_loop
from tests.db_support import test_settings

Folder = dict[str, tuple[int, int, str]]


def folder_state(folder: Path) -> Folder:
    """Every file of ``folder`` with its mtime, size and sha256."""
    return {
        p.name: (p.stat().st_mtime_ns, p.stat().st_size, hashlib.sha256(p.read_bytes()).hexdigest())
        for p in sorted(folder.iterdir())
        if p.is_file()
    }


def make_shop(path: Path) -> None:
    """A migrated, seeded, closed database (no -wal left)."""
    with Database.open(path, settings=test_settings()) as db:
        db.upgrade()
        seed(db, skus=3, events_per_sku=4)


@contextmanager
def chattr_immutable(path: Path) -> Iterator[None]:
    """``chattr +i`` on ``path`` (stops root too), or skip where it is not supported."""
    chattr = shutil.which("chattr")
    if chattr is None:
        pytest.skip("chattr is not installed")
    made = subprocess.run([chattr, "+i", str(path)], capture_output=True, text=True)
    if made.returncode != 0:
        pytest.skip(f"chattr +i is not supported here: {made.stderr.strip()}")
    try:
        yield
    finally:
        subprocess.run([chattr, "-i", str(path)], check=True)


def read_everything(db: Database) -> None:
    """What the reading commands do: revision, full check, audit verify, stock."""
    assert db.revision() is not None
    assert check_all(db, full=True).status == HealthStatus.HEALTHY
    assert audit.verify(db).ok
    Inventory(db, user="reader").stock_all(asof=date(2030, 1, 1))


def test_a_writable_file_opened_read_only_keeps_every_file_as_it_was(tmp_path: Path) -> None:
    """Reading everything through a read-only open changes no file and leaves no new one."""
    path = tmp_path / "shop.db"
    make_shop(path)
    before = folder_state(tmp_path)
    with Database.open(path, settings=test_settings(), read_only=True) as db:
        assert db.read_only and db.access is Access.QUERY_ONLY
        read_everything(db)
    assert folder_state(tmp_path) == before


def test_a_read_only_file_in_a_read_only_folder_opens_without_side_files(tmp_path: Path) -> None:
    """chmod 0444 file in a 0555 folder: opens immutable, reads, and never creates -wal/-shm."""
    folder = tmp_path / "media"
    folder.mkdir()
    path = folder / "shop.db"
    make_shop(path)
    before = folder_state(folder)
    path.chmod(0o444)
    folder.chmod(0o555)
    try:
        with Database.open(path, settings=test_settings(), read_only=True) as db:
            assert db.access is Access.IMMUTABLE
            read_everything(db)
            assert sorted(p.name for p in folder.iterdir()) == ["shop.db"], "no side files"
    finally:
        folder.chmod(0o755)
        path.chmod(0o644)
    assert folder_state(folder) == before


def test_an_immutable_file_opens_read_only_instead_of_being_refused(tmp_path: Path) -> None:
    """A file even root cannot write (chattr +i): DB_008 for writing, a clean read-only open."""
    path = tmp_path / "shop.db"
    make_shop(path)
    before = folder_state(tmp_path)
    with chattr_immutable(path):
        with pytest.raises(ReadOnlyDatabaseError) as refused:
            Database.open(path, settings=test_settings())
        assert refused.value.code == "DB_008"
        with Database.open(path, settings=test_settings(), read_only=True) as db:
            assert db.access is Access.IMMUTABLE
            read_everything(db)
    assert folder_state(tmp_path) == before


@pytest.mark.parametrize("mode", [0o644, 0o444], ids=["writable", "no-write-bits"])
def test_every_write_is_refused_with_a_typed_error(tmp_path: Path, mode: int) -> None:
    """Inventory writes, run, upgrade, backup and raw SQL all raise ReadOnlyModeError."""
    path = tmp_path / "shop.db"
    make_shop(path)
    before = folder_state(tmp_path)
    path.chmod(mode)
    try:
        with Database.open(path, settings=test_settings(), read_only=True) as db:
            inv = Inventory(db, user="reader")
            attempts = [
                lambda: inv.add_sku("NEW", "New", pack_size=1, moq=1, lead_time_days=1),
                lambda: inv.sell("SKU000", 1, on=date(2026, 3, 1)),
                lambda: db.run(lambda uow: None),
                lambda: db.upgrade(),
                lambda: db.backup("manual"),
                lambda: BackupService(db).backup("manual"),
                lambda: upkeep.run(db, "analyze"),
                lambda: upkeep.run(db, "vacuum"),
                lambda: upkeep.run(db, "checkpoint"),
            ]
            for attempt in attempts:
                with pytest.raises(ReadOnlyModeError) as caught:
                    attempt()
                assert caught.value.code == "DB_020"
            with pytest.raises(ReadOnlyModeError), db.read() as uow:
                uow.execute(
                    text("INSERT INTO settings(key, value, updated_at) VALUES ('k', 'v', '')")
                )
    finally:
        path.chmod(0o644)
    assert folder_state(tmp_path) == before
    assert not (tmp_path / "backups").exists()


def test_a_read_only_open_reads_through_the_wal_of_a_live_writer(tmp_path: Path) -> None:
    """With a writer connected (a -wal exists), rows only in its WAL are seen, then new ones."""
    path = tmp_path / "shop.db"
    make_shop(path)
    writer = Database.open(path, settings=test_settings())
    try:
        Inventory(writer, user="w").add_sku(
            "WAL-1", "Only in the WAL", pack_size=1, moq=1, lead_time_days=1
        )
        assert Path(f"{path}-wal").stat().st_size > 0
        with Database.open(path, settings=test_settings(), read_only=True) as db:
            assert db.access is Access.READ_ONLY, "never immutable beside a live writer"
            reader = Inventory(db, user="r")
            assert reader.get_sku("WAL-1").description == "Only in the WAL"
            Inventory(writer, user="w").add_sku(
                "WAL-2", "Later", pack_size=1, moq=1, lead_time_days=1
            )
            assert reader.get_sku("WAL-2").description == "Later"
    finally:
        writer.close()


def test_read_only_reads_are_consistent_snapshots_beside_writer_processes(tmp_path: Path) -> None:
    """Two processes keep committing: read-only reads see whole units, and never block them."""
    path = tmp_path / "shop.db"
    make_shop(path)
    url = f"sqlite:///{path}"
    ctx = multiprocessing.get_context("spawn")
    stop = ctx.Event()
    committed = ctx.Value("i", 0)
    writers = [
        ctx.Process(target=writer_loop, args=(url, f"SKU00{n}", stop, committed)) for n in range(2)
    ]
    for w in writers:
        w.start()
    try:
        while committed.value < 20:
            time.sleep(0.01)
        with Database.open(path, settings=test_settings(), read_only=True) as db:
            assert db.access is Access.READ_ONLY
            for _ in range(5):
                during = committed.value
                with db.read() as uow:
                    events = uow.execute(text("SELECT count(*) FROM transactions")).scalar_one()
                    orders = uow.execute(
                        text("SELECT count(*) FROM audit_log WHERE operation = 'order'")
                    ).scalar_one()
                assert events == orders
                assert check_all(db).status == HealthStatus.HEALTHY
                assert audit.verify(db).ok
                deadline = time.monotonic() + 10
                while committed.value == during and time.monotonic() < deadline:
                    time.sleep(0.01)
                assert committed.value > during, "the writers kept committing"
    finally:
        stop.set()
        for w in writers:
            w.join(30)
    assert all(w.exitcode == 0 for w in writers)


def test_a_wal_without_shm_in_a_folder_nobody_can_write_is_refused(tmp_path: Path) -> None:
    """A -wal with no -shm where SQLite cannot create one gives DB_021, not a raw error."""
    source = tmp_path / "live.db"
    make_shop(source)
    keep = sqlite3.connect(source)
    keep.execute("PRAGMA wal_autocheckpoint=0")
    keep.execute("INSERT INTO settings(key, value, updated_at) VALUES ('in-wal', 'x', '')")
    keep.commit()
    folder = tmp_path / "copy"
    folder.mkdir()
    shutil.copy(source, folder / "shop.db")
    shutil.copy(f"{source}-wal", folder / "shop.db-wal")
    keep.close()
    before = folder_state(folder)
    with chattr_immutable(folder), pytest.raises(ReadOnlyUnsafeError) as caught:
        Database.open(folder / "shop.db", settings=test_settings(), read_only=True)
    assert caught.value.code == "DB_021"
    assert caught.value.recovery_steps
    assert folder_state(folder) == before


def test_a_read_only_file_can_be_backed_up_without_an_audit_row(tmp_path: Path) -> None:
    """BackupService.backup(record=False) copies a read-only, immutable file into a good backup."""
    folder = tmp_path / "media"
    folder.mkdir()
    path = folder / "shop.db"
    make_shop(path)
    before = folder_state(folder)
    path.chmod(0o444)
    try:
        with Database.open(path, settings=test_settings(), read_only=True) as db:
            service = BackupService(db, tmp_path / "copies")
            backup = service.backup("offsite", record=False)
            assert service.verify(backup) == []
    finally:
        path.chmod(0o644)
    assert folder_state(folder) == before


def test_a_backup_opened_read_only_keeps_its_checksum(tmp_path: Path) -> None:
    """A backup file (a rollback-journal file) reads read-only and still verifies afterwards."""
    path = tmp_path / "shop.db"
    make_shop(path)
    with Database.open(path, settings=test_settings()) as db:
        backup = BackupService(db).backup("manual")
        service = BackupService(db)
        assert service.verify(backup) == []
    before = folder_state(backup.parent)
    with Database.open(backup, settings=test_settings(), read_only=True) as copy:
        assert copy.access is Access.READ_ONLY
        read_everything(copy)
    assert folder_state(backup.parent) == before
    with Database.open(path, settings=test_settings()) as db:
        assert BackupService(db).verify(backup) == []


def test_a_missing_file_is_not_created_and_close_spellings_are_named(tmp_path: Path) -> None:
    """IO_003 names the existing database of a close spelling, in the file or the folder name."""
    shop = tmp_path / "stores" / "shop.db"
    shop.parent.mkdir()
    make_shop(shop)
    (tmp_path / "stores" / "notes.txt").write_text("not a database")
    cases = {
        tmp_path / "stores" / "shpo.db": shop,
        tmp_path / "stroes" / "shop.db": shop,
    }
    for missing, suggested in cases.items():
        for kwargs in ({"create": False}, {"read_only": True}):
            with pytest.raises(DatabaseNotFoundError) as caught:
                Database.open(missing, settings=test_settings(), **kwargs)  # type: ignore[arg-type]
            error = caught.value
            assert error.code == "IO_003" and str(missing) in error.message
            assert str(suggested) in error.recovery_steps[0]
            assert "notes.txt" not in " ".join(error.recovery_steps)
            assert not missing.exists() and not (tmp_path / "stroes").exists()


def test_a_missing_file_far_from_any_database_gets_no_suggestion(tmp_path: Path) -> None:
    """With nothing close by, IO_003 keeps its plain steps and creates nothing."""
    with pytest.raises(DatabaseNotFoundError) as caught:
        Database.open(tmp_path / "a" / "b" / "c.db", settings=test_settings(), read_only=True)
    assert not any("Did you mean" in step for step in caught.value.recovery_steps)
    assert list(tmp_path.iterdir()) == []


def test_read_only_refuses_to_migrate(tmp_path: Path) -> None:
    """migrate=True with read_only=True is a typed validation error, and nothing changes."""
    path = tmp_path / "shop.db"
    make_shop(path)
    before = folder_state(tmp_path)
    with pytest.raises(ValidationError):
        Database.open(path, settings=test_settings(), read_only=True, migrate=True)
    assert folder_state(tmp_path) == before


@pytest.mark.postgres
def test_postgresql_read_only_refuses_writes(pg_url: str) -> None:
    """On PostgreSQL a read-only handle reads, and refuses units of work and raw writes."""
    with Database.open(pg_url, settings=test_settings()) as db:
        db.upgrade()
        seed(db, skus=2, events_per_sku=2)
    with Database.open(pg_url, settings=test_settings(), read_only=True) as db:
        assert check_all(db).status == HealthStatus.HEALTHY
        with pytest.raises(ReadOnlyModeError):
            db.run(lambda uow: None)
        with pytest.raises(ReadOnlyModeError), db.read() as uow:
            uow.execute(text("INSERT INTO settings(key, value, updated_at) VALUES ('k', 'v', '')"))
