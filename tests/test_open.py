"""Database.open on bad input: each case its own typed error, and the file left untouched."""

from __future__ import annotations

import hashlib
import os
import shutil
import sqlite3
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import text

from inventory_core import Database
from inventory_core.db import migrations
from inventory_core.errors import (
    CorruptDatabaseError,
    InventoryError,
    NotADatabaseError,
    NotMigratedError,
    PathIsDirectoryError,
    ReadOnlyDatabaseError,
    SchemaMismatchError,
    SchemaTooNewError,
)
from tests.db_support import test_settings


def _sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def _side_files(path: Path) -> list[str]:
    return [suffix for suffix in ("-wal", "-shm", "-journal") if Path(f"{path}{suffix}").exists()]


def _make_database(path: Path, rows: int = 200) -> None:
    db = Database.open(f"sqlite:///{path}", settings=test_settings())
    db.upgrade()
    for n in range(rows):
        db.run(
            lambda uow, n=n: uow.execute(
                text("INSERT INTO settings(key, value, updated_at) VALUES (:k, :v, '')"),
                {"k": f"k{n}", "v": "x" * 500},
            )
        )
    db.close()


def _refused(path: Path, expected: type[InventoryError], code: str) -> InventoryError:
    """Open ``path``, expect ``expected`` with ``code`` and steps, and the bytes unchanged."""
    before = _sha256(path) if path.is_file() else None
    with pytest.raises(expected) as caught:
        Database.open(f"sqlite:///{path}", settings=test_settings())
    error = caught.value
    assert error.code == code
    assert error.recovery_steps and all(error.recovery_steps)
    if before is not None:
        assert _sha256(path) == before, "the file was not modified"
        assert _side_files(path) == [], "no -wal/-shm/-journal was created"
    return error


def test_a_file_that_is_not_a_database_is_refused(tmp_path: Path) -> None:
    """A text file gives NotADatabaseError (DB_006) and keeps its bytes."""
    path = tmp_path / "notes.db"
    path.write_text("these are my notes, not a database\n" * 200)
    error = _refused(path, NotADatabaseError, "DB_006")
    assert str(path) in error.message


def test_a_truncated_database_is_refused(tmp_path: Path) -> None:
    """A real database cut in half gives CorruptDatabaseError (DB_007) and keeps its bytes."""
    path = tmp_path / "inventory.db"
    _make_database(path)
    size = path.stat().st_size
    with path.open("r+b") as handle:
        handle.truncate(size // 2)
    error = _refused(path, CorruptDatabaseError, "DB_007")
    assert "truncated" in error.message


def test_a_database_from_a_newer_schema_is_refused(tmp_path: Path) -> None:
    """A revision this code does not know gives SchemaTooNewError (DB_005), file untouched."""
    path = tmp_path / "inventory.db"
    _make_database(path, rows=1)
    conn = sqlite3.connect(path)
    conn.execute("UPDATE alembic_version SET version_num = '9999_from_the_future'")
    conn.commit()
    conn.close()
    error = _refused(path, SchemaTooNewError, "DB_005")
    assert "9999_from_the_future" in error.message


def test_a_directory_is_refused(tmp_path: Path) -> None:
    """A folder where a file is expected gives PathIsDirectoryError (IO_002)."""
    folder = tmp_path / "shop.db"
    folder.mkdir()
    _refused(folder, PathIsDirectoryError, "IO_002")
    assert list(folder.iterdir()) == []


def test_tables_without_a_revision_are_refused(tmp_path: Path) -> None:
    """A foreign SQLite database (tables, no revision) gives NotMigratedError (DB_011)."""
    path = tmp_path / "legacy.db"
    conn = sqlite3.connect(path)
    conn.execute("CREATE TABLE articoli(codice TEXT)")
    conn.commit()
    conn.close()
    _refused(path, NotMigratedError, "DB_011")


def _make_read_only(path: Path) -> Iterator[str]:
    """Make ``path`` unwritable for this process and say how; undo it afterwards.

    ``chmod 0o444`` stops ordinary users but not root, which ignores permission bits. The
    immutable attribute (``chattr +i``) stops root too: open(O_RDWR) and access(W_OK) fail
    with EPERM, which is what SQLite and the pre-flight see on a read-only file.
    """
    if os.geteuid() != 0:
        path.chmod(0o444)
        try:
            yield "chmod 0444"
        finally:
            path.chmod(0o644)
        return
    chattr = shutil.which("chattr")
    if chattr is None:
        pytest.skip("running as root without chattr: cannot make a file read-only")
    made = subprocess.run([chattr, "+i", str(path)], capture_output=True, text=True)
    if made.returncode != 0:
        pytest.skip(f"chattr +i is not supported here: {made.stderr.strip()}")
    try:
        yield "chattr +i"
    finally:
        subprocess.run([chattr, "-i", str(path)], check=True)


def test_a_read_only_database_is_refused(tmp_path: Path) -> None:
    """A file this process cannot write gives ReadOnlyDatabaseError (DB_008), bytes unchanged."""
    path = tmp_path / "inventory.db"
    _make_database(path, rows=5)
    holder = _make_read_only(path)
    next(holder)
    try:
        assert not os.access(path, os.W_OK)
        error = _refused(path, ReadOnlyDatabaseError, "DB_008")
        assert str(path) in error.message
    finally:
        next(holder, None)


def test_a_zero_length_file_is_accepted_as_a_new_database(tmp_path: Path) -> None:
    """An empty file (as touch leaves it) opens and can be migrated."""
    path = tmp_path / "inventory.db"
    path.touch()
    db = Database.open(f"sqlite:///{path}", settings=test_settings())
    db.upgrade()
    assert db.revision() == migrations.head_revision()
    db.close()


@pytest.fixture
def code_one_revision_ahead(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    """Make the code ship one more (empty) migration than the database has."""
    scripts = tmp_path / "alembic_next"
    shutil.copytree(migrations.script_location(), scripts)
    current = migrations.head_revision()
    (scripts / "versions" / "0099_next.py").write_text(
        '"""An empty migration after the current head."""\n\n'
        'revision = "0099_next"\n'
        f'down_revision = "{current}"\n'
        "branch_labels = None\ndepends_on = None\n\n\n"
        "def upgrade() -> None:\n    pass\n\n\n"
        "def downgrade() -> None:\n    pass\n"
    )
    monkeypatch.setattr(migrations, "script_location", lambda: scripts)
    migrations.head_revision.cache_clear()
    migrations.known_revisions.cache_clear()
    yield current
    monkeypatch.undo()
    migrations.head_revision.cache_clear()
    migrations.known_revisions.cache_clear()


def test_a_schema_behind_the_code_is_refused_then_migrated(
    tmp_path: Path, code_one_revision_ahead: str
) -> None:
    """A database one revision behind gives DB_004 untouched; migrate=True upgrades it."""
    path = tmp_path / "inventory.db"
    db = Database.open(f"sqlite:///{path}", settings=test_settings())
    db.upgrade(code_one_revision_ahead)
    db.close()
    error = _refused(path, SchemaMismatchError, "DB_004")
    assert type(error) is SchemaMismatchError
    assert "0099_next" in error.message
    assert any("upgrade" in step for step in error.recovery_steps)
    db = Database.open(f"sqlite:///{path}", settings=test_settings(), migrate=True)
    assert db.revision() == "0099_next"
    db.close()


def test_the_parent_folder_of_a_new_database_is_created(tmp_path: Path) -> None:
    """Opening a database in a folder that does not exist yet creates the folder."""
    path = tmp_path / "new" / "nested" / "inventory.db"
    db = Database.open(f"sqlite:///{path}", settings=test_settings())
    db.upgrade()
    db.close()
    assert path.is_file()
