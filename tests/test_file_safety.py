"""Files are created safely: no planted link is followed, data files are 0600, leftovers go.

Each attack plants symbolic links at the names the library will use, predicted with the
library's own naming function over a range of timestamps, and checks that the link's
target (a 1,400-byte file, mode 0644) keeps its bytes and mode.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import stat
import subprocess
import sys
import zipfile
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from structlog.testing import capture_logs

from inventory_core import Database, errors
from inventory_core.backup import BackupService, debug_bundle, export_csv
from inventory_core.backup.catalog import new_backup_path
from tests.backup_support import bulk_settings, seed
from tests.db_support import test_settings

REPO = Path(__file__).resolve().parents[1]
VICTIM_BYTES = bytes(range(256)) * 5 + b"x" * 120  # 1,400 bytes


@pytest.fixture
def victim(tmp_path: Path) -> Iterator[Path]:
    """A file outside every folder the library writes to, that must never change."""
    path = tmp_path / "elsewhere" / "precious.txt"
    path.parent.mkdir()
    path.write_bytes(VICTIM_BYTES)
    path.chmod(0o644)
    yield path
    assert path.read_bytes() == VICTIM_BYTES, "a planted link was written through"
    assert stat.S_IMODE(path.stat().st_mode) == 0o644, "a planted link changed the mode"


@pytest.fixture
def umask_022() -> Iterator[None]:
    """Run with the common umask 022, under which a plain open() gives 0644 files."""
    old = os.umask(0o022)
    yield
    os.umask(old)


def _mode(path: Path) -> int:
    info = os.lstat(path)
    assert stat.S_ISREG(info.st_mode), f"{path} is not a regular file"
    return stat.S_IMODE(info.st_mode)


def _predicted_backups(folder: Path, stem: str, seconds: int = 40) -> list[Path]:
    """The names a backup taken in the next ``seconds`` would get (and their -2, -3)."""
    now = datetime.now(UTC)
    names: list[Path] = []
    for offset in range(-2, seconds):
        first = new_backup_path(folder, stem, "manual", ".db", now + timedelta(seconds=offset))
        names.append(first)
        for seq in (2, 3):
            head, _, tail = first.name.partition("_manual")
            names.append(first.with_name(f"{head}-{seq}_manual{tail}"))
    return names


def _plant(links: list[Path], target: Path) -> None:
    for link in links:
        link.symlink_to(target)


def test_a_link_planted_at_the_backup_temp_name_is_not_followed(
    db: Database, tmp_path: Path, victim: Path
) -> None:
    """Links at every predictable temp name leave their target intact; the backup is real."""
    seed(db)
    folder = tmp_path / "backups"
    folder.mkdir()
    _plant([p.with_name(f".{p.name}.tmp") for p in _predicted_backups(folder, "inventory")], victim)
    service = BackupService(db, folder)
    path = service.backup("manual")
    assert _mode(path) == 0o600 and service.verify(path) == []


def test_links_planted_at_the_manifest_names_are_not_followed(
    db: Database, tmp_path: Path, victim: Path
) -> None:
    """Links at the manifest's temp and final names leave their target intact."""
    folder = tmp_path / "backups"
    folder.mkdir()
    for path in _predicted_backups(folder, "inventory"):
        manifest = path.with_name(f"{path.name}.manifest.json")
        _plant([manifest, manifest.with_name(f".{manifest.name}.tmp")], victim)
    path = BackupService(db, folder).backup("manual")
    assert _mode(path.with_name(f"{path.name}.manifest.json")) == 0o600


def test_folders_at_the_temp_names_are_left_alone_and_the_backup_takes_another_name(
    db: Database, tmp_path: Path
) -> None:
    """A folder at a temp name is not the library's: it is kept, and a free name is used."""
    folder = tmp_path / "backups"
    folder.mkdir()
    blocked = [p.with_name(f".{p.name}.tmp") for p in _predicted_backups(folder, "inventory", 20)]
    for path in blocked[::3]:  # the first name of each second
        path.mkdir()
    taken = BackupService(db, folder).backup("manual")
    assert _mode(taken) == 0o600 and taken.with_name(f".{taken.name}.tmp") not in blocked[::3]
    assert all(p.is_dir() for p in blocked[::3])


def test_a_private_file_refuses_any_existing_name_and_never_creates_through_a_link(
    tmp_path: Path, victim: Path
) -> None:
    """Exclusive, no-follow creation fails on a link (dangling or not) and writes nothing."""
    from inventory_core.backup.private import PrivateFile

    live_link, dangling = tmp_path / "live", tmp_path / "dangling"
    live_link.symlink_to(victim)
    dangling.symlink_to(tmp_path / "elsewhere" / "new-file")
    for link in (live_link, dangling):
        with pytest.raises(errors.UnsafeFileError) as raised:
            PrivateFile(link)
        assert raised.value.code == "IO_010" and raised.value.recovery_steps
    assert not (tmp_path / "elsewhere" / "new-file").exists()


def test_sqlite_never_opens_a_temp_name_swapped_for_a_link(
    db: Database, tmp_path: Path, victim: Path
) -> None:
    """A temp file replaced by a link after its creation is refused before SQLite writes."""
    from inventory_core.backup.private import PrivateFile
    from inventory_core.backup.sqlite_copy import online_copy

    assert db.path is not None
    with PrivateFile(tmp_path / ".copy.db.tmp") as dest:
        swap = tmp_path / ".swap"
        swap.symlink_to(victim)
        os.replace(swap, dest.path)
        with pytest.raises(errors.UnsafeFileError):
            online_copy(db.path, dest)


def test_a_link_planted_at_the_restore_journal_temp_name_is_not_followed(
    db: Database, tmp_path: Path, victim: Path
) -> None:
    """The restore journal's temp file is created safely: the link's target is untouched."""
    seed(db)
    service = BackupService(db, tmp_path / "backups")
    backup = service.backup("good")
    assert db.path is not None
    (db.path.parent / f".{db.path.name}.restore.json.tmp").symlink_to(victim)
    service.restore(backup)
    assert db.revision() is not None


def test_data_files_are_private_under_umask_022(
    db: Database, tmp_path: Path, umask_022: None
) -> None:
    """Backup, manifest, every snapshot file, the snapshot zip and the bundle are 0600."""
    seed(db)
    path = BackupService(db, tmp_path / "backups").backup("manual")
    assert _mode(path) == 0o600
    assert _mode(path.with_name(f"{path.name}.manifest.json")) == 0o600
    folder = export_csv(db, tmp_path / "snapshot")
    assert stat.S_IMODE(folder.stat().st_mode) == 0o700
    files = sorted(folder.iterdir())
    assert len(files) > 3 and {_mode(f) for f in files} == {0o600}
    assert _mode(export_csv(db, tmp_path / "snap.zip", zip=True)) == 0o600
    assert _mode(debug_bundle(db, tmp_path / "bundle.zip")) == 0o600


def test_links_planted_at_the_snapshot_zip_names_are_not_followed(
    db: Database, tmp_path: Path, victim: Path
) -> None:
    """Links at the zip's temp and final names: the target is untouched, the zip is real."""
    target = tmp_path / "snap.zip"
    _plant([target, tmp_path / ".snap.zip.tmp"], victim)
    written = export_csv(db, target, zip=True)
    assert written == target and _mode(written) == 0o600
    assert "manifest.json" in zipfile.ZipFile(written).namelist()
    assert list(victim.parent.iterdir()) == [victim]


def test_links_planted_in_the_export_folder_while_it_is_written_are_not_followed(
    db: Database, tmp_path: Path, victim: Path
) -> None:
    """Links planted at the final names mid-export are replaced, never written through."""
    from inventory_core.models import metadata

    folder = tmp_path / "snapshot"
    names = [f"{t}.csv" for t in metadata.tables] + ["manifest.json", "README.txt"]
    before = victim.read_bytes()

    def plant(_table: str, _rows: int) -> None:
        for name in names:
            if not os.path.lexists(folder / name):
                (folder / name).symlink_to(victim)

    export_csv(db, folder, progress=plant)
    assert victim.read_bytes() == before and _mode(victim) == 0o644
    manifest = json.loads((folder / "manifest.json").read_text(encoding="utf-8"))
    written = [folder / "manifest.json"] + [folder / t["file"] for t in manifest["tables"].values()]
    assert all(not p.is_symlink() and _mode(p) == 0o600 for p in written)


def test_links_planted_at_the_bundle_names_are_not_followed(
    db: Database, tmp_path: Path, victim: Path
) -> None:
    """Links at the bundle's temp names and final name leave the target intact."""
    target = tmp_path / "bundle.zip"
    _plant([target, tmp_path / ".bundle.zip.tmp", tmp_path / ".bundle.zip.db.tmp"], victim)
    written = debug_bundle(db, target)
    assert written == target and _mode(written) == 0o600
    assert "database.db" in zipfile.ZipFile(written).namelist()
    assert list(victim.parent.iterdir()) == [victim]


def test_a_link_in_the_logs_folder_does_not_carry_its_target_into_the_bundle(
    db: Database, tmp_path: Path, victim: Path
) -> None:
    """A link named like a log file is left out of the bundle (it could point at a key)."""
    logs = tmp_path / "logs"
    logs.mkdir()
    (logs / "inventory.log").write_text("an event\n")
    (logs / "keys.log").symlink_to(victim)
    archive = zipfile.ZipFile(debug_bundle(db, tmp_path / "b.zip"))
    assert "logs/inventory.log" in archive.namelist()
    assert [n for n in archive.namelist() if n.startswith("logs/")] == ["logs/inventory.log"]
    assert all(VICTIM_BYTES not in archive.read(name) for name in archive.namelist())


def test_a_link_named_like_a_backup_is_not_listed(db: Database, tmp_path: Path) -> None:
    """Only regular files are backups: a link with a backup's name is ignored."""
    service = BackupService(db, tmp_path / "backups")
    real = service.backup("manual")
    fake = real.with_name("inventory_20200101_000000_manual.db")
    fake.symlink_to(real)
    assert [b.path for b in service.list()] == [real]


def test_a_dangling_link_as_backup_folder_is_refused(db: Database, tmp_path: Path) -> None:
    """A backup folder that links to nowhere is refused, and nothing is created there."""
    link = tmp_path / "backups-link"
    link.symlink_to(tmp_path / "nowhere" / "deep")
    with pytest.raises(errors.BackupFolderUnsafeError) as raised:
        BackupService(db, link).backup("manual")
    assert raised.value.code == "BAK_030"
    assert not (tmp_path / "nowhere").exists()


def test_a_folder_everyone_may_write_to_is_refused_unless_sticky(
    db: Database, tmp_path: Path
) -> None:
    """A world-writable backup folder is refused; with the sticky bit (like /tmp) it is used."""
    folder = tmp_path / "shared"
    folder.mkdir()
    folder.chmod(0o777)
    with pytest.raises(errors.BackupFolderUnsafeError):
        BackupService(db, folder).backup("manual")
    assert list(folder.iterdir()) == []
    folder.chmod(0o1777)
    assert BackupService(db, folder).backup("manual").is_file()


def test_a_temp_file_held_by_a_running_backup_is_neither_removed_nor_reused(
    db: Database, tmp_path: Path
) -> None:
    """A temp name still held (locked) by a backup in progress is left alone; another is used."""
    from inventory_core.backup.private import PrivateFile

    folder = tmp_path / "backups"
    folder.mkdir()
    held = []
    for path in _predicted_backups(folder, "inventory", 20)[::3]:
        temp = PrivateFile(path.with_name(f".{path.name}.tmp"))
        os.write(temp.fd, b"being written")
        held.append(temp)
    try:
        taken = BackupService(db, folder).backup("manual")
        assert all(t.is_at(t.path) and t.path.read_bytes() == b"being written" for t in held)
        assert taken not in [t.path.with_name(t.path.name[1:-4]) for t in held]
    finally:
        for temp in held:
            temp.discard()


BACKUP_SCRIPT = """
import sys
from inventory_core import Database, Settings
from inventory_core.backup import BackupService
db = Database.open(sys.argv[1], settings=Settings.load(busy_timeout_ms=2000))
BackupService(db, sys.argv[2], step_pages=int(sys.argv[3])).backup("manual")
"""


def _killed_backup(live: Path, folder: Path, fault: str) -> Path:
    """Run a backup in a child that SIGKILLs itself at ``fault``; return the temp it left."""
    env = {**os.environ, "INVENTORY_CORE_TEST_FAULT": fault, "PYTHONPATH": str(REPO)}
    done = subprocess.run(
        [sys.executable, "-c", BACKUP_SCRIPT, str(live), str(folder), "8"],
        env=env,
        capture_output=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == -signal.SIGKILL, done.stderr.decode()
    (left,) = [p for p in folder.iterdir() if p.name.startswith(".")]
    assert left.name.endswith(".db.tmp") and stat.S_ISREG(os.lstat(left).st_mode)
    return left


@pytest.mark.parametrize("fault", ["backup-mid-copy", "backup-before-rename"])
@pytest.mark.parametrize("cleaner", ["open", "backup"])
def test_a_killed_backup_leaves_a_temp_the_next_open_or_backup_removes(
    tmp_path: Path, fault: str, cleaner: str
) -> None:
    """kill -9 mid-copy or before the rename: the next open or backup removes the temp, logged."""
    live = tmp_path / "inventory.db"
    with Database.open(live, settings=test_settings()) as database:
        database.upgrade()
        seed(database, skus=2, events_per_sku=2)
        bulk_settings(database, rows=200, size=20_000)
    # Database.open sweeps INVENTORY_CORE_BACKUP_DIR; a backup sweeps its own folder.
    folder = tmp_path / ("backups" if cleaner == "open" else "other")
    left = _killed_backup(live, folder, fault)
    size = left.stat().st_size
    if fault == "backup-before-rename":  # a whole copy: as large as the database
        assert size == live.stat().st_size
    with capture_logs() as logs, Database.open(live, settings=test_settings()) as database:
        if cleaner == "backup":
            assert left.exists()
            BackupService(database, folder).backup("manual")
    assert not left.exists()
    removed = [e for e in logs if e["event"] == "temp_file_removed"]
    assert [(e["path"], e["size"]) for e in removed] == [(str(left), size)]


HOLD_SCRIPT = """
import sys
from inventory_core.backup.private import PrivateFile
held = PrivateFile(sys.argv[1])
print("held", flush=True)
sys.stdin.read()
"""


def test_only_a_temp_whose_writer_died_is_removed(db: Database, tmp_path: Path) -> None:
    """A temp held by a live process survives an open; once that process is killed, it goes."""
    folder = tmp_path / "backups"
    folder.mkdir()
    temp = folder / ".inventory_20260101_000000_manual.db.tmp"
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    child = subprocess.Popen(
        [sys.executable, "-c", HOLD_SCRIPT, str(temp)],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        env=env,
    )
    try:
        assert child.stdout is not None and child.stdout.readline() == b"held\n"
        Database.open(db.path, settings=test_settings()).close()
        assert temp.exists()
    finally:
        child.kill()
        child.wait(30)
    Database.open(db.path, settings=test_settings()).close()
    assert not temp.exists()


def test_files_that_are_not_the_librarys_are_never_removed(
    db: Database, tmp_path: Path, victim: Path
) -> None:
    """Near-miss names, other stems, folders and pipes stay; a planted link goes, not its target."""
    folder = tmp_path / "backups"
    folder.mkdir()
    kept = [
        folder / "notes.tmp",
        folder / ".inventory.db.tmp",
        folder / ".other_20260101_000000_manual.db.tmp",
        folder / ".inventory_20260101_000000_manual.db.tmp.bak",
        folder / "inventory_20260101_000000_manual.db.tmp",
        folder / ".inventory_20260101_000000_manual.txt.tmp",
    ]
    for path in kept:
        path.write_bytes(b"not the library's")
    pipe = folder / ".inventory_20260101_000001_manual.db.tmp"
    os.mkfifo(pipe)
    inside = folder / ".inventory_20260101_000002_manual.db.tmp"
    inside.mkdir()
    link = folder / ".inventory_20260101_000003_manual.db.tmp"
    link.symlink_to(victim)
    with capture_logs() as logs:
        Database.open(db.path, settings=test_settings()).close()
        BackupService(db, folder).backup("manual")
    assert all(p.read_bytes() == b"not the library's" for p in kept)
    assert stat.S_ISFIFO(os.lstat(pipe).st_mode) and inside.is_dir()
    assert not os.path.lexists(link)
    removed = [e for e in logs if e["event"] == "temp_file_removed"]
    assert [(e["path"], e["kind"]) for e in removed] == [(str(link), "symlink")]


def test_a_staged_restore_copy_left_by_a_kill_is_removed_at_open_with_a_log_line(
    tmp_path: Path,
) -> None:
    """A ``<db>.restore-new`` left by a killed file-swapping restore (0.1.0): the next open
    removes it and says so."""
    live = tmp_path / "inventory.db"
    with Database.open(live, settings=test_settings()) as database:
        database.upgrade()
        seed(database, skus=1, events_per_sku=2)
        backup = BackupService(database, tmp_path / "b").backup("good")
    staged = live.with_name(live.name + ".restore-new")
    shutil.copyfile(backup, staged)
    size = staged.stat().st_size
    with capture_logs() as logs:
        Database.open(live, settings=test_settings()).close()
    assert not staged.exists()
    removed = [(e["path"], e["size"]) for e in logs if e["event"] == "temp_file_removed"]
    assert removed == [(str(staged), size)]
