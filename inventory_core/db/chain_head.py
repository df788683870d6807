"""The audit chain head on PostgreSQL: one advisory lock per store, taken two ways.

Every write appends to the store's one audit hash chain, so two writers must never read
the same head. The key is ``PG_AUDIT_LOCK_KEY`` (per store, :func:`.stores.lock_key`):

- a READ COMMITTED ledger write (:mod:`inventory_core.ledger.locks`) takes it per
  transaction as its last step (:func:`take`), then reads the head in a statement that
  starts after the lock is granted, so after the previous holder's commit;
- a SERIALIZABLE unit reads the head from its snapshot, taken at its first statement, so
  it must hold the head before it begins: :func:`hold` takes it at session level in a
  short transaction of its own, :func:`release` gives it back when the unit ends (the
  server does when the process dies). A unit that waited ``PG_QUEUE_WAIT_MS`` fails with
  a retryable ``55P03``, so a long unit elsewhere delays it without a deadlock.
"""

from __future__ import annotations

from sqlalchemy import Connection, text

from inventory_core.db.stores import lock_key

PG_AUDIT_LOCK_KEY = 7_312_694_517
"""Advisory-lock key of the audit chain head on PostgreSQL. A READ COMMITTED ledger write
takes it (transaction-level) as its last step, just before it reads the head and commits;
a SERIALIZABLE write unit holds it (session-level) from before its snapshot to its end.
Each store has its own key (:func:`inventory_core.db.stores.lock_key`)."""
PG_QUEUE_WAIT_MS = 2000
"""Longest wait of a SERIALIZABLE write unit for the chain head; past it, the unit fails
with a retryable lock error (``55P03``) and :meth:`Database.run` tries again."""
PG_HEAD_WAIT_MS = 10_000
"""Longest wait of a READ COMMITTED ledger write for the chain head (behind a long
SERIALIZABLE unit such as an import) when the session sets no ``lock_timeout`` of its own;
past it, a retryable ``55P03``."""
PG_HEAD_LOCK = (
    "SELECT set_config('lock_timeout', CASE current_setting('lock_timeout') "
    f"WHEN '0' THEN '{PG_HEAD_WAIT_MS}ms' ELSE current_setting('lock_timeout') END, true); "
    "SELECT pg_advisory_xact_lock({key})"
)
"""The chain head of a READ COMMITTED unit, in one round trip (``key``: the store's, an
integer the library computes, so the text carries no outside input)."""
_HOLD = text("SELECT pg_advisory_lock(:key)")
_TAKE = text("SELECT pg_advisory_xact_lock(:key)")
_RELEASE = text("SELECT pg_advisory_unlock(:key)")


def hold(conn: Connection) -> None:
    """Take the head at session level, before the unit's transaction begins."""
    conn.exec_driver_sql(f"SET LOCAL lock_timeout = {PG_QUEUE_WAIT_MS}")
    conn.execute(_HOLD, {"key": lock_key(PG_AUDIT_LOCK_KEY, conn)})
    conn.commit()


def release(conn: Connection) -> None:
    """Give back what :func:`hold` took (after rolling back whatever is open)."""
    try:
        if conn.in_transaction():
            conn.rollback()
        conn.execute(_RELEASE, {"key": lock_key(PG_AUDIT_LOCK_KEY, conn)})
        conn.commit()
    except Exception:
        # A broken connection must not go back to the pool holding the lock: dropping it
        # ends the server session, which releases the lock.
        conn.invalidate()


_HEAD_READ = "SELECT hash FROM audit_log ORDER BY audit_id DESC LIMIT 1"


def take(conn: Connection, *, read_committed: bool) -> tuple[str | None] | None:
    """Take the head until the transaction ends.

    With ``read_committed``: the lock timeout, the lock and the head read in one round
    trip, as three statements of one simple query, and return ``(hash,)`` of the newest
    audit row (``(None,)`` on an empty trail). At READ COMMITTED each statement of such a
    query takes its own snapshot when it starts, so the read sees the commit of the
    writer that held the lock before. Otherwise (the session holds the head already) take
    it again at no wait and return None: the caller reads the head itself.
    """
    key = int(lock_key(PG_AUDIT_LOCK_KEY, conn))
    if not read_committed:
        conn.execute(_TAKE, {"key": key})
        return None
    cursor = conn.connection.driver_connection.cursor()  # type: ignore[union-attr]
    try:
        cursor.execute(f"{PG_HEAD_LOCK.format(key=key)}; {_HEAD_READ}")
        while cursor.nextset():
            pass
        row = cursor.fetchone()
    finally:
        cursor.close()
    return (row[0] if row else None,)


__all__ = ["PG_AUDIT_LOCK_KEY", "PG_HEAD_WAIT_MS", "PG_QUEUE_WAIT_MS", "hold", "release", "take"]
