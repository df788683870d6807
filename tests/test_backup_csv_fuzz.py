"""Hypothesis feeds mutated snapshots to the import: a typed error and an empty database, or an
exact import of what the mutated files say (re-exported cell for cell).

Mutations edit cells with hostile values, drop, duplicate or reshape rows, flip, insert or
delete bytes, re-encode files and rewrite manifest keys; the forger then recomputes the
manifest's sha256 (and row counts) or not, and the snapshot is imported as a folder or a zip.
"""

from __future__ import annotations

import contextlib
import csv
import hashlib
import io
import itertools
import json
import shutil
import zipfile
from collections import Counter
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import insert

from inventory_core import Database
from inventory_core.audit.trail import Operation, append
from inventory_core.backup import export_csv, import_csv
from inventory_core.db.uow import UnitOfWork
from inventory_core.errors import SnapshotError
from inventory_core.invariants import check_all
from inventory_core.models import EventUpliftRule, Holiday, KpiDaily, PromoCalendar, SettingRow
from tests.csv_support import BOM, is_empty, parse, placeholders_filled, shop
from tests.db_support import test_settings

NASTY = [
    "", "'", "''", "abc", "2026-13-45", "2026-02-30", "20260101", "0", "-0", "01", "+1",
    "1e3", "1.5", "2.50", "nan", "inf", "-1", str(2**31), str(2**63), str(2**70), "\x00",
    "a\x00b", "=1+1", "'=1", "\ud800", "x" * 70, "y" * 600, "SKU000", "SKU001", "PENDING",
    "SALE", "THEFT", "True", "1", " 1", "\u0661", "\r\n", '"', "NULL", "None", "2026-01-05",
]  # fmt: skip
VALUES = st.one_of(
    st.sampled_from(NASTY),
    st.text(max_size=12),
    st.integers(-(2**70), 2**70).map(str),
    st.integers(-3, 60).map(str),  # plausible quantities and ids: these reach the checks
    st.dates(date(2025, 12, 25), date(2026, 1, 15)).map(date.isoformat),
)
JSON = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=8),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=5), inner),
    max_leaves=4,
)


def _extras(uow: UnitOfWork) -> None:
    """One row in each table the shop leaves empty, with its audit row."""
    summer = {"start_date": date(2026, 6, 1), "end_date": date(2026, 8, 31)}
    uow.execute(insert(SettingRow).values(key="shop.name", value="Bottega 'Da Gino'"))
    uow.execute(insert(Holiday).values(name="Ferragosto", closed=True, **summer))
    uow.execute(insert(PromoCalendar).values(sku="SKU000", description="-10%", **summer))
    uow.execute(insert(EventUpliftRule).values(name="estate", sku=None, uplift=1.25, **summer))
    uow.execute(
        insert(KpiDaily).values(
            sku="SKU001", date=date(2026, 1, 9), on_hand=60, sold=3, wasted=2, unfulfilled=4,
            service_level=0.5,
        )
    )  # fmt: skip
    append(uow, Operation.MAINTENANCE, user="tester", details={"extras": 5})


@pytest.fixture(scope="module")
def base(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A folder snapshot where every table holds rows, and an empty migrated target file."""
    work = tmp_path_factory.mktemp("fuzz")
    with Database.open(work / "src.db", settings=test_settings()) as src:
        src.upgrade()
        shop(src)
        src.run(_extras)
        assert check_all(src, full=True).status.value == "HEALTHY"
        export_csv(src, work / "snap")
    with Database.open(work / "empty.db", settings=test_settings()) as empty:
        empty.upgrade()
    return work


@dataclass(frozen=True)
class Mutation:
    """One change to one file of the snapshot."""

    kind: str
    file: str
    a: int
    b: int
    value: Any

    def apply(self, folder: Path) -> None:
        path = folder / self.file
        data = path.read_bytes()
        if self.kind == "bytes":
            at = self.a % (len(data) + 1)
            cut = self.b % 4
            path.write_bytes(data[:at] + bytes(self.value) + data[at + cut :])
        elif self.kind == "truncate":
            path.write_bytes(data[: self.a % (len(data) + 1)])
        elif self.kind == "encode":
            text = data.decode("utf-8-sig")
            path.write_bytes(text.encode(self.value, "replace"))
        elif self.kind == "manifest":
            self._manifest(path)
        else:
            rows = parse(data.decode("utf-8-sig"))
            self._rows(rows)
            out = io.StringIO(newline="")
            csv.writer(out).writerows(rows)
            path.write_bytes((BOM + out.getvalue()).encode("utf-8", "surrogatepass"))

    def _rows(self, rows: list[list[str]]) -> None:
        if len(rows) < 2:
            rows.append([str(self.value)])
            return
        r = 1 + self.a % (len(rows) - 1)
        c = self.b % max(1, len(rows[r]))
        if self.kind == "cell":
            rows[r][c] = self.value
        elif self.kind == "drop_row":
            del rows[r]
        elif self.kind == "dup_row":
            rows.insert(r, list(rows[r]))
        elif self.kind == "drop_cell":
            del rows[r][c:]
        elif self.kind == "add_cell":
            rows[r].append(self.value)
        elif self.kind == "header":
            rows[0][c % len(rows[0])] = self.value

    def _manifest(self, path: Path) -> None:
        manifest = json.loads(path.read_text(encoding="utf-8"))
        keys = sorted(manifest["tables"])
        table = manifest["tables"][keys[self.a % len(keys)]]
        where, key = [
            (manifest, "format"), (manifest, "schema_revision"), (manifest, "tables"),
            (manifest["tables"], keys[self.a % len(keys)]), (table, "file"), (table, "rows"),
            (table, "sha256"), (table, "columns"),
        ][self.b % 8]  # fmt: skip
        if self.value == "<delete>":
            where.pop(key, None)
        else:
            where[key] = self.value
        path.write_text(json.dumps(manifest), encoding="utf-8")


def mutations(files: list[str]) -> st.SearchStrategy[Mutation]:
    """Any one mutation of any one file of the snapshot."""
    csvs = [f for f in files if f.endswith(".csv")]
    index = st.integers(0, 10_000)
    rows = st.builds(
        Mutation,
        st.sampled_from(["cell", "cell", "cell", "drop_row", "dup_row", "drop_cell", "add_cell",
                         "header"]),
        st.sampled_from(csvs), index, index, VALUES,
    )  # fmt: skip
    raw = st.builds(
        Mutation, st.just("bytes"), st.sampled_from(files), index, index,
        st.lists(st.integers(0, 255), max_size=4),
    )  # fmt: skip
    cut = st.builds(Mutation, st.just("truncate"), st.sampled_from(files), index, index, st.none())
    encode = st.builds(
        Mutation, st.just("encode"), st.sampled_from(csvs), index, index,
        st.sampled_from(["latin-1", "utf-16", "utf-16-be", "cp1252", "utf-8"]),
    )  # fmt: skip
    manifest = st.builds(
        Mutation, st.just("manifest"), st.just("manifest.json"), index, index,
        st.one_of(JSON, st.just("<delete>")),
    )  # fmt: skip
    return st.one_of(rows, rows, raw, cut, encode, manifest)


def forge(folder: Path, recount: bool) -> None:
    """Recompute the sha256 (and row count) of every file the manifest still names."""
    with contextlib.suppress(Exception):
        manifest = json.loads((folder / "manifest.json").read_text(encoding="utf-8"))
        for entry in manifest["tables"].values():
            with contextlib.suppress(Exception):
                data = (folder / entry["file"]).read_bytes()
                entry["sha256"] = hashlib.sha256(data).hexdigest()
                if recount:
                    entry["rows"] = len(parse(data.decode("utf-8-sig"))) - 1
        (folder / "manifest.json").write_text(json.dumps(manifest), encoding="utf-8")


def as_zip(folder: Path) -> Path:
    """The folder's files in one zip next to it."""
    target = folder.with_suffix(".zip")
    with zipfile.ZipFile(target, "w") as archive:
        for item in sorted(folder.iterdir()):
            archive.write(item, item.name)
    return target


def assert_exact(db: Database, folder: Path, work: Path) -> None:
    """Re-export ``db`` and compare every file, row for row and cell for cell, with the snapshot.

    Rows may come in another order (each carries its key): the export sorts them by key.
    """
    again = export_csv(db, work / "again")
    manifest = json.loads((folder / "manifest.json").read_text(encoding="utf-8"))
    for table, entry in manifest["tables"].items():
        imported = parse((folder / entry["file"]).read_bytes().decode("utf-8-sig"))
        written = parse((again / f"{table}.csv").read_bytes().decode("utf-8-sig"))
        if table == "audit_log":
            assert written[-1][2] == "import"
            written = written[:-1]
        assert written[:1] == imported[:1], table
        assert sorted(written[1:]) == sorted(imported[1:]), table  # a table is a set of rows


def _run(base: Path, tmp_path: Path, examples: int) -> Counter[str]:
    files = sorted(p.name for p in (base / "snap").iterdir() if p.name != "README.txt")
    outcomes: Counter[str] = Counter()
    numbers = itertools.count()

    @settings(
        max_examples=examples,
        deadline=None,
        suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
        database=None,
    )
    @given(
        changes=st.lists(mutations(files), min_size=1, max_size=3),
        forged=st.sampled_from(["none", "sha", "sha+rows", "sha+rows", "sha+rows"]),
        zipped=st.booleans(),
    )
    def example(changes: list[Mutation], forged: str, zipped: bool) -> None:
        work = tmp_path / f"ex{next(numbers)}"
        shutil.copytree(base / "snap", work / "snap")
        shutil.copy(base / "empty.db", work / "target.db")
        folder = work / "snap"
        for change in changes:
            with contextlib.suppress(Exception):
                change.apply(folder)
        if forged != "none":
            forge(folder, recount=forged == "sha+rows")
        snapshot = as_zip(folder) if zipped else folder
        with Database.open(work / "target.db", settings=test_settings()) as db:
            try:
                import_csv(db, snapshot)
            except SnapshotError as exc:
                assert exc.code.startswith("BAK_"), exc
                assert placeholders_filled(exc), exc
                assert {"file", "row", "column"} <= exc.context.keys(), exc.context
                assert is_empty(db), exc
                outcomes[exc.code] += 1
            else:
                assert_exact(db, folder, work)
                outcomes["exact import"] += 1
        shutil.rmtree(work)

    example()
    return outcomes


def test_mutated_snapshots_give_a_typed_error_and_an_empty_database_or_an_exact_import(
    base: Path, tmp_path: Path
) -> None:
    """150 mutated snapshots: each is refused with a BAK_ error (nothing written) or exact."""
    outcomes = _run(base, tmp_path, examples=150)
    print(f"\nmutated snapshots: {sum(outcomes.values())} {dict(sorted(outcomes.items()))}")
    assert outcomes["exact import"] > 0 and sum(outcomes.values()) - outcomes["exact import"] > 0


@pytest.mark.slow
def test_many_mutated_snapshots(base: Path, tmp_path: Path) -> None:
    """3,000 mutated snapshots, same property: typed error and empty database, or exact."""
    outcomes = _run(base, tmp_path, examples=3000)
    print(f"\nmutated snapshots: {sum(outcomes.values())} {dict(sorted(outcomes.items()))}")
    assert outcomes["exact import"] > 0
