"""Restoring over a live SQLite file in place: one write transaction, never a file swap.

Swapping the file (``os.replace``) under programs that have it open is unsound: their open
connections keep the old inode, so every write they commit afterwards goes into a file no
one will read again, and their last connection to close deletes ``-wal`` and ``-shm`` *by
name*, which by then belong to the new file. So the restore goes through SQLite's own
locking instead, on one connection to the live file:

1. ``ATTACH`` the staged copy read-only (``ATTACH`` cannot run inside a transaction);
2. ``BEGIN IMMEDIATE``: from here no other connection, in any process, can commit;
3. the safety backup, copied by the online backup API on a second connection. The backup
   API refuses a source connection that holds a write transaction, but while this one
   holds the write lock nobody else can commit, so the second connection's snapshot is
   exactly every write acknowledged before the lock;
4. count what the restore discards: audit rows (one per write) and ledger rows of the
   live database that the staged copy does not hold;
5. drop every view, trigger and table of ``main``; recreate the tables from the staged
   copy's ``sqlite_master``; copy every row (``INSERT INTO main.t SELECT ... FROM
   staged.t``), ``sqlite_sequence`` and ``sqlite_stat1`` too; then the indexes, the
   triggers (after the rows, so the append-only triggers do not refuse the copy) and the
   views. Foreign keys are off on this connection (``PRAGMA foreign_keys`` cannot change
   inside a transaction, and dropping a parent table would otherwise run an implicit
   ``DELETE``); ``foreign_key_check`` runs instead, before the commit;
6. check: the same schema objects as the staged copy, the same rows per table, no foreign
   key violation, the same audit head; record the restore (``database_identity.last_restore``
   and a ``restore`` audit row) in the same transaction;
7. ``COMMIT``, or ``ROLLBACK`` on any failure (the live database is then untouched).

Every other connection sees the restored content at its next transaction (the schema
cookie changed, so SQLite prepares its statements again); a ``kill -9`` at any step leaves
the old content or the new one, whole, because that is what a SQLite transaction
guarantees. The copy is logical, so the live file keeps its page size and its inode.
"""

from __future__ import annotations

import json
import sqlite3
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from inventory_core.audit.trail import GENESIS_HASH, Operation, audit_row
from inventory_core.backup.files import fault_point
from inventory_core.errors import RestoreBusyError, RestoreError, translate
from inventory_core.errors.i18n import gettext as _

LEDGER_TABLE = "transactions"
LOCK_POLL_S = 0.002
AUDIT_TABLE = "audit_log"


@dataclass(frozen=True)
class Replaced:
    """What the transaction did: the safety backup, and what it replaced."""

    safety_backup: Path
    writes_discarded: int
    ledger_rows_discarded: int
    rows: dict[str, int]
    locked_s: float
    """How long other writers had to wait: from the lock to the commit."""


def quote(name: str) -> str:
    """An SQL identifier in double quotes."""
    return '"' + name.replace('"', '""') + '"'


def replace_live(
    live: Path,
    staged: Path,
    *,
    timeout_s: float,
    cache_kib: int = 65536,
    take_safety: Callable[[], Path],
    record: Callable[[Path, int, int], tuple[dict[str, Any], str]],
) -> Replaced:
    """Replace the content of ``live`` with the staged copy's, in one transaction.

    Args:
        live: the live database file.
        staged: the checked (and upgraded) private copy, in ``journal_mode=DELETE``.
        timeout_s: how long to wait for the write lock.
        cache_kib: the page cache of the restoring connection.
        take_safety: takes the safety backup of ``live`` and returns its path; called while
            this connection holds the write lock.
        record: given the safety backup and the writes and ledger rows discarded, returns
            the ``restore`` audit row's details and the user it names.

    Raises:
        RestoreBusyError: the write lock was not free within ``timeout_s``.
        RestoreError: a check failed before the commit; nothing was changed.
    """
    conn = sqlite3.connect(live.as_uri(), uri=True, isolation_level=None, timeout=0)
    try:
        conn.execute("PRAGMA foreign_keys=OFF")
        # The whole database passes through this one transaction: a cache that holds it
        # spills less of it to the WAL before the commit, and index builds sort in memory.
        conn.execute(f"PRAGMA cache_size=-{int(cache_kib)}")
        conn.execute("PRAGMA temp_store=MEMORY")
        conn.execute("ATTACH DATABASE ? AS staged", (f"{staged.as_uri()}?mode=ro",))
        _begin_immediate(conn, live, timeout_s)
        locked = time.monotonic()
        try:
            fault_point("restore-locked")
            safety = take_safety()
            fault_point("restore-safety-taken")
            writes, ledger = _discarded(conn)
            _replace(conn)
            fault_point("restore-replaced")
            rows = _check(conn, live)
            details, user = record(safety, writes, ledger)
            _record(conn, safety, details, user)
            fault_point("restore-before-commit")
            conn.execute("COMMIT")
            locked_s = time.monotonic() - locked
        except BaseException:
            if conn.in_transaction:
                conn.execute("ROLLBACK")
            raise
        fault_point("restore-committed")
        conn.execute("DETACH DATABASE staged")
    finally:
        conn.close()
    return Replaced(safety, writes, ledger, rows, round(locked_s, 3))


def _begin_immediate(conn: sqlite3.Connection, live: Path, timeout_s: float) -> None:
    """``BEGIN IMMEDIATE``, tried every few milliseconds until ``timeout_s``.

    SQLite's own busy handler sleeps longer and longer between tries (up to 100 ms), and a
    writer that commits back to back frees the lock only between two of its units: polled
    that slowly, the restore could wait for the whole timeout.

    Raises:
        RestoreBusyError: the lock was never free.
    """
    started = time.monotonic()
    while True:
        try:
            conn.execute("BEGIN IMMEDIATE")
            return
        except sqlite3.OperationalError as exc:
            if getattr(exc, "sqlite_errorcode", 0) & 0xFF not in (sqlite3.SQLITE_BUSY, 0):
                raise translate(exc, path=str(live)) from exc
            waited = time.monotonic() - started
            if waited >= timeout_s:
                raise RestoreBusyError(str(exc), path=str(live), waited_s=round(waited, 1)) from exc
            time.sleep(LOCK_POLL_S)


def _objects(conn: sqlite3.Connection, schema: str) -> list[tuple[str, str, str, str | None]]:
    return [
        (str(t), str(n), str(b), s)
        for t, n, b, s in conn.execute(
            f"SELECT type, name, tbl_name, sql FROM {schema}.sqlite_master "
            "WHERE name NOT LIKE 'sqlite_stat%' ORDER BY rowid"
        )
    ]


def _tables(conn: sqlite3.Connection, schema: str) -> list[str]:
    return [
        name
        for kind, name, _tbl, _sql in _objects(conn, schema)
        if kind == "table" and not name.startswith("sqlite_")
    ]


def _column_names(conn: sqlite3.Connection, schema: str, table: str) -> list[str]:
    """The stored columns of ``table`` (generated and hidden columns cannot be inserted)."""
    rows = conn.execute(f"PRAGMA {schema}.table_xinfo({quote(table)})").fetchall()
    return [str(r[1]) for r in rows if r[6] == 0]


def _columns(conn: sqlite3.Connection, schema: str, table: str) -> str:
    return ", ".join(quote(name) for name in _column_names(conn, schema, table))


def _discarded(conn: sqlite3.Connection) -> tuple[int, int]:
    """Audit rows and ledger rows of the live database that the staged copy lacks.

    An audit row is the same row when its id and its chain hash are (the hash covers its
    timestamp, content and everything before it); a ledger row when every column is.
    """
    live, staged = set(_tables(conn, "main")), set(_tables(conn, "staged"))
    writes = ledger = 0
    if AUDIT_TABLE in live:
        if AUDIT_TABLE in staged:
            writes = conn.execute(
                "SELECT count(*) FROM main.audit_log m WHERE NOT EXISTS (SELECT 1 FROM "
                "staged.audit_log s WHERE s.audit_id = m.audit_id AND s.hash = m.hash)"
            ).fetchone()[0]
        else:
            writes = conn.execute("SELECT count(*) FROM main.audit_log").fetchone()[0]
    if LEDGER_TABLE in live:
        columns = _column_names(conn, "main", LEDGER_TABLE)
        if LEDGER_TABLE in staged and columns == _column_names(conn, "staged", LEDGER_TABLE):
            same = " AND ".join(f"s.{quote(c)} IS m.{quote(c)}" for c in columns)
            ledger = conn.execute(
                "SELECT count(*) FROM main.transactions m WHERE NOT EXISTS (SELECT 1 FROM "
                f"staged.transactions s WHERE s.transaction_id = m.transaction_id AND {same})"
            ).fetchone()[0]
        else:
            ledger = conn.execute("SELECT count(*) FROM main.transactions").fetchone()[0]
    return int(writes), int(ledger)


def _replace(conn: sqlite3.Connection) -> None:
    """Drop everything in ``main`` and rebuild it from ``staged``, rows included."""
    for kind in ("view", "trigger", "table"):
        for found, name, _tbl, _sql in _objects(conn, "main"):
            if found == kind and not name.startswith("sqlite_"):
                conn.execute(f"DROP {kind.upper()} IF EXISTS main.{quote(name)}")
    staged = _objects(conn, "staged")
    if any(sql and sql.upper().startswith("CREATE VIRTUAL") for _k, _n, _t, sql in staged):
        raise RestoreError(_("it holds a virtual table, which a restore cannot copy"))
    tables = [(n, s) for k, n, _t, s in staged if k == "table" and not n.startswith("sqlite_")]
    for _name, sql in tables:
        assert sql is not None
        conn.execute(sql)
    stats = _stat_tables(conn, "staged")
    if "sqlite_stat1" in stats and "sqlite_stat1" not in _stat_tables(conn, "main"):
        conn.execute("ANALYZE main")  # creates sqlite_stat1; the tables are still empty
    for name, _sql in tables:
        columns = _columns(conn, "staged", name)
        conn.execute(
            f"INSERT INTO main.{quote(name)} ({columns}) SELECT {columns} FROM staged.{quote(name)}"
        )
    if any(n == "sqlite_sequence" for _k, n, _t, _s in staged):
        conn.execute("DELETE FROM main.sqlite_sequence")
        conn.execute(
            "INSERT INTO main.sqlite_sequence SELECT name, seq FROM staged.sqlite_sequence"
        )
    for stat in _stat_tables(conn, "main"):
        conn.execute(f"DELETE FROM main.{stat}")
        if stat in stats:
            conn.execute(f"INSERT INTO main.{stat} SELECT * FROM staged.{stat}")
    for kind in ("index", "trigger", "view"):
        for found, _name, _tbl, sql in staged:
            if found == kind and sql is not None:
                conn.execute(sql)


def _stat_tables(conn: sqlite3.Connection, schema: str) -> set[str]:
    return {
        str(r[0])
        for r in conn.execute(
            f"SELECT name FROM {schema}.sqlite_master WHERE type = 'table' "
            "AND name LIKE 'sqlite_stat%'"
        )
    }


def _check(conn: sqlite3.Connection, live: Path) -> dict[str, int]:
    """The replaced content equals the staged copy: objects, rows, keys, audit head."""
    if sorted(_objects(conn, "main"), key=repr) != sorted(_objects(conn, "staged"), key=repr):
        raise RestoreError(_("the restored schema differs from the backup's"), path=str(live))
    rows: dict[str, int] = {}
    for table in _tables(conn, "staged"):
        ours = conn.execute(f"SELECT count(*) FROM main.{quote(table)}").fetchone()[0]
        theirs = conn.execute(f"SELECT count(*) FROM staged.{quote(table)}").fetchone()[0]
        if ours != theirs:
            raise RestoreError(
                _("{table}: {ours} rows restored of {theirs}").format(
                    table=table, ours=ours, theirs=theirs
                ),
                path=str(live),
            )
        rows[table] = int(ours)
    broken = conn.execute("PRAGMA main.foreign_key_check").fetchmany(5)
    if broken:
        found = "; ".join(f"{r[0]} rowid {r[1]} -> {r[2]}" for r in broken)
        raise RestoreError(
            _("foreign_key_check after the copy: {found}").format(found=found), path=str(live)
        )
    heads = [
        conn.execute(f"SELECT hash FROM {s}.audit_log ORDER BY audit_id DESC LIMIT 1").fetchone()
        for s in ("main", "staged")
    ]
    if heads[0] != heads[1]:
        raise RestoreError(_("the restored audit head differs from the backup's"), path=str(live))
    return rows


def _record(conn: sqlite3.Connection, safety: Path, details: dict[str, Any], user: str) -> None:
    """The ``restore`` audit row and ``last_restore``, in the restore's own transaction."""
    head = conn.execute("SELECT hash FROM main.audit_log ORDER BY audit_id DESC LIMIT 1").fetchone()
    row = audit_row(
        head[0] if head else GENESIS_HASH, Operation.RESTORE, user=user, details=details
    )
    names = ", ".join(quote(k) for k in row)
    marks = ", ".join(f":{k}" for k in row)
    conn.execute(f"INSERT INTO main.audit_log ({names}) VALUES ({marks})", row)
    pins = json.dumps(
        {
            "backup": details["backup"],
            "backup_sha256": details["backup_sha256"],
            "safety_backup": safety.name,
            "safety_sha256": details["safety_backup_sha256"],
            "at": row["timestamp"],
        },
        sort_keys=True,
    )
    updated = conn.execute(
        "UPDATE main.database_identity SET last_restore = ? WHERE id = 1", (pins,)
    ).rowcount
    if not updated:
        raise RestoreError(_("the restored database has no identity row"), path=str(safety))
