"""Restoring a PostgreSQL database without losing a write: the audit lock held throughout.

Every write of the library appends its audit row, and every append first takes the audit
chain's advisory lock (``pg_advisory_xact_lock(PG_AUDIT_LOCK_KEY)``, see
:mod:`inventory_core.audit.trail`), then commits. So while one session holds that lock at
session level, no library write can commit anywhere. The restore takes it before the safety
dump and keeps it until the restored database has passed its checks and recorded the
restore:

- every write committed before the lock is in the safety dump (``pg_dump`` starts its
  snapshot after the lock was granted, and the lock is granted only once every append in
  flight has committed);
- no write commits while the lock is held;
- every write committed after it is applied to the restored database.

A writer waiting for the lock has already inserted its ledger rows, so it holds locks on
the tables that ``pg_restore --clean`` must drop: left waiting, it would wait for the
restore while the restore waits for it, and neither server would see the cycle (it goes
through this process). So a watchdog cancels the statement of every session that waits
for the lock (``pg_cancel_backend``): its transaction rolls back and its caller gets
:class:`~inventory_core.errors.WriteCancelledError`, a write that was never acknowledged.
While ``pg_restore`` runs, every other session inside a transaction is ended (its statement
cancelled, or the session terminated when it sits idle inside the transaction): one
that locked a table ``pg_restore`` has yet to drop, then waited for one it dropped, would
make the server break the deadlock by aborting either of them, possibly ``pg_restore``.
Once ``pg_restore`` has committed, every session whose transaction began before is ended
too: a SERIALIZABLE snapshot taken before the restore would see the new tables empty.

Because nothing else can commit meanwhile, a restore that fails its checks after
``pg_restore`` committed can still be undone exactly: the safety dump goes back in before
the lock is released. What is *not* covered: sessions that write without the library (they
take no audit lock), and a long read transaction, which only makes ``pg_restore`` wait.
"""

from __future__ import annotations

import threading
from pathlib import Path
from types import TracebackType
from typing import TYPE_CHECKING, Any

from sqlalchemy import Connection, func, insert, inspect, select, text, update

from inventory_core.audit.trail import GENESIS_HASH, Operation, audit_row
from inventory_core.backup import postgres
from inventory_core.backup.checks import check_backup
from inventory_core.backup.claims import chain_error_live, claim_errors, live_identity
from inventory_core.backup.manifest import read_manifest
from inventory_core.backup.restore_plan import RestorePlan, RestoreResult, RestoreTarget, plan_for
from inventory_core.db import migrations
from inventory_core.db.chain_head import PG_AUDIT_LOCK_KEY
from inventory_core.db.stores import store_lock_key
from inventory_core.errors import (
    InventoryError,
    RestoreBackupChangedError,
    RestoreRolledBackError,
)
from inventory_core.invariants.startup import startup_check
from inventory_core.models import AuditLog, DatabaseIdentity
from inventory_core.obs.context import current_user
from inventory_core.obs.logs import get_logger

if TYPE_CHECKING:
    from inventory_core.db.database import Database

log = get_logger("inventory_core.backup")

WATCH_INTERVAL_S = 0.05
_LOCK = text("SELECT pg_advisory_lock(:key)")
_UNLOCK = text("SELECT pg_advisory_unlock(:key)")
_CANCEL_WAITERS = text(
    "SELECT pg_cancel_backend(l.pid) FROM pg_locks l "
    "WHERE l.locktype = 'advisory' AND NOT l.granted AND l.objsubid = 1 "
    "AND l.database = (SELECT oid FROM pg_database WHERE datname = current_database()) "
    "AND ((l.classid::bigint << 32) | l.objid::bigint) = :key"
)
_END_STALE = text(
    # A running statement is cancelled (its transaction is then aborted, the session
    # lives on); a session idle inside its transaction can only be terminated.
    "SELECT CASE WHEN a.state = 'active' THEN pg_cancel_backend(a.pid) "
    "ELSE pg_terminate_backend(a.pid) END FROM pg_stat_activity a "
    "WHERE a.datname = current_database() AND a.backend_type = 'client backend' "
    "AND a.pid NOT IN (pg_backend_pid(), :watchdog, :holder) AND a.xact_start IS NOT NULL "
    "AND a.xact_start < clock_timestamp() AND a.application_name <> :tool "
    # A store in a schema of its own ends only the sessions that locked one of its tables:
    # the other stores on the server go on writing.
    "AND (CAST(:schema AS text) IS NULL OR a.pid IN (SELECT l.pid FROM pg_locks l "
    "JOIN pg_class c ON c.oid = l.relation JOIN pg_namespace n ON n.oid = c.relnamespace "
    "WHERE n.nspname = CAST(:schema AS text)))"
)


class WritersHeld:
    """Hold the audit-chain lock at session level and cancel whoever waits for it."""

    def __init__(self, db: Database) -> None:
        self._engine = db.engine
        self._schema = db.schema
        self._key = store_lock_key(PG_AUDIT_LOCK_KEY, db.schema)  # this store's chain only
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._started = threading.Event()
        self._watchdog_pid = 0
        self._holder_pid = 0
        self.clearing = threading.Event()
        """Set while ``pg_restore`` runs: every session in a transaction is terminated."""
        self.cancelled = 0

    def __enter__(self) -> WritersHeld:
        self.connection: Connection = self._engine.connect()
        self.connection.execute(_LOCK, {"key": self._key})
        self._holder_pid = int(
            self.connection.execute(text("SELECT pg_backend_pid()")).scalar_one()
        )
        self.connection.commit()  # the session lock outlives the transaction
        self._thread = threading.Thread(target=self._watch, name="restore-watchdog", daemon=True)
        self._thread.start()
        self._started.wait(30)
        return self

    def _watch(self) -> None:
        with self._engine.connect() as conn:
            conn = conn.execution_options(isolation_level="AUTOCOMMIT")
            self._watchdog_pid = int(conn.execute(text("SELECT pg_backend_pid()")).scalar_one())
            self._started.set()
            while not self._stop.wait(WATCH_INTERVAL_S):
                found = len(conn.execute(_CANCEL_WAITERS, {"key": self._key}).all())
                if self.clearing.is_set():
                    found += len(conn.execute(_END_STALE, self._stale_params()).all())
                self.cancelled += found

    def drop_tables_missing_from(self, dumped: dict[str, int]) -> list[str]:
        """Drop the library's tables the dump does not hold (a dump of an older revision),
        and its browse views.

        ``pg_restore --clean`` drops only what the dump contains, so a table added by a
        later migration would survive the restore and make the upgrade that follows fail,
        and a view the dump does not hold (``stock``, ``ledger``... of migration 0007) would
        keep its tables from being dropped. A dump that holds the views creates them again;
        for an older one the upgrade after the restore does.
        """
        from inventory_core.models import BROWSE_VIEWS, metadata

        for view in BROWSE_VIEWS:
            self.connection.execute(text(f'DROP VIEW IF EXISTS "{view}"'))
        present = set(inspect(self.connection).get_table_names())
        extra = sorted(name for name in metadata.tables if name in present and name not in dumped)
        for name in extra:
            self.connection.execute(text(f'DROP TABLE IF EXISTS "{name}" CASCADE'))
        self.connection.commit()
        return extra

    def end_stale_transactions(self) -> int:
        """End every session whose transaction began before ``pg_restore`` returned.

        A SERIALIZABLE writer that took its snapshot before the restore committed and then
        waited for a table lock would see the new tables as empty; terminated, it rolls
        back instead. Sessions with no transaction open are not touched.
        """
        found = self.connection.execute(_END_STALE, self._stale_params()).all()
        self.connection.commit()
        return len(found)

    def _stale_params(self) -> dict[str, Any]:
        return {
            "watchdog": self._watchdog_pid,
            "holder": self._holder_pid,
            "tool": postgres.RESTORE_APPLICATION,
            "schema": self._schema,
        }

    def record(self, details: dict[str, Any], pins: str, database_id: str | None) -> None:
        """The ``restore`` audit row and ``last_restore`` (and, for a dump older than
        identities, the live identity), on the session holding the lock."""
        conn = self.connection
        conn.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": self._key})
        head = conn.execute(
            text("SELECT hash FROM audit_log ORDER BY audit_id DESC LIMIT 1")
        ).scalar_one_or_none()
        row = audit_row(
            head or GENESIS_HASH, Operation.RESTORE, user=current_user(), details=details
        )
        conn.execute(insert(AuditLog).values(**row))
        values: dict[str, Any] = {"last_restore": pins}
        if database_id is not None:
            values["database_id"] = database_id
        conn.execute(update(DatabaseIdentity).where(DatabaseIdentity.id == 1).values(**values))
        conn.commit()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join()
        try:
            if self.connection.in_transaction():
                self.connection.rollback()
            self.connection.execute(_UNLOCK, {"key": self._key})
            self.connection.commit()
        finally:
            self.connection.close()


def restore_server(
    service: RestoreTarget,
    path: Path,
    *,
    allow_other_database: bool = False,
    plan: RestorePlan | None = None,
) -> RestoreResult:
    """``pg_restore`` of ``path`` with every library writer held off (module docstring).

    Raises:
        RestoreError: the backup is not valid; nothing was changed.
        RestoreRolledBackError: the restored database failed a check; the safety dump was
            put back before any writer could commit.
    """
    import json

    db = service.db
    identity = live_identity(db)
    checked = check_backup(path, live=identity, allow_other_database=allow_other_database)
    if plan is not None and plan.sha256 and plan.sha256 != checked.sha256:
        raise RestoreBackupChangedError(path=str(path), actual=checked.sha256, expected=plan.sha256)
    steps = plan or plan_for(service, checked, identity)
    with WritersHeld(db) as held:
        safety = service.backup("pre-restore", record=False)
        safety_manifest = read_manifest(safety)
        facts = checked.facts
        assert facts is not None  # read from the dump by check_backup
        writes = _writes_after(db, facts.audit_rows, facts.audit_head_hash)
        try:
            held.drop_tables_missing_from(facts.row_counts)
            held.clearing.set()
            try:
                postgres.restore(db.url, path, db.schema)
            finally:
                held.clearing.clear()
            held.end_stale_transactions()
            _check_restored(db, checked.path, checked.manifest)
            if steps.upgrade_after:
                migrations.upgrade(db.engine, "head")
            startup_check(db, full=False)
            details = {
                "backup": path.name,
                "backup_sha256": checked.sha256,
                "safety_backup": safety.name,
                "safety_backup_sha256": safety_manifest.sha256 if safety_manifest else None,
                "writes_discarded": writes,
            }
            pins = json.dumps(
                {
                    "backup": path.name,
                    "backup_sha256": checked.sha256,
                    "safety_backup": safety.name,
                    "safety_sha256": details["safety_backup_sha256"],
                },
                sort_keys=True,
            )
            adopt = identity.database_id if facts.database_id is None else None
            held.record(details, pins, adopt)
        except BaseException as exc:
            held.clearing.set()
            postgres.restore(db.url, safety, db.schema)
            held.clearing.clear()
            log.warning("restore_rolled_back", url=db.display_url, safety_backup=str(safety))
            if not isinstance(exc, Exception):
                raise
            detail = exc.message if isinstance(exc, InventoryError) else str(exc)
            raise RestoreRolledBackError(detail, path=str(path), safety_backup=str(safety)) from exc
    service.apply_retention()
    log.info("restore_done", backup=str(path), safety_backup=str(safety), cancelled=held.cancelled)
    return RestoreResult(
        backup=path,
        safety_backup=safety,
        revision=db.revision(),
        upgraded=steps.upgrade_after,
        tables=steps.tables,
        writes_discarded=writes,
    )


def _writes_after(db: Database, backup_rows: int, backup_head: str | None) -> int:
    """Audit rows (writes) of the live database after the backup's head: discarded.

    When the live chain does not continue the backup's (another database, or a backup of a
    branch a previous restore discarded), every live row is counted.
    """
    with db.read() as uow:
        rows = int(uow.scalar(select(func.count()).select_from(AuditLog)))
        if backup_rows == 0 or backup_head is None:
            return rows
        at = uow.scalar(
            select(AuditLog.hash).order_by(AuditLog.audit_id).offset(backup_rows - 1).limit(1)
        )
    return rows - backup_rows if at == backup_head else rows


def _check_restored(db: Database, path: Path, manifest: Any) -> None:
    """The restored database holds what the manifest claims, and its chain verifies."""
    from inventory_core.backup.claims import server_facts

    facts = server_facts(db)
    wrong = claim_errors(path, manifest, facts, size=manifest.size, dialect="postgresql")
    if wrong:
        raise wrong[0]
    broken = chain_error_live(db, path, manifest)
    if broken is not None:
        raise broken
