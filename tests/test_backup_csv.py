"""CSV snapshots: export and import reproduce every table exactly, and bad snapshots are refused."""

from __future__ import annotations

import csv
import json
import shutil
import tempfile
import zipfile
from datetime import date
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import insert

from inventory_core import Database
from inventory_core.audit import coverage
from inventory_core.audit.trail import Operation, append
from inventory_core.backup import export_csv, import_csv
from inventory_core.backup.csv_snapshot import encode_cell
from inventory_core.backup.snapshot_cells import decode_cell
from inventory_core.db.uow import UnitOfWork
from inventory_core.errors import (
    SnapshotError,
    SnapshotMismatchError,
    SnapshotTargetNotEmptyError,
)
from inventory_core.models import SettingRow, Sku, Transaction
from tests.backup_support import add_order, add_sku, all_rows, seed
from tests.db_support import test_settings

AWKWARD = [
    "=SUM(A1:A9)",
    "+39 333 1234567",
    "-5",
    "@cmd",
    "\tTab",
    "\rCR",
    "'quoted",
    "''",
    "",
    'say "hi", then\nleave',
    "a;b;c",
    "Città già più",
    "日本語の品目",
    "Ελληνικά",
    "x\r\ny",
]
TEXT = st.one_of(
    st.sampled_from(AWKWARD),
    st.text(st.characters(blacklist_categories=("Cs",), blacklist_characters="\x00"), max_size=40),
)


def _compare(source: dict[str, list[Any]], target: dict[str, list[Any]]) -> None:
    for table, rows in source.items():
        if table == "database_identity":  # the file's own, never imported
            continue
        if table == "audit_log":
            assert target[table][:-1] == rows
            assert target[table][-1][2] == Operation.IMPORT.value
        else:
            assert target[table] == rows, table


def _awkward_data(db: Database, texts: list[str]) -> None:
    def work(uow: UnitOfWork) -> None:
        for i, value in enumerate(texts):
            coverage.mark(uow, "transactions")  # the rows are sealed, as the library's are
            code = f"{value[:50]}#{i}"
            uow.execute(insert(Sku).values(sku=code, description=value[:200], ean=None))
            count = {"date": date(2026, 1, 1 + i % 28), "sku": code, "event": "SNAPSHOT"}
            uow.execute(insert(Transaction).values(qty=1000, priority=0, **count))
            uow.execute(
                insert(Transaction).values(
                    date=date(2026, 1, 1 + i % 28),
                    sku=code,
                    event="ADJUST",
                    qty=-(i + 1),
                    priority=2,
                    note=value[:500] or None,
                    document_id=value[:64],
                )
            )
            uow.execute(insert(SettingRow).values(key=f"k{i}", value=value))
            append(
                uow,
                Operation.ADJUST,
                user=value[:64] or "u",
                sku=code,
                details={"text": value},
                duration_ms=i * 0.1 + 1 / 3,
            )

    db.run(work)


@pytest.fixture(scope="module")
def template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A migrated, empty SQLite file copied for each Hypothesis example."""
    path = tmp_path_factory.mktemp("tpl") / "template.db"
    with Database.open(path, settings=test_settings()) as db:
        db.upgrade()
    return path


@settings(
    max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(texts=st.lists(TEXT, min_size=1, max_size=8))
def test_round_trip_reproduces_every_table_exactly(
    texts: list[str], template: Path, tmp_path: Path
) -> None:
    """Awkward text (quotes, newlines, separators, non-Latin, leading = and ') round-trips."""
    work = Path(tempfile.mkdtemp(dir=tmp_path))
    shutil.copy(template, work / "src.db")
    shutil.copy(template, work / "dst.db")
    with Database.open(work / "src.db", settings=test_settings()) as src:
        _awkward_data(src, texts)
        expected = all_rows(src)
        snapshot = export_csv(src, work / "snap", zip=True)
    with Database.open(work / "dst.db", settings=test_settings()) as dst:
        counts = import_csv(dst, snapshot)
        assert counts["skus"] == len(texts)
        _compare(expected, all_rows(dst))
    shutil.rmtree(work)


HUGE = st.builds(
    lambda char, size, tail: char * size + tail,
    st.characters(blacklist_categories=("Cs",), blacklist_characters="\x00"),
    st.integers(131_072, 600_000),
    TEXT,
)


@settings(
    max_examples=8, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(values=st.lists(HUGE, min_size=1, max_size=3), zipped=st.booleans())
def test_round_trip_with_cells_larger_than_the_csv_field_limit(
    values: list[str], zipped: bool, template: Path, tmp_path: Path
) -> None:
    """Cells past csv's 131,072-character default limit (settings, audit details) round-trip."""
    work = Path(tempfile.mkdtemp(dir=tmp_path))
    shutil.copy(template, work / "src.db")
    shutil.copy(template, work / "dst.db")
    csv.field_size_limit(131_072)  # the default, as in a fresh process
    with Database.open(work / "src.db", settings=test_settings()) as src:
        _awkward_data(src, values)
        expected = all_rows(src)
        snapshot = export_csv(src, work / "snap", zip=zipped)
    with Database.open(work / "dst.db", settings=test_settings()) as dst:
        import_csv(dst, snapshot)
        _compare(expected, all_rows(dst))
    shutil.rmtree(work)


@pytest.mark.parametrize(
    "value", ["=1+1", "+1", "-1", "@A1", "\tx", "\rx", "'x", "", "plain", "''=", "a'b"]
)
def test_text_cells_are_neutralised_and_restored(value: str) -> None:
    """A formula-like or quote-led text gets one leading quote, and decoding removes it."""
    cell = encode_cell(value, is_text=True)
    if value[:1] in ("=", "+", "-", "@", "\t", "\r", "'") or value == "":
        assert cell == "'" + value
    else:
        assert cell == value
    from sqlalchemy import String

    assert decode_cell(cell, String()) == value


def test_negative_numbers_stay_numbers(db: Database, tmp_path: Path) -> None:
    """Integer columns are written as plain numbers, never neutralised."""
    add_sku(db, "NEG")
    db.run(
        lambda uow: uow.execute(
            insert(Transaction).values(
                date=date(2026, 1, 2), sku="NEG", event="ADJUST", qty=-7, priority=2
            )
        )
    )
    folder = export_csv(db, tmp_path / "snap")
    with (folder / "transactions.csv").open(encoding="utf-8-sig", newline="") as handle:
        rows = list(csv.DictReader(handle))
    assert rows[0]["qty"] == "-7"


def test_export_writes_bom_manifest_readme_and_one_file_per_table(
    any_db: Database, tmp_path: Path
) -> None:
    """The folder holds UTF-8-with-BOM CSVs, a manifest with counts and sha256, and a README."""
    seed(any_db, skus=2, events_per_sku=2)
    folder = export_csv(any_db, tmp_path / "snap")
    manifest = json.loads((folder / "manifest.json").read_text())
    assert manifest["tables"]["transactions"]["rows"] == 4
    assert manifest["schema_revision"] == any_db.revision()
    assert (folder / "skus.csv").read_bytes().startswith(b"\xef\xbb\xbf")
    assert "formula" in (folder / "README.txt").read_text()
    assert len(list(folder.glob("*.csv"))) == len(manifest["tables"]) == 16


def test_round_trip_on_both_databases(any_url: str, tmp_path: Path) -> None:
    """Export from one database and import into a fresh one gives the same rows."""
    with Database.open(any_url, settings=test_settings()) as src:
        src.upgrade()
        seed(src, skus=3, events_per_sku=3)
        add_order(src, "SKU000", 5, date(2026, 3, 1), note='=HYPERLINK("x")')
        expected = all_rows(src)
        snapshot = export_csv(src, tmp_path / "snap.zip", zip=True)
    target = tmp_path / "target.db"
    with Database.open(target, settings=test_settings()) as dst:
        dst.upgrade()
        import_csv(dst, snapshot)
        _compare(expected, all_rows(dst))
        add_order(dst, "SKU000", 1, date(2026, 3, 2))
    with Database.open(any_url, settings=test_settings()) as src:
        assert len(all_rows(src)["transactions"]) == 10


@pytest.mark.postgres
def test_import_into_postgresql_continues_the_id_sequences(pg_url: str, tmp_path: Path) -> None:
    """After an import into PostgreSQL, new rows get ids past the imported ones."""
    source = tmp_path / "src.db"
    with Database.open(source, settings=test_settings()) as src:
        src.upgrade()
        seed(src, skus=1, events_per_sku=3)
        snapshot = export_csv(src, tmp_path / "snap")
    with Database.open(pg_url, settings=test_settings()) as dst:
        dst.upgrade()
        import_csv(dst, snapshot)
        assert add_order(dst, "SKU000", 1, date(2026, 4, 1)) == 4


def test_import_refuses_a_non_empty_database(db: Database, tmp_path: Path) -> None:
    """Importing into a database that holds rows is refused and nothing is added."""
    seed(db, skus=1, events_per_sku=1)
    folder = export_csv(db, tmp_path / "snap")
    with pytest.raises(SnapshotTargetNotEmptyError):
        import_csv(db, folder)
    assert len(all_rows(db)["skus"]) == 1


def _fresh(tmp_path: Path) -> Database:
    fresh = Database.open(tmp_path / "fresh.db", settings=test_settings())
    fresh.upgrade()
    return fresh


def test_import_refuses_an_edited_file(db: Database, tmp_path: Path) -> None:
    """A CSV changed after the export fails its sha256 and nothing is imported."""
    seed(db, skus=1, events_per_sku=1)
    folder = export_csv(db, tmp_path / "snap")
    path = folder / "skus.csv"
    path.write_bytes(path.read_bytes().replace(b"SKU000", b"SKU999"))
    with _fresh(tmp_path) as fresh, pytest.raises(SnapshotMismatchError):
        import_csv(fresh, folder)
    with _fresh(tmp_path) as fresh:
        data = all_rows(fresh)
        assert all(not rows for name, rows in data.items() if name != "database_identity")


def test_import_refuses_a_row_count_that_differs_from_the_manifest(
    db: Database, tmp_path: Path
) -> None:
    """A manifest whose row count (and sha256) was edited to match a cut file is still caught."""
    seed(db, skus=2, events_per_sku=1)
    folder = export_csv(db, tmp_path / "snap")
    manifest = json.loads((folder / "manifest.json").read_text())
    manifest["tables"]["skus"]["rows"] = 5
    (folder / "manifest.json").write_text(json.dumps(manifest))
    with _fresh(tmp_path) as fresh:
        with pytest.raises(SnapshotMismatchError, match="skus"):
            import_csv(fresh, folder)
        assert not all_rows(fresh)["skus"]


def test_import_refuses_a_missing_manifest_or_other_revision(db: Database, tmp_path: Path) -> None:
    """No manifest, or a manifest of another schema revision, is refused."""
    folder = export_csv(db, tmp_path / "snap")
    manifest = json.loads((folder / "manifest.json").read_text())
    manifest["schema_revision"] = "0000_other"
    (folder / "manifest.json").write_text(json.dumps(manifest))
    with _fresh(tmp_path) as fresh:
        with pytest.raises(SnapshotError, match="revision"):
            import_csv(fresh, folder)
        (folder / "manifest.json").unlink()
        with pytest.raises(SnapshotError):
            import_csv(fresh, folder)


def test_zip_snapshot_holds_the_same_files(db: Database, tmp_path: Path) -> None:
    """The --zip form is one archive with the manifest, README and every CSV."""
    target = export_csv(db, tmp_path / "snap", zip=True)
    assert target.suffix == ".zip"
    names = zipfile.ZipFile(target).namelist()
    assert "manifest.json" in names and "README.txt" in names and "skus.csv" in names


def test_export_refuses_a_non_empty_folder(db: Database, tmp_path: Path) -> None:
    """Exporting into a folder that already holds files is refused."""
    (tmp_path / "snap").mkdir()
    (tmp_path / "snap" / "other.txt").write_text("x")
    with pytest.raises(SnapshotError):
        export_csv(db, tmp_path / "snap")
