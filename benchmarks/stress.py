"""Multi-process stress, write scaling and a kill -9 crash loop, printing JSON.

Usage (from the repository root)::

    .venv/bin/python benchmarks/stress.py run --url sqlite:///tmp/s.db --processes 4 --seconds 15
    .venv/bin/python benchmarks/stress.py scaling --url sqlite:///tmp/s.db --processes 1,4
    .venv/bin/python benchmarks/stress.py scaling \
        --url postgresql+psycopg://postgres@127.0.0.1/test --processes 1,2,4,8
    .venv/bin/python benchmarks/stress.py crash --url sqlite:///tmp/c.db --kills 10

Workers are separate processes (``stress_worker.py``) on one database; the checks in
``stress_checks.py`` run afterwards. A PostgreSQL URL only names the server: every command
creates a fresh database next to it and drops it afterwards. ``scaling`` gives each process
count a fresh database and, on SQLite, also measures raw ``sqlite3`` commits per second in
the same run as the yardstick.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import signal
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager, nullcontext
from datetime import timedelta
from pathlib import Path
from typing import Any

import stress_checks
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url
from stress_worker import BASE_DATE, AckLog, ack_path, event_record

from inventory_core import Database, Inventory

WORKER = Path(__file__).resolve().with_name("stress_worker.py")
SKUS = [f"SKU{n:03d}" for n in range(16)]
START_QTY = 20
"""Small opening counts, so that sales and reversals also meet the negative-stock check."""
SCALING_QTY = 100_000
"""Throughput runs start with plenty of stock, so that they measure writes, not refusals."""
STARTUP_TIMEOUT_S = 60.0


def prepare(url: str, workdir: Path, skus: list[str] = SKUS, start_qty: int = START_QTY) -> None:
    """Create the schema and the SKUs with an opening count, logged as acknowledged."""
    workdir.mkdir(parents=True, exist_ok=True)
    db = Database.open(url, check=None)
    try:
        db.upgrade()
        inv = Inventory(db, user="stress-setup")
        acks = AckLog(ack_path(workdir, "setup"))
        on = BASE_DATE - timedelta(days=1)
        for sku in skus:
            inv.add_sku(sku, f"stress {sku}")
            tid = inv.snapshot(sku, start_qty, on=on)
            acks.write(
                {"op": "snapshot", "events": [event_record(tid, sku, on, "SNAPSHOT", start_qty)]}
            )
        acks.close()
    finally:
        db.close()


def spawn(
    url: str, workdir: Path, index: int, seconds: float, **spec: Any
) -> subprocess.Popen[bytes]:
    """Start one worker process; its stderr goes to ``worker-<index>.log``."""
    body = {"url": url, "workdir": str(workdir), "index": index, "seconds": seconds, "skus": SKUS}
    body.update({"mix": "mixed", "seed": index, **spec})
    log = (workdir / f"worker-{index}.log").open("ab")
    cmd = [sys.executable, str(WORKER), json.dumps(body)]
    return subprocess.Popen(cmd, stdout=log, stderr=log, cwd=workdir)


def run_workers(
    url: str, workdir: Path, processes: int, seconds: float, **spec: Any
) -> list[dict[str, Any]]:
    """Run ``processes`` workers for ``seconds`` from one start signal; return their results."""
    others = {k: v for k, v in spec.items() if k != "backup_every_s"}
    procs = [
        spawn(url, workdir, i, seconds, wait_for_go=True, **(spec if i == 0 else others))
        for i in range(processes)
    ]
    limit = time.monotonic() + STARTUP_TIMEOUT_S
    while not all((workdir / f"ready-{i}").exists() for i in range(processes)):
        if time.monotonic() > limit or any(p.poll() is not None for p in procs):
            for p in procs:
                p.kill()
            raise RuntimeError(f"workers did not start; see {workdir}/worker-*.log")
        time.sleep(0.01)
    (workdir / "go").touch()
    codes = [p.wait(timeout=seconds + STARTUP_TIMEOUT_S) for p in procs]
    if any(codes):
        raise RuntimeError(f"workers exited with {codes}; see {workdir}/worker-*.log")
    return [json.loads((workdir / f"result-{i}.json").read_text()) for i in range(processes)]


def summarize(results: list[dict[str, Any]], seconds: float) -> dict[str, Any]:
    """Throughput and latency over every worker."""
    latencies = sorted(v for r in results for v in r["latencies_ms"])
    wall = max(r["elapsed_s"] for r in results) or seconds
    rejected: Counter[str] = Counter()
    retries: Counter[str] = Counter()
    for r in results:
        rejected.update(r["rejected"])
        retries.update(r["retries"])
    writes = sum(r["writes"] for r in results)
    return {
        "processes": len(results),
        "seconds": round(wall, 2),
        "writes": writes,
        "reads": sum(r["reads"] for r in results),
        "backups": sum(r["backups"] for r in results),
        "writes_per_s": round(writes / wall, 1),
        "reads_per_s": round(sum(r["reads"] for r in results) / wall, 1),
        "write_p50_ms": round(_quantile(latencies, 0.50), 2),
        "write_p99_ms": round(_quantile(latencies, 0.99), 2),
        "rejected": dict(rejected),
        "retries": dict(retries),
        "errors": [e for r in results for e in r["errors"]],
    }


def stress(
    url: str, workdir: Path, processes: int, seconds: float, start_qty: int = START_QTY, **spec: Any
) -> dict[str, Any]:
    """Prepare, run the mixed workload, verify; the summary has ``checks`` and ``ok``."""
    prepare(url, workdir, start_qty=start_qty)
    results = run_workers(url, workdir, processes, seconds, **spec)
    summary = summarize(results, seconds)
    with Database.open(url, check=None) as db:
        summary["checks"] = stress_checks.verify(db, workdir, exact=True)
    summary["ok"] = not summary["errors"] and not any(summary["checks"].values())
    return summary


def crash_loop(url: str, workdir: Path, kills: int, seed: int = 0) -> dict[str, Any]:
    """Kill a writing process with SIGKILL ``kills`` times, checking everything after each."""
    rng = random.Random(seed)
    prepare(url, workdir)
    rounds = []
    for n in range(kills):
        acks = ack_path(workdir, n)
        proc = spawn(url, workdir, n, 3600, mix="write", seed=seed * 1000 + n)
        limit = time.monotonic() + STARTUP_TIMEOUT_S
        # Kill while it writes: after its first acknowledged write, at a random moment.
        while not _has_data(acks) and proc.poll() is None and time.monotonic() < limit:
            time.sleep(0.002)
        time.sleep(rng.uniform(0.0, 0.5))
        alive = proc.poll() is None
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait()
        with Database.open(url) as db:
            checks = stress_checks.verify(db, workdir, exact=False)
        acked = stress_checks.read_acks(workdir)
        rounds.append({"round": n, "alive_at_kill": alive, "acked": len(acked.events), **checks})
    failures = [
        {"round": r["round"], **{k: v for k, v in r.items() if isinstance(v, list) and v}}
        for r in rounds
        if not r["alive_at_kill"] or any(isinstance(v, list) and v for v in r.values())
    ]
    final = stress_checks.read_acks(workdir)
    return {
        "kills": kills,
        "acknowledged_events": len(final.events),
        "acknowledged_reversals": len(final.reverts),
        "torn_ack_lines": final.torn_lines,
        "failures": failures,
        "ok": not failures,
    }


@contextmanager
def fresh_url(url: str, workdir: Path, label: str) -> Iterator[str]:
    """A new empty database of the same kind as ``url`` (dropped afterwards on PostgreSQL).

    The PostgreSQL URL only names the server: the stress data never goes into its database.
    """
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite":
        yield f"sqlite:///{workdir / f'{label}.db'}"
        return
    name = f"stress_{label}_{uuid.uuid4().hex[:8]}"
    admin = create_engine(url, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    try:
        yield parsed.set(database=name).render_as_string(hide_password=False)
    finally:
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


def scaling(url: str, workdir: Path, counts: list[int], seconds: float) -> dict[str, Any]:
    """Write-only throughput per process count, each on a fresh database, checked."""
    curve = []
    for p in counts:
        sub = workdir / f"p{p}"
        with fresh_url(url, sub, f"p{p}") as target:
            summary = stress(target, sub, p, seconds, start_qty=SCALING_QTY, mix="write")
        summary.pop("rejected")
        curve.append(summary)
    one = curve[0]["writes_per_s"] or 1.0
    result: dict[str, Any] = {
        "dialect": make_url(url).get_backend_name(),
        "curve": [
            {k: s[k] for k in ("processes", "writes_per_s", "write_p50_ms", "write_p99_ms")}
            | {"vs_1_process": round(s["writes_per_s"] / one, 2), "retries": s["retries"]}
            | {"ok": s["ok"], "errors": s["errors"][:3]}
            | {"failed_checks": {k: v[:3] for k, v in s["checks"].items() if v}}
            for s in curve
        ],
    }
    if result["dialect"] == "sqlite":
        raw = raw_sqlite3_commits_per_s(workdir / "raw.db", min(seconds, 3.0))
        result["raw_sqlite3_commits_per_s"] = round(raw, 1)
        result["library_1_process_vs_raw"] = round(one / raw, 3)
    return result


def raw_sqlite3_commits_per_s(path: Path, seconds: float) -> float:
    """Small write transactions per second with plain sqlite3 and the library's PRAGMAs."""
    conn = sqlite3.connect(path, isolation_level=None)
    conn.execute("PRAGMA journal_mode=WAL")
    conn.execute("PRAGMA synchronous=NORMAL")
    conn.execute("CREATE TABLE t (id INTEGER PRIMARY KEY, sku TEXT, qty INTEGER)")
    done, deadline = 0, time.monotonic() + seconds
    while time.monotonic() < deadline:
        conn.execute("BEGIN IMMEDIATE")
        conn.execute("INSERT INTO t (sku, qty) VALUES (?, ?)", ("SKU000", 1))
        conn.execute("COMMIT")
        done += 1
    conn.close()
    return done / seconds


def _has_data(path: Path) -> bool:
    return path.exists() and path.stat().st_size > 0


def _quantile(values: list[float], q: float) -> float:
    if len(values) < 2:
        return values[0] if values else 0.0
    return statistics.quantiles(values, n=100, method="inclusive")[round(q * 100) - 1]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    sub = parser.add_subparsers(dest="command", required=True)
    for name in ("run", "scaling", "crash"):
        cmd = sub.add_parser(name)
        cmd.add_argument("--url", required=True, help="database URL (SQLite or PostgreSQL)")
        cmd.add_argument("--workdir", type=Path, help="ack logs and results (default: temp)")
    sub.choices["run"].add_argument("--processes", type=int, default=4)
    sub.choices["run"].add_argument("--seconds", type=float, default=15.0)
    sub.choices["run"].add_argument("--backup-every", type=float, default=5.0)
    sub.choices["scaling"].add_argument("--processes", default="1,4", help="e.g. 1,2,4,8")
    sub.choices["scaling"].add_argument("--seconds", type=float, default=10.0)
    sub.choices["crash"].add_argument("--kills", type=int, default=10)
    args = parser.parse_args(argv)
    workdir = args.workdir or Path(tempfile.mkdtemp(prefix="stress-"))
    if args.command == "scaling":
        counts = [int(p) for p in args.processes.split(",")]
        out = scaling(args.url, workdir, counts, args.seconds)
    else:
        sqlite = make_url(args.url).get_backend_name() == "sqlite"
        with nullcontext(args.url) if sqlite else fresh_url(args.url, workdir, args.command) as url:
            if args.command == "run":
                spec = {"backup_every_s": args.backup_every}
                out = stress(url, workdir, args.processes, args.seconds, **spec)
            else:
                out = crash_loop(url, workdir, args.kills)
    print(json.dumps({"command": args.command, "workdir": str(workdir), **out}, indent=2))
    return 0 if out.get("ok", True) else 1


if __name__ == "__main__":
    sys.exit(main())
