"""PostgreSQL ledger writes at READ COMMITTED: what they wait for, and what they never break.

Real processes, real locks: a SKU row locked by another session holds back the writers of
that SKU only; receipts written side by side are each sealed once by their own audit row;
the same document received by several processes at once is written once; SERIALIZABLE
units appending to the chain among ledger writes leave one unforked chain.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from datetime import date
from pathlib import Path

import psycopg
import pytest
from sqlalchemy import text
from sqlalchemy.engine import make_url

from inventory_core import Database, Inventory, audit
from inventory_core.invariants import check_all
from tests.db_support import test_settings

pytestmark = pytest.mark.postgres

ROOT = Path(__file__).resolve().parents[1]


def _start(*args: str) -> subprocess.Popen[str]:
    env = {**os.environ, "INVENTORY_CORE_LOG_LEVEL": "WARNING"}
    return subprocess.Popen(
        [sys.executable, "-m", "tests.pg_locks_support", *args],
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def _result(proc: subprocess.Popen[str], timeout: float = 60) -> dict[str, object]:
    out, err = proc.communicate(timeout=timeout)
    assert proc.returncode == 0, err[-2000:]
    return dict(json.loads(out.strip().splitlines()[-1]))


def _libpq(url: str) -> str:
    parsed = make_url(url)
    host, port = parsed.host, parsed.port or 5432
    return f"host={host} port={port} user={parsed.username} dbname={parsed.database}"


def _sound(db: Database) -> None:
    """The chain verifies (ledger coverage included), has no fork, and invariants hold."""
    chain = audit.verify(db)
    assert chain.ok, chain.reason
    with db.read() as uow:
        forks = uow.fetch(
            text("SELECT prev_hash FROM audit_log GROUP BY prev_hash HAVING count(*) > 1")
        )
    assert forks == []
    report = check_all(db, full=True)
    assert report.status.value == "HEALTHY", [f.name for f in report.failures]


@pytest.fixture
def shop(pg_url: str) -> Database:
    """Two SKUs, A and B, with 100 each on 1 March 2026."""
    db = Database.open(pg_url, settings=test_settings())
    db.upgrade()
    inv = Inventory(db, user="tester")
    for code in ("A", "B"):
        inv.add_sku(code)
        inv.snapshot(code, 100, on=date(2026, 3, 1))
    return db


def test_a_locked_sku_holds_back_only_its_own_writers(shop: Database, pg_url: str) -> None:
    """While another session holds SKU A's row, a sale of B completes and a sale of A waits."""
    holder = psycopg.connect(_libpq(pg_url))
    watcher = psycopg.connect(_libpq(pg_url), autocommit=True)  # a fresh view per query
    try:
        holder.execute("SELECT sku FROM skus WHERE sku = 'A' FOR UPDATE")
        other = _start("sell", pg_url, "B", "2")
        assert _result(other, timeout=30)["tid"]
        same = _start("sell", pg_url, "A", "3")
        deadline = time.monotonic() + 30
        waiting = 0
        while time.monotonic() < deadline and not waiting:
            waiting = watcher.execute(
                "SELECT count(*) FROM pg_stat_activity WHERE wait_event_type = 'Lock' "
                "AND datname = current_database()"
            ).fetchone()[0]  # type: ignore[index]
            time.sleep(0.05)
        assert waiting == 1, "the sale of A should wait for A's row"
        assert same.poll() is None
    finally:
        holder.rollback()
        holder.close()
        watcher.close()
    assert _result(same, timeout=30)["tid"]
    inv = Inventory(shop, user="tester")
    assert inv.stock("A", date(2026, 3, 3)).on_hand == 97
    assert inv.stock("B", date(2026, 3, 3)).on_hand == 98
    _sound(shop)
    shop.close()


def test_receipts_written_side_by_side_are_each_sealed_once(
    shop: Database, pg_url: str, tmp_path: Path
) -> None:
    """Four processes receiving at once (two per SKU): every row is covered exactly once."""
    go = tmp_path / "go"
    procs = [_start("receive", pg_url, f"P{n}", "AB"[n % 2], "15", str(go)) for n in range(4)]
    time.sleep(1.0)
    go.touch()
    results = [_result(p, timeout=120) for p in procs]
    assert [r["replayed"] for r in results] == [0, 0, 0, 0]
    with shop.read() as uow:
        receipts = uow.scalar(text("SELECT count(*) FROM transactions WHERE event = 'RECEIPT'"))
    assert receipts == 60
    _sound(shop)
    shop.close()


def test_one_document_received_by_many_processes_is_written_once(
    shop: Database, pg_url: str, tmp_path: Path
) -> None:
    """The same ten documents from four processes at once: written once, replayed the rest."""
    go = tmp_path / "go"
    procs = [_start("receive", pg_url, "SAME", "A", "10", str(go)) for _ in range(4)]
    time.sleep(1.0)
    go.touch()
    results = [_result(p, timeout=120) for p in procs]
    assert sum(int(str(r["replayed"])) for r in results) == 30
    inv = Inventory(shop, user="tester")
    assert inv.stock("A", date(2026, 3, 3)).on_hand == 100 + sum(1 + n % 3 for n in range(10))
    _sound(shop)
    shop.close()


def test_serializable_units_among_ledger_writes_keep_one_chain(
    shop: Database, pg_url: str, tmp_path: Path
) -> None:
    """SERIALIZABLE units appending audit rows beside three selling processes: one chain."""
    go = tmp_path / "go"
    procs = [_start("appends", pg_url, "25", str(go))]
    procs += [_start("sells", pg_url, code, "25", str(go)) for code in ("A", "B", "A")]
    time.sleep(1.0)
    go.touch()
    for proc in procs:
        _result(proc, timeout=180)
    inv = Inventory(shop, user="tester")
    assert inv.stock("A", date(2026, 3, 3)).on_hand == 50
    assert inv.stock("B", date(2026, 3, 3)).on_hand == 75
    with shop.read() as uow:
        rows = uow.scalar(text("SELECT count(*) FROM audit_log"))
    assert rows == 4 + 25 + 75  # setup, appends, sales
    _sound(shop)
    shop.close()


def test_a_code_two_writers_checked_at_once_is_refused_by_the_later_clearly(
    shop: Database, pg_url: str
) -> None:
    """Another session inserts SKU NEW uncommitted; the library's add_sku passes its own
    check, waits at the unique index, meets 23505 when the other commits, runs again and
    refuses with its own message, nothing written twice."""
    holder = psycopg.connect(_libpq(pg_url))
    watcher = psycopg.connect(_libpq(pg_url), autocommit=True)
    try:
        holder.execute(
            "INSERT INTO skus SELECT * FROM jsonb_populate_record(NULL::skus, "
            "(SELECT to_jsonb(s) || '{\"sku\": \"NEW\"}' FROM skus s WHERE sku = 'A'))"
        )
        proc = _start("add_sku", pg_url, "NEW")
        deadline = time.monotonic() + 30
        waiting = 0
        while time.monotonic() < deadline and not waiting:
            waiting = watcher.execute(
                "SELECT count(*) FROM pg_stat_activity WHERE wait_event_type = 'Lock' "
                "AND datname = current_database()"
            ).fetchone()[0]  # type: ignore[index]
            time.sleep(0.05)
        assert waiting == 1, "add_sku should wait at the unique index"
        holder.commit()
    finally:
        holder.close()
        watcher.close()
    result = _result(proc, timeout=60)
    assert "SKU 'NEW' already exists" in str(result["message"])
    with shop.read() as uow:
        assert uow.scalar(text("SELECT count(*) FROM skus WHERE sku = 'NEW'")) == 1
    shop.close()
