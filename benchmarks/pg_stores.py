"""Many stores on one PostgreSQL server: write rates per store and per server, printing JSON.

Usage (from the repository root, with ``INVENTORY_CORE_TEST_POSTGRES_URL`` set)::

    .venv/bin/python benchmarks/pg_stores.py --stores 1,2,4 --per-store 1 --seconds 3 \
        --out benchmarks/results/pg_stores.json

For each store count, a fresh server database gets that many stores (schemas ``shop_0``,
``shop_1``...), each with ``--per-store`` writer processes (``stress_worker.py``, write
mix, 16 SKUs) started from one signal and run for ``--seconds``; then every store passes the
final checks of ``stress_checks.py`` (ledger = acknowledged writes, chain intact, stock =
the reference fold). Stores hold distinct advisory locks, so the server's total is the
sum of what the stores write until the machine itself (CPU, fsync) is the limit: the
``pgbench`` single-INSERT rate of ``benchmarks/pg_scale.py`` is that ceiling. The load
average is recorded beside every point.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import stress
import stress_checks
from pg import ENV

from inventory_core import Database


def _store_env(schema: str) -> None:
    os.environ["INVENTORY_CORE_STORE_SCHEMA"] = schema  # prepare() and the workers read it


def run_point(url: str, root: Path, stores: int, per_store: int, seconds: float) -> dict[str, Any]:
    """``stores`` stores side by side on one fresh database, ``per_store`` writers each."""
    with stress.fresh_url(url, root, f"s{stores}") as target:
        names = [f"shop_{i}" for i in range(stores)]
        procs: list[tuple[str, Path, int, Any]] = []
        for name in names:
            workdir = root / f"s{stores}-{name}"
            _store_env(name)
            stress.prepare(target, workdir, start_qty=stress.SCALING_QTY)
            for index in range(per_store):
                proc = stress.spawn(target, workdir, index, seconds, wait_for_go=True, mix="write")
                procs.append((name, workdir, index, proc))
        os.environ.pop("INVENTORY_CORE_STORE_SCHEMA", None)
        limit = time.monotonic() + stress.STARTUP_TIMEOUT_S
        while not all((w / f"ready-{i}").exists() for _n, w, i, _p in procs):
            if time.monotonic() > limit:
                raise RuntimeError(f"workers did not start; see {root}")
            time.sleep(0.01)
        before = stress_load()
        for _n, workdir, _i, _p in procs:
            (workdir / "go").touch()
        for _n, _w, _i, proc in procs:
            proc.wait(timeout=seconds + stress.STARTUP_TIMEOUT_S)
        per: dict[str, Any] = {}
        for name in names:
            workdir = root / f"s{stores}-{name}"
            files = [workdir / f"result-{i}.json" for i in range(per_store)]
            results = [json.loads(path.read_text()) for path in files]
            summary = stress.summarize(results, seconds)
            with Database.open(target, check=None, schema=name) as db:
                checks = stress_checks.verify(db, workdir, exact=True)
            failed = {k: v[:3] for k, v in checks.items() if v}
            per[name] = {
                "writes_per_s": summary["writes_per_s"],
                "write_p50_ms": summary["write_p50_ms"],
                "write_p99_ms": summary["write_p99_ms"],
                "errors": len(summary["errors"]),
                "failed_checks": failed,
            }
    rates = [p["writes_per_s"] for p in per.values()]
    return {
        "stores": stores,
        "writers_per_store": per_store,
        "server_writes_per_s": round(sum(rates), 1),
        "per_store_writes_per_s": rates,
        "ok": all(not p["errors"] and not p["failed_checks"] for p in per.values()),
        "per_store": per,
        "load": [before, stress_load()],
    }


def stress_load() -> str:
    """The load averages of the machine right now."""
    return repr(os.getloadavg())


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--stores", default="1,2,4")
    parser.add_argument("--per-store", type=int, default=1)
    parser.add_argument("--seconds", type=float, default=3.0)
    parser.add_argument("--out", type=Path)
    args = parser.parse_args(argv)
    url = os.environ[ENV]
    root = Path(tempfile.mkdtemp(prefix="pg-stores-"))
    try:
        points = [
            run_point(url, root, int(n), args.per_store, args.seconds)
            for n in args.stores.split(",")
        ]
    finally:
        shutil.rmtree(root, ignore_errors=True)
    result = {
        "command": "python benchmarks/pg_stores.py " + " ".join(argv or sys.argv[1:]),
        "when": datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
        "cpus": os.cpu_count(),
        "points": points,
    }
    text = json.dumps(result, indent=2)
    if args.out:
        args.out.write_text(text + "\n")
    print(text)
    return 0


if __name__ == "__main__":
    sys.exit(main())
