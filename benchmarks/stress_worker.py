"""One stress worker process: a mixed ledger workload with a durable log of acknowledged writes.

Run by :mod:`stress` as ``python stress_worker.py SPEC_JSON``. Every write the library
acknowledged (the call returned) is appended to ``acks-<index>.jsonl`` and fsynced before
the next operation, so after a ``kill -9`` the file still names every write the caller was
told had happened: those are the writes the database must still hold. A torn last line is
a write that was not yet acknowledged.
"""

from __future__ import annotations

import json
import os
import random
import sys
import time
from collections import Counter
from collections.abc import Callable, MutableMapping
from dataclasses import dataclass, field
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import structlog

from inventory_core import Database, Inventory, Settings
from inventory_core.backup import BackupService
from inventory_core.errors import ConflictError, InsufficientStockError
from inventory_core.ledger import ReceiptLine, ReceiptResult

BASE_DATE = date(2026, 1, 1)
DAYS = 7
"""Writes are dated over a week, in random order, so many of them are backdated."""

MIXES: dict[str, dict[str, int]] = {
    "mixed": {
        "sell": 30,
        "receive": 10,
        "adjust": 10,
        "revert": 6,
        "replay": 2,
        "stock": 32,
        "stock_all": 10,
    },
    "write": {"sell": 50, "receive": 20, "adjust": 20, "revert": 10},
}
READS = frozenset({"stock", "stock_all"})
EXPECTED_REJECTIONS = (InsufficientStockError,)
"""The domain's own refusals: expected outcomes of a random workload, not failures."""


def ack_path(workdir: Path, index: int | str) -> Path:
    """The acknowledged-writes log of one worker (``setup`` for the initial data)."""
    return workdir / f"acks-{index}.jsonl"


class AckLog:
    """An append-only JSON-lines file, fsynced line by line."""

    def __init__(self, path: Path) -> None:
        self._fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o644)

    def write(self, record: dict[str, Any]) -> None:
        os.write(self._fd, (json.dumps(record, separators=(",", ":")) + "\n").encode())
        os.fsync(self._fd)

    def close(self) -> None:
        os.close(self._fd)


def event_record(tid: int, sku: str, on: date, event: str, qty: int) -> list[Any]:
    """One acknowledged ledger row as stored in an ack line."""
    return [tid, sku, on.isoformat(), event, qty]


@dataclass
class Stats:
    """What one worker did; written to ``result-<index>.json`` at the end."""

    index: int
    writes: int = 0
    reads: int = 0
    backups: int = 0
    rejected: Counter[str] = field(default_factory=Counter)
    retries: Counter[str] = field(default_factory=Counter)
    errors: list[dict[str, str]] = field(default_factory=list)
    latencies_ms: list[float] = field(default_factory=list)
    elapsed_s: float = 0.0

    def to_dict(self) -> dict[str, Any]:
        return {
            "index": self.index,
            "writes": self.writes,
            "reads": self.reads,
            "backups": self.backups,
            "rejected": dict(self.rejected),
            "retries": dict(self.retries),
            "errors": self.errors,
            "latencies_ms": [round(v, 3) for v in self.latencies_ms],
            "elapsed_s": round(self.elapsed_s, 3),
        }


def count_retries(stats: Stats) -> None:
    """Count the library's ``unit_of_work_retry`` log events by error class, print nothing.

    The retries happen inside :meth:`Database.run`; their log events are the only outside
    sign of them, which is exactly what "retried transparently" must show.
    """

    def processor(_logger: Any, _method: str, event: MutableMapping[str, Any]) -> Any:
        if event.get("event") == "unit_of_work_retry":
            stats.retries[str(event.get("error"))] += 1
        raise structlog.DropEvent

    structlog.configure(processors=[processor], cache_logger_on_first_use=False)


class Workload:
    """The operations of one worker; each write returns its ack record."""

    def __init__(self, inv: Inventory, spec: dict[str, Any], stats: Stats) -> None:
        self.inv = inv
        self.index = int(spec["index"])
        self.skus: list[str] = list(spec["skus"])
        self.rng = random.Random(spec.get("seed", self.index))
        self.stats = stats
        self.revertible: list[int] = []
        self.docs: list[tuple[str, list[ReceiptLine], date, ReceiptResult]] = []
        self.counter = 0

    def _day(self) -> date:
        return BASE_DATE + timedelta(days=self.rng.randrange(DAYS))

    def sell(self) -> dict[str, Any]:
        sku, qty, on = self.rng.choice(self.skus), self.rng.randint(1, 5), self._day()
        tid = self.inv.sell(sku, qty, on=on)
        self.revertible.append(tid)
        return {"op": "sell", "events": [event_record(tid, sku, on, "SALE", qty)]}

    def adjust(self) -> dict[str, Any]:
        sku, on = self.rng.choice(self.skus), self._day()
        qty = self.rng.choice([-3, -2, -1, 1, 2, 3])
        tid = self.inv.adjust(sku, qty, on=on)
        self.revertible.append(tid)
        return {"op": "adjust", "events": [event_record(tid, sku, on, "ADJUST", qty)]}

    def receive(self) -> dict[str, Any]:
        self.counter += 1
        doc = f"W{self.index}-{self.counter}"
        skus = self.rng.sample(self.skus, self.rng.randint(1, min(2, len(self.skus))))
        lines = [ReceiptLine(sku, self.rng.randint(1, 20)) for sku in skus]
        on = self._day()
        result = self.inv.receive(doc, lines, on=on)
        self.docs.append((doc, lines, on, result))
        self.revertible.extend(result.transaction_ids)
        events = [
            event_record(tid, line.sku, on, "RECEIPT", line.qty)
            for tid, line in zip(result.transaction_ids, lines, strict=True)
        ]
        return {"op": "receive", "document": doc, "events": events}

    def revert(self) -> dict[str, Any] | None:
        if not self.revertible:
            return self.sell()
        tid = self.revertible.pop(self.rng.randrange(len(self.revertible)))
        self.inv.revert(tid, reason=f"stress worker {self.index}")
        return {"op": "revert", "reverts": [tid]}

    def replay(self) -> None:
        """Send an earlier document again: identical lines are a no-op, others a conflict."""
        if not self.docs:
            return None
        doc, lines, on, first = self.rng.choice(self.docs)
        again = self.inv.receive(doc, lines, on=on)
        if not again.replayed or again != first:
            raise AssertionError(f"replaying {doc} gave {again}, first {first}")
        changed = [ReceiptLine(line.sku, line.qty + 1) for line in lines]
        try:
            self.inv.receive(doc, changed, on=on)
        except ConflictError:
            return None
        raise AssertionError(f"{doc} with different lines was accepted")

    def stock(self) -> None:
        self.inv.stock(self.rng.choice(self.skus))

    def stock_all(self) -> None:
        if len(self.inv.stock_all()) < len(self.skus):
            raise AssertionError("stock_all lost SKUs")


def run(spec: dict[str, Any]) -> None:
    """Run the workload described by ``spec`` until its deadline (or until killed)."""
    workdir = Path(spec["workdir"])
    stats = Stats(index=int(spec["index"]))
    count_retries(stats)
    settings = Settings.load(**spec.get("settings", {}))
    db = Database.open(spec["url"], settings=settings, check=None)
    inv = Inventory(db, user=f"stress-{stats.index}")
    work = Workload(inv, spec, stats)
    acks = AckLog(ack_path(workdir, stats.index))
    mix = MIXES[spec["mix"]]
    ops, weights = list(mix), list(mix.values())
    backup_every = float(spec.get("backup_every_s") or 0)
    (workdir / f"ready-{stats.index}").touch()
    go = workdir / "go"
    while spec.get("wait_for_go") and not go.exists():
        time.sleep(0.005)
    started = time.monotonic()
    deadline = started + float(spec["seconds"])
    next_backup = started + backup_every
    while time.monotonic() < deadline:
        if backup_every and time.monotonic() >= next_backup:
            _attempt(stats, "backup", lambda: BackupService(db, workdir / "backups").backup())
            stats.backups += 1
            next_backup = time.monotonic() + backup_every
            continue
        op = work.rng.choices(ops, weights)[0]
        t0 = time.perf_counter()
        outcome = _attempt(stats, op, getattr(work, op))
        elapsed_ms = (time.perf_counter() - t0) * 1000
        if op in READS:
            stats.reads += outcome is not _FAILED
        elif isinstance(outcome, dict):
            acks.write(outcome)
            stats.writes += 1
            stats.latencies_ms.append(elapsed_ms)
    stats.elapsed_s = time.monotonic() - started
    acks.close()
    db.close()
    result = workdir / f"result-{stats.index}.json"
    result.with_suffix(".tmp").write_text(json.dumps(stats.to_dict()))
    result.with_suffix(".tmp").replace(result)


_FAILED = object()


def _attempt(stats: Stats, op: str, call: Callable[[], Any]) -> Any:
    """Run one operation; count expected refusals, record anything else as an error."""
    try:
        return call()
    except EXPECTED_REJECTIONS as exc:
        stats.rejected[type(exc).__name__] += 1
    except Exception as exc:
        code = getattr(exc, "code", "")
        stats.errors.append({"op": op, "type": type(exc).__name__, "code": code, "msg": str(exc)})
    return _FAILED


if __name__ == "__main__":
    run(json.loads(sys.argv[1]))
