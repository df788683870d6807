"""What must hold after a stress run or a crash: nothing acknowledged lost, nothing half-written.

Each check returns a list of human-readable problems (empty when it holds), so a test can
assert on each one and print exactly what broke.
"""

from __future__ import annotations

import json
import sqlite3
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any

from sqlalchemy import text

from inventory_core import Database, Inventory, audit
from inventory_core.invariants import check_all
from inventory_core.ledger import LedgerEvent, reference_fold
from inventory_core.models import EventType

FAR_FUTURE = date(2100, 1, 1)
REVERT = "revert"
UNMAPPED = frozenset({"bulk_import"})
"""Audit operations whose details cannot name their transactions (none in the workload)."""


@dataclass
class Acked:
    """Every acknowledged write read back from the workers' ack logs."""

    events: dict[int, tuple[str, date, str, int]] = field(default_factory=dict)
    reverts: set[int] = field(default_factory=set)
    torn_lines: int = 0


def read_acks(workdir: Path) -> Acked:
    """Load every ``acks-*.jsonl``; a torn last line (killed mid-write) is not an ack."""
    acked = Acked()
    for path in sorted(workdir.glob("acks-*.jsonl")):
        for line in path.read_text().splitlines():
            try:
                record = json.loads(line)
            except json.JSONDecodeError:
                acked.torn_lines += 1
                continue
            for tid, sku, on, event, qty in record.get("events", []):
                acked.events[int(tid)] = (sku, date.fromisoformat(on), event, int(qty))
            acked.reverts.update(int(t) for t in record.get("reverts", []))
    return acked


def acknowledged_present(db: Database, acked: Acked) -> list[str]:
    """Every acknowledged event is in the ledger as acknowledged; every reversal recorded."""
    with db.read() as uow:
        ledger: Sequence[Any] = uow.execute(
            text("SELECT transaction_id, sku, date, event, qty FROM transactions")
        ).all()
        rows = {int(r[0]): (r[1], r[2], r[3], int(r[4])) for r in ledger}
        reversed_ids = {
            int(r[0]) for r in uow.execute(text("SELECT transaction_id FROM transaction_reversals"))
        }
    problems = []
    for tid, expected in sorted(acked.events.items()):
        found = rows.get(tid)
        if found is None:
            problems.append(f"acknowledged transaction {tid} {expected} is missing")
        elif _normal(found) != _normal(expected):
            problems.append(f"transaction {tid} is {found}, acknowledged as {expected}")
    problems += [f"acknowledged reversal of {t} is missing" for t in acked.reverts - reversed_ids]
    return problems


def nothing_unacknowledged(db: Database, acked: Acked) -> list[str]:
    """Without crashes, the ledger holds exactly the acknowledged events and reversals."""
    with db.read() as uow:
        tids = {int(r[0]) for r in uow.execute(text("SELECT transaction_id FROM transactions"))}
        rev = {
            int(r[0]) for r in uow.execute(text("SELECT transaction_id FROM transaction_reversals"))
        }
    extra = sorted(tids - set(acked.events))
    extra_rev = sorted(rev - acked.reverts)
    return [f"committed but never acknowledged: transactions {extra[:10]}"] * bool(extra) + [
        f"committed but never acknowledged: reversals of {extra_rev[:10]}"
    ] * bool(extra_rev)


def units_all_or_nothing(db: Database) -> list[str]:
    """Map ledger rows to audit rows both ways: each transaction and reversal has exactly one.

    The audit row of a ledger write names its transactions in ``details``
    (``transaction_id``, or ``transaction_ids`` for a delivery document); a REVERT row names
    the transaction it cancels. An event without its audit row, an audit row whose event is
    missing, or either twice, means a unit of work was split.
    """
    with db.read() as uow:
        tids = Counter(
            int(r[0]) for r in uow.execute(text("SELECT transaction_id FROM transactions"))
        )
        rev = Counter(
            int(r[0]) for r in uow.execute(text("SELECT transaction_id FROM transaction_reversals"))
        )
        audit_rows: Sequence[Any] = uow.execute(
            text("SELECT audit_id, operation, details FROM audit_log ORDER BY audit_id")
        ).all()
    named: Counter[int] = Counter()
    named_rev: Counter[int] = Counter()
    problems = []
    for audit_id, operation, raw in audit_rows:
        details: dict[str, Any] = json.loads(raw) if isinstance(raw, str) else dict(raw or {})
        if operation in UNMAPPED:
            problems.append(f"audit row {audit_id} ({operation}) names no transaction ids")
            continue
        ids = [details["transaction_id"]] if "transaction_id" in details else []
        ids += details.get("transaction_ids", [])
        (named_rev if operation == REVERT else named).update(int(i) for i in ids)
    for label, ledger, audited in (("transaction", tids, named), ("reversal of", rev, named_rev)):
        for tid in sorted(set(ledger) | set(audited)):
            if ledger[tid] != 1 or audited[tid] != 1:
                problems.append(
                    f"{label} {tid}: {ledger[tid]} ledger row(s), {audited[tid]} audit row(s)"
                )
    return problems


def stock_matches_fold(db: Database, acked: Acked) -> list[str]:
    """No lost update: ``stock_all`` equals the reference fold of the acknowledged events."""
    events = [
        LedgerEvent(tid, sku, on, EventType(event), qty)
        for tid, (sku, on, event, qty) in acked.events.items()
    ]
    expected = reference_fold(events, FAR_FUTURE, reversed_ids=acked.reverts)
    actual = Inventory(db).stock_all(asof=FAR_FUTURE)
    problems = [
        f"{sku}: stock {actual.get(sku)} but the acknowledged events fold to {stock}"
        for sku, stock in sorted(expected.items())
        if actual.get(sku) != stock
    ]
    problems += [f"{s}: negative on_hand {v.on_hand}" for s, v in actual.items() if v.on_hand < 0]
    return problems


def database_sound(db: Database) -> list[str]:
    """integrity_check ok (SQLite), invariants HEALTHY, the audit chain valid and unforked."""
    problems = []
    if db.path is not None:
        with sqlite3.connect(db.path) as conn:
            result = [r[0] for r in conn.execute("PRAGMA integrity_check")]
        conn.close()
        if result != ["ok"]:
            problems.append(f"integrity_check: {result[:5]}")
    report = check_all(db, full=True)
    if report.status.value != "HEALTHY":
        problems.append(f"invariants {report.status.value}: {[f.name for f in report.failures]}")
    chain = audit.verify(db)
    if not chain.ok:
        problems.append(f"audit chain broken at {chain.first_broken_id}: {chain.reason}")
    with db.read() as uow:
        forks = uow.execute(
            text("SELECT prev_hash FROM audit_log GROUP BY prev_hash HAVING count(*) > 1")
        ).all()
    problems += [f"audit chain forks after {r[0][:12]}" for r in forks]
    return problems


def verify(db: Database, workdir: Path, *, exact: bool) -> dict[str, list[str]]:
    """Every check by name; ``exact`` (no crash) also demands nothing unacknowledged."""
    acked = read_acks(workdir)
    found = {
        "acknowledged_present": acknowledged_present(db, acked),
        "units_all_or_nothing": units_all_or_nothing(db),
        "database_sound": database_sound(db),
    }
    if exact:
        found["nothing_unacknowledged"] = nothing_unacknowledged(db, acked)
        found["stock_matches_fold"] = stock_matches_fold(db, acked)
    return found


def _normal(row: tuple[Any, ...]) -> tuple[str, str, str, int]:
    sku, on, event, qty = row
    return str(sku), str(on), str(getattr(event, "value", event)), int(qty)
