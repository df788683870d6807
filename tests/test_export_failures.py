"""A CSV export that fails leaves nothing behind: no partial files, no folder it created."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from inventory_core import Database
from inventory_core.backup import export_csv, import_csv
from tests.backup_support import seed
from tests.db_support import test_settings


class Interrupted(Exception):
    """Raised by the progress callback to cut an export short."""


def stop_after(tables: int) -> Callable[[str, int], None]:
    """A progress callback that fails once ``tables`` tables are written."""
    done: list[str] = []

    def progress(table: str, _rows: int) -> None:
        done.append(table)
        if len(done) >= tables:
            raise Interrupted(table)

    return progress


@pytest.fixture
def shop(tmp_path: Path) -> Path:
    """A seeded, migrated SQLite database."""
    path = tmp_path / "shop.db"
    with Database.open(path, settings=test_settings()) as db:
        db.upgrade()
        seed(db, skus=2, events_per_sku=3)
    return path


def test_a_failed_export_removes_the_folder_it_created(shop: Path, tmp_path: Path) -> None:
    """Cut short after two tables: neither the target nor its new parent folder remains."""
    target = tmp_path / "exports" / "today"
    with (
        Database.open(shop, settings=test_settings(), read_only=True) as db,
        pytest.raises(Interrupted),
    ):
        export_csv(db, target, progress=stop_after(2))
    assert not (tmp_path / "exports").exists()


def test_a_failed_export_leaves_an_existing_folder_empty_and_a_retry_works(
    shop: Path, tmp_path: Path
) -> None:
    """Into an empty folder: a failure leaves it empty, so the next export is not refused."""
    target = tmp_path / "snapshot"
    target.mkdir()
    with Database.open(shop, settings=test_settings(), read_only=True) as db:
        with pytest.raises(Interrupted):
            export_csv(db, target, progress=stop_after(3))
        assert list(target.iterdir()) == []
        export_csv(db, target)
    names = sorted(p.name for p in target.iterdir())
    assert "manifest.json" in names and "skus.csv" in names
    assert not [n for n in names if n.startswith(".")]
    fresh = tmp_path / "fresh.db"
    with Database.open(fresh, settings=test_settings()) as db:
        db.upgrade()
        assert sum(import_csv(db, target).values()) > 0
