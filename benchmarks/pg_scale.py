"""PostgreSQL write speed against the engine's own, in one run, printing JSON.

Usage (from the repository root, with ``INVENTORY_CORE_TEST_POSTGRES_URL`` set)::

    .venv/bin/python benchmarks/pg_scale.py --processes 1,2,4,8 --seconds 3 \
        --out benchmarks/results/pg_scale_before.json

Three measurements, each on a fresh database dropped afterwards:

- ``sell``: one process, the library's ``sell`` against a hand-written psycopg transaction
  doing the same work (row-locked position read, ledger insert, sales upsert, position
  update, audit head read under its lock, audit insert, commit), timed alternately;
- ``scaling``: real writer processes (``stress_worker.py``, write mix) at each process
  count, on 16 SKUs drawn at random ("distinct") and on one hot SKU, with p50/p99 latency,
  errors surfaced to callers and the final checks of ``stress_checks.py`` (ledger equals the
  acknowledged writes, chain intact, no negative stock);
- ``pgbench``: single-INSERT transactions per second at the same client counts, the
  engine's ceiling on this server.

The machine's load average is recorded beside every figure (``uptime``).
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import shutil
import subprocess
import sys
import tempfile
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import psycopg
import scale
import stress
import stress_checks
import workloads as w
from pg import ENV, _copy_ledger, fresh_database
from sqlalchemy.engine import make_url

from inventory_core import Database, Inventory, ReceiptLine

PGBENCH_SCRIPT = "INSERT INTO pgbench_one (sku, qty) VALUES ('SKU000', 1);\n"
HOT = ["SKU000"]
RUN_ID = "00000000-0000-0000-0000-000000000000"


def load() -> str:
    """The load averages of the machine right now."""
    return os.getloadavg().__repr__()


def _conninfo(url: str) -> str:
    return make_url(url).set(drivername="postgresql").render_as_string(hide_password=False)


def hand_sell(conn: psycopg.Connection[Any], sku: str, on: date) -> None:
    """A sale of one unit as a careful hand-written psycopg transaction."""
    now = datetime.now(UTC).isoformat()
    with conn.transaction(), conn.cursor() as cur:
        cur.execute("SELECT on_hand FROM stock_positions WHERE sku = %s FOR UPDATE", (sku,))
        row = cur.fetchone()
        if row is None or row[0] < 1:
            raise RuntimeError("no stock")
        cur.execute(
            "INSERT INTO transactions (date, sku, event, qty, priority, created_at)"
            " VALUES (%s, %s, 'SALE', 1, 2, %s) RETURNING transaction_id",
            (on, sku, now),
        )
        row = cur.fetchone()
        tid = row[0] if row else None
        cur.execute(
            "INSERT INTO sales (sku, date, qty_sold, promo_flag) VALUES (%s, %s, 1, false)"
            " ON CONFLICT (sku, date) DO UPDATE SET qty_sold = sales.qty_sold + 1",
            (sku, on),
        )
        cur.execute(
            "UPDATE stock_positions SET on_hand = on_hand - 1, last_transaction_id = %s"
            " WHERE sku = %s",
            (tid, sku),
        )
        cur.execute("SELECT pg_advisory_xact_lock(1)")
        cur.execute("SELECT hash FROM audit_log ORDER BY audit_id DESC LIMIT 1")
        head = cur.fetchone()
        prev = head[0] if head else ""
        details = json.dumps({"sku": sku, "qty": 1, "transaction_id": tid})
        digest = hashlib.sha256((prev + details).encode()).hexdigest()
        cur.execute(
            'INSERT INTO audit_log (timestamp, operation, "user", sku, details, ledger, run_id,'
            " duration_ms, prev_hash, hash)"
            " VALUES (%s, 'sell', 'bench', %s, %s, %s, %s, 0, %s, %s)",
            (now, sku, details, details, RUN_ID, prev, digest),
        )


def bench_sell(repeat: int) -> dict[str, Any]:
    """The library's sell and the hand-written one, alternately, on one fresh database."""
    on = date(2026, 1, 2)
    with fresh_database() as url, Database.open(url, check=None) as db:
        db.upgrade()
        inv = Inventory(db)
        for sku in ("LIB", "RAW"):
            inv.add_sku(sku, sku)
            inv.receive(f"R-{sku}", [ReceiptLine(sku, 100_000)], on=date(2026, 1, 1))
            inv.sell(sku, 1, on=on)  # a sale creates the SKU's row in the positions cache
        with psycopg.connect(_conninfo(url)) as conn:
            before = load()
            lib, raw = (lambda: inv.sell("LIB", 1, on=on)), (lambda: hand_sell(conn, "RAW", on))
            out = w.paired(lib, raw, repeat)
    return {**out, "load": [before, load()]}


def _run(
    url: str, workdir: Path, processes: int, seconds: float, skus: list[str]
) -> dict[str, Any]:
    with stress.fresh_url(url, workdir, f"p{processes}") as target:
        stress.prepare(target, workdir, skus=skus, start_qty=stress.SCALING_QTY)
        before = load()
        results = stress.run_workers(target, workdir, processes, seconds, mix="write", skus=skus)
        summary = stress.summarize(results, seconds)
        with Database.open(target, check=None) as db:
            checks = stress_checks.verify(db, workdir, exact=True)
    failed = {k: v[:3] for k, v in checks.items() if v}
    keep = ("processes", "writes", "writes_per_s", "write_p50_ms", "write_p99_ms", "retries")
    return {
        **{k: summary[k] for k in keep},
        "errors": len(summary["errors"]),
        "first_errors": summary["errors"][:3],
        "failed_checks": failed,
        "ok": not summary["errors"] and not failed,
        "load": [before, load()],
    }


def bench_scaling(url: str, counts: list[int], seconds: float) -> dict[str, Any]:
    """Writer processes at each count on spread SKUs and on one hot SKU."""
    root = Path(tempfile.mkdtemp(prefix="pg-scale-"))
    out: dict[str, Any] = {}
    try:
        for label, skus in (("distinct", stress.SKUS), ("hot", HOT)):
            curve = [_run(url, root / f"{label}-{p}", p, seconds, skus) for p in counts]
            one = curve[0]["writes_per_s"] or 1.0
            for point in curve:
                point["vs_1_process"] = round(point["writes_per_s"] / one, 2)
            out[label] = curve
    finally:
        shutil.rmtree(root, ignore_errors=True)
    return out


def pgbench_binary() -> str:
    """pgbench on PATH, or the PostgreSQL 15 one."""
    return shutil.which("pgbench") or "/usr/lib/postgresql/15/bin/pgbench"


def bench_pgbench(counts: list[int], seconds: float) -> list[dict[str, Any]]:
    """Single-INSERT transactions per second at each client count (``pgbench -n -f``)."""
    curve = []
    with fresh_database() as url, tempfile.TemporaryDirectory() as tmp:
        with psycopg.connect(_conninfo(url), autocommit=True) as conn:
            conn.execute("CREATE TABLE pgbench_one (id bigserial PRIMARY KEY, sku text, qty int)")
        script = Path(tmp) / "insert.sql"
        script.write_text(PGBENCH_SCRIPT)
        parsed = make_url(url)
        for clients in counts:
            args = [pgbench_binary(), "-n", "-f", str(script), "-c", str(clients)]
            args += ["-j", str(clients), "-T", str(max(1, round(seconds)))]
            args += ["-h", parsed.host or "127.0.0.1", "-p", str(parsed.port or 5432)]
            args += ["-U", parsed.username or "postgres", parsed.database or ""]
            before = load()
            done = subprocess.run(args, capture_output=True, text=True, check=True)
            tps = [line for line in done.stdout.splitlines() if line.startswith("tps")]
            value = float(tps[0].split("=")[1].split()[0]) if tps else 0.0
            curve.append({"clients": clients, "tps": round(value, 1), "load": [before, load()]})
    return curve


class _QmarkConnection:
    """A psycopg connection taking the ``?`` placeholders of the SQLite yardsticks."""

    def __init__(self, conn: psycopg.Connection[Any]) -> None:
        self.conn = conn

    def execute(self, sql: str, params: Any = ()) -> Any:
        return self.conn.execute(sql.replace("?", "%s"), params)


def bench_stock_all(skus: int, events: int, repeat: int) -> dict[str, Any]:
    """``stock_all`` over a copied ledger against one ordered raw scan folded in Python."""
    with tempfile.TemporaryDirectory() as tmp:
        source = Path(tmp) / "ledger.db"
        built = scale.build(source, skus, events)
        asof = w.latest_day(source)
        with fresh_database() as url, Database.open(url, check=None) as db:
            db.upgrade()
            copied = _copy_ledger(url, source)
            inv = Inventory(db)
            with psycopg.connect(_conninfo(url)) as conn:
                raw = _QmarkConnection(conn)
                lib = {
                    k: (v.on_hand, v.on_order, v.unfulfilled)
                    for k, v in inv.stock_all(asof).items()
                }
                exact = lib == scale.raw_fold(raw, asof)  # type: ignore[arg-type]
                before = load()
                out = w.paired(
                    lambda: inv.stock_all(asof),
                    lambda: scale.raw_fold(raw, asof),  # type: ignore[arg-type]
                    repeat,
                )
    return {
        "skus": skus,
        "events": copied,
        "build_s": built["build_s"],
        "exact": exact,
        **out,
        "load": [before, load()],
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--processes", default="1,2,4,8")
    parser.add_argument("--seconds", type=float, default=3.0)
    parser.add_argument("--repeat", type=int, default=200)
    parser.add_argument("--out", type=Path)
    parser.add_argument("--stock-all-events", type=int, default=1_000_000, help="0 skips it")
    args = parser.parse_args(argv)
    url = os.environ[ENV]
    counts = [int(p) for p in args.processes.split(",")]
    result: dict[str, Any] = {
        "command": "python benchmarks/pg_scale.py " + " ".join(argv or sys.argv[1:]),
        "when": datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
        "cpus": os.cpu_count(),
        "sell": bench_sell(args.repeat),
        "pgbench_insert": bench_pgbench(counts, args.seconds),
        "scaling": bench_scaling(url, counts, args.seconds),
    }
    if args.stock_all_events:
        result["stock_all"] = bench_stock_all(1_000, args.stock_all_events, 3)
    text = json.dumps(result, indent=2)
    if args.out:
        args.out.write_text(text + "\n")
    print(text)
    return 0


if __name__ == "__main__":
    sys.exit(main())
