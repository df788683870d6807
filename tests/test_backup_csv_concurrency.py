"""CSV import beside a second process that sells on the same target: no write lost, no mix.

The import requires an empty target and checks it inside its own write transaction, so a
writer in another process either committed first (the import refuses, naming what it
found) or waits until the import committed and then writes on top of the imported data.
"""

from __future__ import annotations

import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

from inventory_core import Database
from inventory_core.backup import export_csv, import_csv
from inventory_core.errors import SnapshotError, SnapshotTargetNotEmptyError
from inventory_core.invariants import check_all
from tests.backup_support import all_rows
from tests.csv_support import shop
from tests.db_support import test_settings

REPO = Path(__file__).resolve().parents[1]

WORKER = r"""
import sys
import time
from datetime import date
from pathlib import Path

sys.path.insert(0, sys.argv[4])
from tests.db_support import test_settings

from inventory_core import Database, Inventory
from inventory_core.errors import InventoryError

url, mode, stop = sys.argv[1], sys.argv[2], Path(sys.argv[3])
db = Database.open(url, settings=test_settings(busy_timeout_ms=20_000, retry_attempts=30))
inv = Inventory(db, user="worker")
sku = "SKU000"
if mode == "own":
    sku = "WORK"
    inv.add_sku(sku, "the worker's own article")
    print("ack-sku", flush=True)
    inv.snapshot(sku, 1_000_000, on=date(2026, 1, 1))
while not stop.exists():
    try:
        tid = inv.sell(sku, 1, on=date(2026, 3, 1))
    except InventoryError as exc:
        print("err", exc.code, flush=True)
        time.sleep(0.002)
        continue
    print("ack", tid, flush=True)
db.close()
"""


class Worker:
    """A child process selling in a loop; it prints ``ack <id>`` after each committed sale."""

    def __init__(self, url: str, mode: str, folder: Path) -> None:
        self.stop = folder / f"stop-{mode}"
        self.lines: list[str] = []
        self.errors = folder / f"stderr-{mode}.txt"
        with self.errors.open("w") as err:
            self.proc = subprocess.Popen(
                [sys.executable, "-c", WORKER, url, mode, str(self.stop), str(REPO)],
                stdout=subprocess.PIPE,
                stderr=err,
                text=True,
            )
        assert self.proc.stdout is not None
        self.reader = threading.Thread(target=self._read, args=(self.proc.stdout,), daemon=True)
        self.reader.start()

    def _read(self, stream: object) -> None:
        for line in stream:  # type: ignore[attr-defined]
            self.lines.append(line.strip())

    def acked(self) -> list[int]:
        """The transaction ids of every sale the child saw committed."""
        return [int(line.split()[1]) for line in list(self.lines) if line.startswith("ack ")]

    def wait_for(self, predicate: object, timeout: float = 60.0) -> None:
        """Wait until ``predicate(lines)`` holds, failing on timeout or an early exit."""
        deadline = time.monotonic() + timeout
        while not predicate(list(self.lines)):  # type: ignore[operator]
            assert self.proc.poll() is None, self.errors.read_text()
            assert time.monotonic() < deadline, self.lines[-5:]
            time.sleep(0.01)

    def finish(self) -> list[int]:
        """Stop the loop, wait for the child, and return the acknowledged ids."""
        self.stop.touch()
        self.proc.wait(timeout=60)
        self.reader.join(10)
        assert self.proc.returncode == 0, self.errors.read_text()
        return self.acked()


@pytest.fixture
def snapshot(tmp_path: Path) -> Path:
    """A snapshot of a healthy shop whose SKU000 has stock to sell."""
    with Database.open(tmp_path / "src.db", settings=test_settings()) as src:
        src.upgrade()
        shop(src, skus=1)
        return export_csv(src, tmp_path / "snap")


def _target(url: str) -> Database:
    db = Database.open(url, settings=test_settings(busy_timeout_ms=20_000, retry_attempts=30))
    db.upgrade()
    return db


def _sales_present(db: Database, acked: list[int], sku: str) -> None:
    rows = {r[0]: r for r in all_rows(db)["transactions"]}
    for tid in acked:
        assert tid in rows, f"acknowledged sale {tid} is missing"
        assert (rows[tid][2], rows[tid][3], rows[tid][4]) == (sku, "SALE", 1)


def test_a_seller_waiting_for_the_import_writes_on_top_of_it(
    any_url: str, snapshot: Path, tmp_path: Path
) -> None:
    """Sales attempted during the import fail typed until it commits, then land on top."""
    with _target(any_url) as db:
        worker = Worker(any_url, "import", tmp_path)
        try:
            worker.wait_for(lambda lines: any(line.startswith("err") for line in lines))
            counts = import_csv(db, snapshot)
            worker.wait_for(lambda lines: sum(line.startswith("ack") for line in lines) >= 20)
        finally:
            acked = worker.finish()
        assert counts["transactions"] == 8
        _sales_present(db, acked, "SKU000")
        assert len(all_rows(db)["transactions"]) == 8 + len(acked)
        first_ack = next(i for i, line in enumerate(worker.lines) if line.startswith("ack"))
        before = {line.split()[1] for line in worker.lines[:first_ack] if line.startswith("err")}
        assert before == {"REPO_001"}
        assert check_all(db, full=True).status.value == "HEALTHY"


def test_an_import_after_a_committed_write_refuses_and_loses_nothing(
    any_url: str, snapshot: Path, tmp_path: Path
) -> None:
    """Once another process wrote to the target, the import refuses; its writes all stay."""
    with _target(any_url) as db:
        worker = Worker(any_url, "own", tmp_path)
        try:
            worker.wait_for(lambda lines: "ack-sku" in lines)
            with pytest.raises(SnapshotTargetNotEmptyError):
                import_csv(db, snapshot)
            worker.wait_for(lambda lines: sum(line.startswith("ack ") for line in lines) >= 20)
        finally:
            acked = worker.finish()
        _sales_present(db, acked, "WORK")
        assert {r[0] for r in all_rows(db)["skus"]} == {"WORK"}
        assert check_all(db, full=True).status.value == "HEALTHY"


@pytest.mark.parametrize("delay", [0.0, 0.02, 0.1, 0.3])
def test_an_import_racing_a_first_write_is_all_or_refused(
    any_url: str, snapshot: Path, tmp_path: Path, delay: float
) -> None:
    """Started together, either the import wins and the worker writes on top, or it refuses."""
    with _target(any_url) as db:
        worker = Worker(any_url, "own", tmp_path)
        try:
            time.sleep(delay)
            try:
                import_csv(db, snapshot)
                imported = True
            except SnapshotError as exc:
                assert isinstance(exc, SnapshotTargetNotEmptyError), exc
                imported = False
            worker.wait_for(lambda lines: sum(line.startswith("ack ") for line in lines) >= 10)
        finally:
            acked = worker.finish()
        rows = all_rows(db)
        _sales_present(db, acked, "WORK")
        skus = {r[0] for r in rows["skus"]}
        assert skus == ({"SKU000", "WORK"} if imported else {"WORK"})
        assert check_all(db, full=True).status.value == "HEALTHY"
