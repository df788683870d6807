"""CSV import refuses what is not a faithful snapshot, with a BAK_ error naming file, row, column.

Every refusal leaves the target database as it was: the checks run inside the import's own
transaction, before COMMIT, so a refused import rolls back to an empty database.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import zipfile
from collections.abc import Iterator
from datetime import date
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import insert, text
from typer.testing import CliRunner

from inventory_core import Database, Inventory, ReceiptLine
from inventory_core.audit.trail import Operation, append
from inventory_core.backup import export_csv, import_csv
from inventory_core.cli import app
from inventory_core.db.uow import UnitOfWork
from inventory_core.errors import SnapshotError
from inventory_core.invariants import check_all
from inventory_core.models import Sku
from tests.csv_support import (
    dump,
    edit_cell,
    edit_manifest,
    forge,
    is_empty,
    located,
    placeholders_filled,
    read_table,
    shop,
    write_table,
)
from tests.db_support import test_settings


@pytest.fixture(scope="module")
def pristine(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A folder snapshot of a small healthy shop, exported once for the module."""
    work = tmp_path_factory.mktemp("pristine")
    with Database.open(work / "src.db", settings=test_settings()) as src:
        src.upgrade()
        shop(src)
        export_csv(src, work / "snap")
    with Database.open(work / "empty.db", settings=test_settings()) as empty:
        empty.upgrade()
    return work


@pytest.fixture
def snap(pristine: Path, tmp_path: Path) -> Path:
    """A private copy of the pristine snapshot folder, next to a copy of its source file."""
    shutil.copytree(pristine / "snap", tmp_path / "snap")
    shutil.copy(pristine / "src.db", tmp_path / "src.db")
    return tmp_path / "snap"


@pytest.fixture
def target(pristine: Path, tmp_path: Path) -> Iterator[Database]:
    """An empty, migrated SQLite database to import into."""
    shutil.copy(pristine / "empty.db", tmp_path / "target.db")
    with Database.open(tmp_path / "target.db", settings=test_settings()) as db:
        yield db


def refused(target: Database, snapshot: Path, code: str) -> SnapshotError:
    """Import ``snapshot``, expect the BAK_ error ``code``, and check nothing was written."""
    with pytest.raises(SnapshotError) as caught:
        import_csv(target, snapshot)
    assert caught.value.code == code, caught.value
    assert is_empty(target)
    assert placeholders_filled(caught.value), caught.value
    return caught.value


# --- the safety issue: tampered snapshots with a recomputed sha256 --------------------------


def test_negative_stock_with_a_recomputed_sha256_is_refused(snap: Path, target: Database) -> None:
    """A SALE raised to 300 units (stock below zero) with a forged manifest is not imported."""
    edit_cell(snap, "transactions", 5, "qty", "300")
    error = refused(target, snap, "BAK_047")
    assert "stock_never_negative" in error.context["failures"]
    assert located(error) == ("transactions.csv", 6, "-")


def test_an_edited_audit_row_with_a_recomputed_sha256_is_refused(
    snap: Path, target: Database
) -> None:
    """An audit row whose user was changed (hash no longer matching) is not imported."""
    edit_cell(snap, "audit_log", 3, "user", "mallory")
    error = refused(target, snap, "BAK_047")
    assert "audit_chain" in error.context["failures"]
    assert located(error) == ("audit_log.csv", 4, "-")


def test_a_deleted_ledger_row_with_a_recomputed_sha256_is_refused(
    snap: Path, target: Database
) -> None:
    """A ledger row deleted (nothing else refers to it) is not imported: its seal is missing."""
    rows = read_table(snap, "transactions")
    referred = set()  # rows other tables point at: deleting those breaks a foreign key first
    for table in ("lot_draws", "lots", "order_logs", "order_receipts", "transaction_reversals"):
        other = read_table(snap, table)
        referred |= {r[other[0].index("transaction_id")] for r in other[1:]}
    free = [r for r in rows[1:] if r[0] not in referred]
    write_table(snap, "transactions", [r for r in rows if r is not free[0]])
    error = refused(target, snap, "BAK_047")
    assert "ledger_coverage" in error.context["failures"]


def test_a_refused_import_leaves_the_file_logically_identical(
    snap: Path, target: Database, tmp_path: Path
) -> None:
    """After a refusal found only by the checks, the target's dump is what it was."""
    before = dump(tmp_path / "target.db")
    edit_cell(snap, "audit_log", 2, "details", "{}")
    refused(target, snap, "BAK_047")
    assert dump(tmp_path / "target.db") == before


@pytest.mark.parametrize(
    "name", ["../src.db", "sub/../../src.db", "ABSOLUTE", "..", ".", "manifest.json", "README.txt"]
)
def test_a_manifest_entry_outside_the_folder_is_refused(
    snap: Path, target: Database, name: str
) -> None:
    """A manifest naming ``../src.db`` (or an absolute path) is refused before it is read."""
    outside = str(snap.parent / "src.db") if name == "ABSOLUTE" else name
    digest = hashlib.sha256((snap.parent / "src.db").read_bytes()).hexdigest()

    def point_outside(manifest: dict[str, Any]) -> None:
        manifest["tables"]["skus"]["file"] = outside
        manifest["tables"]["skus"]["sha256"] = digest

    edit_manifest(snap, point_outside)
    error = refused(target, snap, "BAK_041")
    assert error.context["file"] == outside


@pytest.mark.parametrize("name", ["skus.csv\x00", "\ud800.csv", "sk\nus.csv", "", "C:skus.csv"])
def test_a_manifest_entry_that_is_not_a_plain_file_name_is_refused(
    snap: Path, target: Database, name: str
) -> None:
    """A NUL, a lone surrogate, a newline or a drive letter in a file name is refused too."""
    edit_manifest(snap, lambda m: m["tables"]["skus"].update(file=name))
    refused(target, snap, "BAK_041")


def test_a_symlink_leading_out_of_the_folder_is_refused(snap: Path, target: Database) -> None:
    """A CSV that is a symlink to a file outside the snapshot is not followed."""
    outside = snap.parent / "elsewhere.csv"
    shutil.move(snap / "skus.csv", outside)
    os.symlink(outside, snap / "skus.csv")
    error = refused(target, snap, "BAK_041")
    assert error.context["file"] == "skus.csv"


def _zip(folder: Path, path: Path, extra: dict[str, bytes] | None = None) -> Path:
    with zipfile.ZipFile(path, "w") as archive:
        for item in sorted(folder.iterdir()):
            archive.write(item, item.name)
        for name, data in (extra or {}).items():
            archive.writestr(name, data)
    return path


@pytest.mark.parametrize("name", ["../evil.csv", "/tmp/evil.csv", "sub\\..\\..\\evil.csv"])
def test_a_zip_with_an_entry_outside_is_refused(
    snap: Path, target: Database, tmp_path: Path, name: str
) -> None:
    """A zip holding an entry whose name climbs out of the archive is refused as a whole."""
    archive = _zip(snap, tmp_path / "snap.zip", {name: b"x"})
    error = refused(target, archive, "BAK_041")
    assert error.context["file"] == name


def test_a_zip_whose_manifest_names_an_outside_entry_is_refused(
    snap: Path, target: Database, tmp_path: Path
) -> None:
    """The manifest of a zip cannot point at ``../`` either, even with a matching sha256."""
    payload = (snap / "skus.csv").read_bytes()
    edit_manifest(snap, lambda m: m["tables"]["skus"].update(file="../skus.csv"))
    archive = _zip(snap, tmp_path / "snap.zip", {"../skus.csv": payload})
    refused(target, archive, "BAK_041")


def test_a_zip_with_a_huge_number_of_entries_is_refused(
    snap: Path, target: Database, tmp_path: Path
) -> None:
    """A zip holding 20,000 entries is refused from its directory, without reading them."""
    archive = _zip(snap, tmp_path / "snap.zip", {f"pad/{n}.txt": b"" for n in range(20_000)})
    error = refused(target, archive, "BAK_042")
    assert error.context["file"] == archive.name


def test_a_damaged_or_ambiguous_zip_is_refused(
    snap: Path, target: Database, tmp_path: Path
) -> None:
    """A zip entry whose bytes fail their CRC, or a name that appears twice, is a BAK_042."""
    with pytest.warns(UserWarning, match="Duplicate name"):
        archive = _zip(snap, tmp_path / "twice.zip", {"skus.csv": b"sku\r\n"})
    refused(target, archive, "BAK_042")
    damaged = tmp_path / "damaged.zip"
    _zip(snap, damaged)
    data = bytearray(damaged.read_bytes())
    start = data.index(b"sku,description")  # stored uncompressed: flip a byte of skus.csv
    data[start + 1] ^= 0x01
    damaged.write_bytes(bytes(data))
    error = refused(target, damaged, "BAK_042")
    assert error.context["file"] == "skus.csv"


def test_a_path_that_is_neither_a_folder_nor_a_zip_is_refused(snap: Path, target: Database) -> None:
    """A CSV file given instead of its snapshot, or a missing path, is a BAK_020 naming it."""
    assert located(refused(target, snap / "skus.csv", "BAK_020"))[0] == "skus.csv"
    assert located(refused(target, snap / "nowhere", "BAK_020"))[0] == "nowhere"


def test_a_receipt_with_3000_lines_round_trips(tmp_path: Path) -> None:
    """A legitimate export whose audit cell exceeds csv's 131,072 limit imports back exactly."""
    with Database.open(tmp_path / "src.db", settings=test_settings()) as src:
        src.upgrade()
        codes = [f"P{n:04d}" for n in range(3000)]
        src.run(lambda uow: _raw_skus(uow, codes))
        Inventory(src, user="tester").receive(
            "DDT-BIG", [ReceiptLine(c, 1) for c in codes], on=date(2026, 2, 1)
        )
        snapshot = export_csv(src, tmp_path / "snap")
    assert max(len(c) for row in read_table(snapshot, "audit_log") for c in row) > 131_072
    with Database.open(tmp_path / "dst.db", settings=test_settings()) as dst:
        dst.upgrade()
        counts = import_csv(dst, snapshot)
        assert counts["receiving_logs"] == 3000
        assert check_all(dst, full=True).status.value == "HEALTHY"


def _raw_skus(uow: UnitOfWork, codes: list[str]) -> None:
    uow.execute(insert(Sku), [{"sku": code, "description": code} for code in codes])
    append(uow, Operation.ADD_SKU, user="tester", details={"skus": len(codes)})


# --- the inputs issue: every bad input is a BAK_ error naming file, row and column ----------

CELLS = [
    ("transactions", 2, "qty", "abc", "BAK_044"),
    ("transactions", 2, "qty", "9" * 5000, "BAK_044"),
    ("transactions", 2, "qty", str(2**70), "BAK_044"),
    ("transactions", 2, "qty", "-9223372036854775809", "BAK_044"),
    ("transactions", 2, "qty", "024", "BAK_044"),
    ("transactions", 2, "qty", " 24", "BAK_044"),
    ("transactions", 2, "qty", "2_4", "BAK_044"),
    ("transactions", 2, "qty", "24.0", "BAK_044"),
    ("transactions", 2, "qty", "\u0662\u0664", "BAK_044"),
    ("transactions", 2, "qty", "2\x004", "BAK_044"),
    ("transactions", 2, "date", "2026-13-45", "BAK_044"),
    ("transactions", 2, "date", "20260102", "BAK_044"),
    ("transactions", 2, "date", "2026-W01-5", "BAK_044"),
    ("transactions", 2, "sku", "", "BAK_044"),
    ("transactions", 2, "note", "=HYPERLINK(1)", "BAK_044"),
    ("transactions", 2, "note", "x" * 501, "BAK_044"),
    ("skus", 1, "active", "yes", "BAK_044"),
    ("skus", 1, "pack_size", "-0", "BAK_044"),
    ("audit_log", 1, "duration_ms", "nan", "BAK_044"),
    ("audit_log", 1, "duration_ms", "1e400", "BAK_044"),
    ("audit_log", 1, "duration_ms", "2.50", "BAK_044"),
    ("transactions", 2, "sku", "NOPE", "BAK_045"),
    ("transactions", 3, "transaction_id", "2", "BAK_045"),
    ("transactions", 2, "event", "THEFT", "BAK_045"),
]


@pytest.mark.parametrize(("table", "row", "column", "value", "code"), CELLS)
def test_a_bad_cell_is_refused_naming_file_row_and_column(
    snap: Path, target: Database, table: str, row: int, column: str, value: str, code: str
) -> None:
    """A cell that is not a value of its column is a BAK_ error at its file, row and column."""
    edit_cell(snap, table, row, column, value)
    error = refused(target, snap, code)
    file, number, columns = located(error)
    assert (file, number) == (f"{table}.csv", row + 1)
    assert column in columns.split(", ")  # a CHECK rule may name several columns
    assert f"{table}.csv" in error.message and column in error.message


def test_the_messages_are_in_italian_too(
    snap: Path, target: Database, monkeypatch: pytest.MonkeyPatch
) -> None:
    """With INVENTORY_CORE_LANG=it the same refusal reads in Italian, still naming the cell."""
    edit_cell(snap, "transactions", 2, "qty", "abc")
    monkeypatch.setenv("INVENTORY_CORE_LANG", "it")
    error = refused(target, snap, "BAK_044")
    assert "riga 3" in error.message and "colonna qty" in error.message
    assert "Non è stato importato nulla." in error.recovery_steps


@pytest.mark.parametrize("shape", ["missing", "extra", "blank"])
def test_a_row_with_a_missing_or_extra_cell_is_refused(
    snap: Path, target: Database, shape: str
) -> None:
    """A row shorter or longer than the header names the first missing or the extra cell."""
    rows = read_table(snap, "skus")
    if shape == "missing":
        rows[2] = rows[2][:-1]
    elif shape == "extra":
        rows[2] = [*rows[2], "surplus"]
    else:
        rows[2] = []
    write_table(snap, "skus", rows)
    error = refused(target, snap, "BAK_045")
    expected = {"missing": "updated_at", "extra": "(cell 16)", "blank": "sku"}[shape]
    assert located(error) == ("skus.csv", 3, expected)


def test_a_duplicate_primary_key_is_refused(snap: Path, target: Database) -> None:
    """The same SKU twice is refused at the second copy's row, naming the key column."""
    rows = read_table(snap, "skus")
    write_table(snap, "skus", [*rows, rows[1]])
    error = refused(target, snap, "BAK_045")
    assert located(error) == ("skus.csv", 4, "sku")


def test_a_header_that_differs_names_the_file(snap: Path, target: Database) -> None:
    """A renamed column is refused with the file and the column, not a literal '{path}'."""
    rows = read_table(snap, "skus")
    rows[0][2] = "barcode"
    write_table(snap, "skus", rows)
    error = refused(target, snap, "BAK_046")
    assert located(error) == ("skus.csv", 1, "ean")
    assert str(snap) in error.message


@pytest.mark.parametrize("encoding", ["latin-1", "utf-16", "cp1252"])
def test_a_file_re_encoded_is_refused_at_the_first_bad_byte(
    snap: Path, target: Database, encoding: str
) -> None:
    """A CSV saved again as latin-1 or UTF-16 is refused at the cell holding the bad byte."""
    text = (snap / "skus.csv").read_bytes().decode("utf-8-sig")
    (snap / "skus.csv").write_bytes(text.encode(encoding))
    forge(snap)
    error = refused(target, snap, "BAK_043")
    expected = ("skus.csv", 1, "sku") if encoding == "utf-16" else ("skus.csv", 2, "description")
    assert located(error) == expected


def test_a_lone_surrogate_is_refused(snap: Path, target: Database) -> None:
    """Bytes encoding a lone surrogate (\\ud800) are not UTF-8 and are refused."""
    data = (snap / "skus.csv").read_bytes().replace(b"Articolo 1", b"Articolo \xed\xa0\x80")
    (snap / "skus.csv").write_bytes(data)
    forge(snap)
    error = refused(target, snap, "BAK_043")
    assert located(error) == ("skus.csv", 3, "description")


@pytest.mark.parametrize(
    ("old", "new", "where"),
    [
        (b"\nSKU000,", b"\n\x80KU000,", (2, "sku")),  # first byte of a row, after the BOM
        (b"\xef\xbb\xbfsku", b"\xef\xbb\xbfs\x80ku", (1, "sku")),  # just behind the BOM
    ],
)
def test_a_bad_byte_is_located_exactly_behind_a_bom(
    snap: Path, target: Database, old: bytes, new: bytes, where: tuple[int, str]
) -> None:
    """The cell of a bad byte is counted from the file's start, the BOM included."""
    data = (snap / "skus.csv").read_bytes()
    assert old in data
    (snap / "skus.csv").write_bytes(data.replace(old, new, 1))
    forge(snap)
    error = refused(target, snap, "BAK_043")
    assert located(error) == ("skus.csv", *where)


MANIFESTS: list[tuple[str, Any]] = [
    ("tables is a list", lambda m: m.update(tables=list(m["tables"]))),
    ("entry without file", lambda m: m["tables"]["skus"].pop("file")),
    ("entry is a string", lambda m: m["tables"].update(skus="skus.csv")),
    ("rows is text", lambda m: m["tables"]["skus"].update(rows="2")),
    ("rows is a bool", lambda m: m["tables"]["lots"].update(rows=True)),
    ("rows is negative", lambda m: m["tables"]["skus"].update(rows=-1)),
    ("sha256 is a number", lambda m: m["tables"]["skus"].update(sha256=12)),
    ("file is a number", lambda m: m["tables"]["skus"].update(file=7)),
    ("two tables, one file", lambda m: m["tables"]["lots"].update(m["tables"]["skus"])),
    ("columns differ", lambda m: m["tables"]["skus"].update(columns=["sku"])),
    ("format unknown", lambda m: m.update(format=2)),
    ("format is true", lambda m: m.update(format=True)),
    ("format is a float", lambda m: m.update(format=1.0)),
    ("empty object", lambda m: m.clear()),
    ("no revision", lambda m: m.pop("schema_revision")),
]


@pytest.mark.parametrize(("label", "change"), MANIFESTS, ids=[m[0] for m in MANIFESTS])
def test_a_malformed_manifest_is_refused(
    snap: Path, target: Database, label: str, change: Any
) -> None:
    """A manifest with the wrong shape is a BAK_040 naming the key, not a raw exception."""
    edit_manifest(snap, change)
    error = refused(target, snap, "BAK_040")
    assert error.context["file"] == "manifest.json"


@pytest.mark.parametrize(
    "text",
    ["{not json", "[]", '"tables"', "[" * 100_000, '{"tables": {}, "tables": {}}', "\udcff"],
)
def test_a_manifest_that_is_not_a_json_object_is_refused(
    snap: Path, target: Database, text: str
) -> None:
    """Broken JSON, deep nesting, a duplicated key or invalid UTF-8 are a BAK_040."""
    (snap / "manifest.json").write_bytes(text.encode("utf-8", "surrogateescape"))
    refused(target, snap, "BAK_040")


def test_a_missing_file_is_refused_naming_it(snap: Path, target: Database) -> None:
    """A CSV listed in the manifest but absent from the folder is named in the error."""
    (snap / "lots.csv").unlink()
    error = refused(target, snap, "BAK_021")
    assert error.context["file"] == "lots.csv"


def test_a_nul_byte_in_a_sealed_note_is_refused_on_both(snap: Path, any_url: str) -> None:
    """A NUL put into a sealed note: PostgreSQL cannot store it (BAK_044); SQLite can, and
    the ledger seal then refuses the edited row (BAK_047)."""
    rows = read_table(snap, "transactions")
    rows[2][rows[0].index("note")] = "a\x00b"
    write_table(snap, "transactions", rows)
    with Database.open(any_url, settings=test_settings()) as db:
        db.upgrade()
        if db.dialect == "postgresql":
            error = refused(db, snap, "BAK_044")
            assert located(error) == ("transactions.csv", 3, "note")
            return
        error = refused(db, snap, "BAK_047")
        assert "ledger_coverage" in error.context["failures"]
        with db.read() as uow:
            assert uow.execute(text("SELECT count(*) FROM transactions")).scalar_one() == 0


@pytest.mark.postgres
def test_postgresql_refusals_name_the_cell(snap: Path, pg_url: str) -> None:
    """On PostgreSQL 2**31 in an INTEGER, a 65-character code and a forged stock are BAK_ errors."""
    with Database.open(pg_url, settings=test_settings()) as db:
        db.upgrade()
        for column, value, code in (("qty", str(2**31), "BAK_044"), ("sku", "x" * 65, "BAK_044")):
            rows = read_table(snap, "transactions")
            original = rows[2][rows[0].index(column)]
            rows[2][rows[0].index(column)] = value
            write_table(snap, "transactions", rows)
            error = refused(db, snap, code)
            assert located(error) == ("transactions.csv", 3, column)
            rows[2][rows[0].index(column)] = original
            write_table(snap, "transactions", rows)
        edit_cell(snap, "transactions", 5, "qty", "300")
        refused(db, snap, "BAK_047")
        edit_cell(snap, "transactions", 5, "qty", "3")
        assert import_csv(db, snap)["transactions"] == 16


def test_the_cli_prints_the_bak_code_and_the_cell(snap: Path, tmp_path: Path) -> None:
    """`import` of a snapshot with a bad cell prints BAK_044 and the cell, not INV_000."""
    edit_cell(snap, "transactions", 2, "qty", "abc")
    url = f"sqlite:///{tmp_path / 'cli.db'}"
    CliRunner().invoke(app, ["--db", url, "init"])
    result = CliRunner().invoke(app, ["--db", url, "import", str(snap)])
    assert result.exit_code != 0
    assert "BAK_044" in result.output and "transactions.csv" in result.output
    assert "Traceback" not in result.output
