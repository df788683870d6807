"""Small programs that the multi-process tests run in a child process, and how to start them.

Run as ``python tests/uow_support.py COMMAND ARGS...``. Every command that holds something
(a lock, a read transaction) prints ``ready`` on its own line once it holds it, so the test
can start measuring from that moment; then it waits for the given number of seconds, or for
a line on stdin when the seconds are ``stdin``.
"""

from __future__ import annotations

import json
import os
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
HERE = Path(__file__).resolve()


# --- the parent's side ---------------------------------------------------------------------


def start(*args: str) -> subprocess.Popen[str]:
    """Start ``uow_support.py COMMAND ARGS`` in a fresh interpreter (a real process)."""
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    return subprocess.Popen(
        [sys.executable, str(HERE), *args],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=env,
    )


def wait_ready(proc: subprocess.Popen[str]) -> None:
    """Block until the child printed ``ready`` (it holds what it was asked to hold)."""
    assert proc.stdout is not None
    line = proc.stdout.readline().strip()
    if line != "ready":
        _out, err = proc.communicate(timeout=30)
        raise AssertionError(f"child did not get ready: {line!r}\n{err}")


def release(proc: subprocess.Popen[str]) -> str:
    """Tell a child waiting on stdin to finish; return the rest of its stdout."""
    out, err = proc.communicate(input="go\n", timeout=60)
    assert proc.returncode == 0, err
    return out


def finish(proc: subprocess.Popen[str], timeout: float = 60) -> str:
    """Wait for a child to exit successfully; return the rest of its stdout."""
    out, err = proc.communicate(timeout=timeout)
    assert proc.returncode == 0, err
    return out


def run(*args: str) -> str:
    """Run a command to completion and return its stdout."""
    return finish(start(*args))


def count(path: Path, key_prefix: str = "") -> int:
    """Rows of the ``settings`` table whose key starts with ``key_prefix`` (a raw read)."""
    conn = sqlite3.connect(path)
    try:
        row = conn.execute(
            "SELECT count(*) FROM settings WHERE key LIKE ?", (key_prefix + "%",)
        ).fetchone()
        return int(row[0])
    finally:
        conn.close()


def file_size(path: Path) -> int:
    """Size of ``path`` in bytes, 0 when it does not exist."""
    return path.stat().st_size if path.exists() else 0


# --- the child's side ----------------------------------------------------------------------


def _wait(seconds: str) -> None:
    if seconds == "stdin":
        sys.stdin.readline()
    else:
        time.sleep(float(seconds))


def _raw(path: str) -> sqlite3.Connection:
    conn = sqlite3.connect(path, isolation_level=None, timeout=10)
    conn.execute("PRAGMA busy_timeout=10000")
    return conn


def hold(path: str, mode: str, seconds: str, key: str = "") -> None:
    """Hold a write lock (``immediate`` or ``exclusive``), optionally insert ``key``, commit."""
    conn = _raw(path)
    conn.execute(f"BEGIN {mode.upper()}")
    if key:
        conn.execute("INSERT INTO settings(key, value, updated_at) VALUES (?, 'held', '')", (key,))
    print("ready", flush=True)
    _wait(seconds)
    conn.execute("COMMIT")
    conn.close()


def hold_uow(url: str, seconds: str, key: str) -> None:
    """Hold one of our write units of work (BEGIN IMMEDIATE) with ``key`` inserted, commit."""
    from sqlalchemy import text

    from inventory_core import Database, Settings

    db = Database.open(url, settings=Settings.load(busy_timeout_ms=10_000), check=None)
    with db.unit_of_work() as uow:
        uow.execute(
            text("INSERT INTO settings(key, value, updated_at) VALUES (:k, 'held', '')"),
            {"k": key},
        )
        print("ready", flush=True)
        _wait(seconds)
        uow.commit()
    db.close()


def read_open(path: str, seconds: str) -> None:
    """Keep a read transaction open (a WAL snapshot) on ``path``."""
    conn = _raw(path)
    conn.execute("BEGIN")
    rows = conn.execute("SELECT count(*) FROM settings").fetchone()[0]
    print("ready", flush=True)
    _wait(seconds)
    conn.execute("ROLLBACK")
    conn.close()
    print(json.dumps({"rows_seen": rows}), flush=True)


def insert(path: str, key: str) -> None:
    """Insert one row with a raw connection and commit; print how long BEGIN waited (JSON).

    Prints ``ready`` just before asking for the write lock, so the parent knows the wait
    it measures is real contention and not the interpreter starting up.
    """
    conn = _raw(path)
    print("ready", flush=True)
    started = time.monotonic()
    conn.execute("BEGIN IMMEDIATE")
    waited = time.monotonic() - started
    conn.execute("INSERT INTO settings(key, value, updated_at) VALUES (?, 'other', '')", (key,))
    conn.execute("COMMIT")
    conn.close()
    print(json.dumps({"waited_s": waited}), flush=True)


def write(url: str, key: str) -> None:
    """Insert one row through ``db.run`` and print how long it took (JSON)."""
    from sqlalchemy import text

    from inventory_core import Database, Settings

    db = Database.open(url, settings=Settings.load(busy_timeout_ms=10_000), check=None)
    started = time.monotonic()
    db.run(
        lambda uow: uow.execute(
            text("INSERT INTO settings(key, value, updated_at) VALUES (:k, 'w', '')"), {"k": key}
        )
    )
    print(json.dumps({"elapsed_s": time.monotonic() - started}), flush=True)
    db.close()


def set_value(url: str, key: str, value: str) -> None:
    """Overwrite ``key`` as another program would, in a transaction of its own (on
    PostgreSQL a library write unit would wait for the chain head the caller holds)."""
    from sqlalchemy import create_engine, text

    engine = create_engine(url)
    with engine.begin() as conn:
        conn.execute(text("UPDATE settings SET value = :v WHERE key = :k"), {"k": key, "v": value})
    engine.dispose()


COMMANDS = {
    "hold": hold,
    "hold_uow": hold_uow,
    "read_open": read_open,
    "insert": insert,
    "write": write,
    "set_value": set_value,
}

if __name__ == "__main__":
    COMMANDS[sys.argv[1]](*sys.argv[2:])
