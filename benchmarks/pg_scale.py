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
- ``sell_scaling``: pure sells at each process count, one SKU per process, the library's
  ``sell`` and the hand-written transaction in the same run (sells/s, p50/p99, errors, the
  chain verified afterwards);
- ``pgbench``: single-INSERT transactions per second at the same client counts, the
  engine's ceiling on this server.

The machine's load average is recorded beside every figure (``uptime``).
"""

from __future__ import annotations

import argparse
import hashlib
import json
import multiprocessing
import os
import shutil
import subprocess
import sys
import tempfile
import time
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

from inventory_core import Database, Inventory, ReceiptLine, audit

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


def _sell_worker(
    kind: str, url: str, sku: str, seconds: float, ready: Any, go: Any, out: Any
) -> None:
    """One process selling one unit of ``sku`` in a loop for ``seconds`` (library or hand)."""
    on = date(2026, 1, 2)
    latencies: list[float] = []
    errors = 0
    if kind == "library":
        db = Database.open(url, check=None)
        inv = Inventory(db)
        sell = lambda: inv.sell(sku, 1, on=on)  # noqa: E731
    else:
        conn = psycopg.connect(_conninfo(url))
        sell = lambda: hand_sell(conn, sku, on)  # noqa: E731
    ready.set()
    go.wait()
    end = time.perf_counter() + seconds
    while (now := time.perf_counter()) < end:
        try:
            sell()
        except Exception:  # counted: an error reaching the caller fails the goal
            errors += 1
        latencies.append(time.perf_counter() - now)
    out.put({"sells": len(latencies) - errors, "errors": errors, "latencies": latencies})


def bench_sell_scaling(counts: list[int], seconds: float) -> dict[str, Any]:
    """Pure sells at each process count, one SKU per process, library then hand-written."""
    ctx = multiprocessing.get_context("spawn")
    curves: dict[str, list[dict[str, Any]]] = {}
    for kind in ("library", "hand"):
        curve = []
        for procs in counts:
            with fresh_database() as url, Database.open(url, check=None) as db:
                db.upgrade()
                inv = Inventory(db)
                skus = [f"S{n:02d}" for n in range(procs)]
                for sku in skus:
                    inv.add_sku(sku, sku)
                    inv.receive(f"R-{sku}", [ReceiptLine(sku, 10_000_000)], on=date(2026, 1, 1))
                    inv.sell(sku, 1, on=date(2026, 1, 2))
                go, out = ctx.Event(), ctx.Queue()
                readies = [ctx.Event() for _ in skus]
                workers = [
                    ctx.Process(target=_sell_worker, args=(kind, url, sku, seconds, r, go, out))
                    for sku, r in zip(skus, readies, strict=True)
                ]
                for worker in workers:
                    worker.start()
                for r in readies:
                    r.wait(60)
                before = load()
                go.set()
                results = [out.get(timeout=seconds + 60) for _ in workers]
                for worker in workers:
                    worker.join(30)
                # The hand-written rows hash differently: only the library's chain verifies.
                chain = audit.verify(db).ok if kind == "library" else None
            lat = sorted(x for r in results for x in r["latencies"])
            sells = sum(r["sells"] for r in results)
            curve.append(
                {
                    "processes": procs,
                    "sells_per_s": round(sells / seconds, 1),
                    "p50_ms": round(lat[len(lat) // 2] * 1000, 2) if lat else None,
                    "p99_ms": round(lat[int(len(lat) * 0.99)] * 1000, 2) if lat else None,
                    "errors": sum(r["errors"] for r in results),
                    "chain_ok": chain,
                    "load": [before, load()],
                }
            )
        one = curve[0]["sells_per_s"] or 1.0
        for point in curve:
            point["vs_1_process"] = round(point["sells_per_s"] / one, 2)
        curves[kind] = curve
    for lib, hand in zip(curves["library"], curves["hand"], strict=True):
        lib["vs_hand"] = round(lib["sells_per_s"] / (hand["sells_per_s"] or 1.0), 2)
    return curves


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


RAW_JUMP_PG = (
    scale.RAW_JUMP.replace("NOT IN rev", "NOT IN (SELECT transaction_id FROM rev)")
    .replace("MIN(0, MIN(run))", "LEAST(0, MIN(run))")
    .replace(":asof", "%(asof)s")
    .replace("'0001-01-01'", "DATE '0001-01-01'")
)
"""``benchmarks/scale.py``'s set-based statement (the last count, a window over the order
flow) in PostgreSQL's spelling: the best raw SQL yardstick."""


def raw_jump_pg(conn: psycopg.Connection[Any], asof: date) -> dict[str, tuple[int, int, int]]:
    """stock_all as the one hand-written set-based statement."""
    rows = conn.execute(RAW_JUMP_PG, {"asof": asof}).fetchall()
    return {r[0]: (int(r[1]), int(r[2]), int(r[3])) for r in rows}


def bench_stock_all(skus: int, events: int, repeat: int) -> dict[str, Any]:
    """``stock_all`` over a copied ledger against one ordered raw scan folded in Python, and
    against the hand-written set-based statement (``set_based``)."""
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
                exact_set = lib == raw_jump_pg(conn, asof)
                before = load()
                out = w.paired(
                    lambda: inv.stock_all(asof),
                    lambda: scale.raw_fold(raw, asof),  # type: ignore[arg-type]
                    repeat,
                )
                set_based = w.paired(
                    lambda: inv.stock_all(asof), lambda: raw_jump_pg(conn, asof), repeat
                )
    return {
        "skus": skus,
        "events": copied,
        "build_s": built["build_s"],
        "exact": exact,
        **out,
        "set_based": {"exact": exact_set, **set_based},
        "load": [before, load()],
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--processes", default="1,2,4,8")
    parser.add_argument("--seconds", type=float, default=3.0)
    parser.add_argument("--repeat", type=int, default=200)
    parser.add_argument("--out", type=Path)
    parser.add_argument("--stock-all-events", type=int, default=1_000_000, help="0 skips it")
    parser.add_argument(
        "--only", default="", help="comma-separated parts to run (sell,sell_scaling,...)"
    )
    args = parser.parse_args(argv)
    url = os.environ[ENV]
    counts = [int(p) for p in args.processes.split(",")]
    parts: dict[str, Any] = {
        "sell": lambda: bench_sell(args.repeat),
        "pgbench_insert": lambda: bench_pgbench(counts, args.seconds),
        "sell_scaling": lambda: bench_sell_scaling(counts, args.seconds),
        "scaling": lambda: bench_scaling(url, counts, args.seconds),
    }
    if args.stock_all_events:
        parts["stock_all"] = lambda: bench_stock_all(1_000, args.stock_all_events, 3)
    wanted = [p for p in args.only.split(",") if p] or list(parts)
    result: dict[str, Any] = {
        "command": "python benchmarks/pg_scale.py " + " ".join(argv or sys.argv[1:]),
        "when": datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
        "cpus": os.cpu_count(),
        **{name: parts[name]() for name in wanted},
    }
    text = json.dumps(result, indent=2)
    if args.out:
        args.out.write_text(text + "\n")
    print(text)
    return 0


if __name__ == "__main__":
    sys.exit(main())
