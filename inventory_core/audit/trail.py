"""Appending to the hash-chained audit trail, inside the writer's transaction.

Each row's ``hash`` is ``sha256(prev_hash + canonical_json(row))`` where the canonical JSON
has sorted keys, no spaces and UTF-8 text. A row carries a ``ledger`` field sealing the
ledger rows its unit of work wrote (:mod:`inventory_core.audit.coverage`); such a row hashes
``sku`` and ``ledger`` besides the six fields of the first form, which rows written before
ledger coverage keep (their ``ledger`` is NULL). Appends are serialised: on SQLite the write
transaction (``BEGIN IMMEDIATE``) already excludes other writers; on PostgreSQL a
transaction-level advisory lock (``PG_AUDIT_LOCK_KEY``) is taken before reading the chain
head, held to commit, so two writers can never both extend the same head: a READ COMMITTED
ledger write reads the head in a statement that starts after the lock is granted, so after
the previous holder's commit, and takes it as its last step, so its critical section is
the head read, one insert and the commit (:mod:`inventory_core.ledger.locks`); a
SERIALIZABLE unit holds the key from before its snapshot (:mod:`inventory_core.db.uow`).
"""

from __future__ import annotations

import enum
import hashlib
import json
import math
from collections.abc import Iterable, Iterator, Mapping
from typing import Any, NamedTuple

from sqlalchemy import bindparam, insert, select

from inventory_core.audit import coverage
from inventory_core.db.prepared import Prepared
from inventory_core.db.uow import UnitOfWork
from inventory_core.models import AuditLog, utc_now_iso
from inventory_core.obs.context import current_run_id
from inventory_core.obs.logs import get_logger

GENESIS_HASH = "0" * 64

log = get_logger("inventory_core.audit")


class Operation(enum.StrEnum):
    """Every kind of write the audit trail records."""

    ADD_SKU = "add_sku"
    UPDATE_SKU = "update_sku"
    SNAPSHOT = "snapshot"
    ORDER = "order"
    RECEIVE = "receive"
    SELL = "sell"
    WASTE = "waste"
    ADJUST = "adjust"
    UNFULFILLED = "unfulfilled"
    REVERT = "revert"
    CLOSE_ORDER = "close_order"
    COUNT = "count_end_of_day"
    REOPEN_ORDER = "reopen_order"
    BULK_IMPORT = "bulk_import"
    BACKUP = "backup"
    RESTORE = "restore"
    RETENTION = "retention"
    EXPORT = "export"
    IMPORT = "import"
    MAINTENANCE = "maintenance"
    MIGRATION = "migration"
    LEDGER_SEAL = "ledger_seal"
    LEGACY_AUDIT = "legacy_audit"


HASHED_FIELDS = ("timestamp", "operation", "user", "details", "run_id", "duration_ms")
HASHED_FIELDS_SEALED = (*HASHED_FIELDS, "ledger", "sku")
"""The fields a row with a ``ledger`` field hashes."""


_CANONICAL = json.JSONEncoder(
    sort_keys=True, separators=(",", ":"), ensure_ascii=False, default=str
)


def canonical_json(value: Any) -> str:
    """JSON with sorted keys and no spaces: the same text for the same content, always.

    One encoder is built once and reused: ``verify`` hashes a million rows through here.
    """
    return _CANONICAL.encode(value)


_quote = json.encoder.encode_basestring  # the quoting JSONEncoder(ensure_ascii=False) uses


def chain_hash(
    prev_hash: str,
    timestamp: str,
    operation: str,
    user: str,
    details: str,
    run_id: str,
    duration_ms: float,
    sku: str | None = None,
    ledger: str | None = None,
) -> str:
    """The chain hash of one row from its hashed fields: ``sha256(prev_hash + canonical)``.

    The canonical JSON of the six hashed fields is spelled out in sorted key order instead
    of going through :func:`canonical_json`: the text is identical (a property test checks
    it), and ``verify`` over a million rows runs several times faster. The duration's text
    is looked up (:func:`duration_text` costs about a third of the rest of the hash).
    """
    if duration_ms == 0:
        # The default duration; +0.0 and -0.0 are one dict key but two texts.
        number = "-0.0" if math.copysign(1.0, duration_ms) < 0 else "0.0"
    else:
        number = _DURATION_TEXTS.get(duration_ms) or _remember_duration(duration_ms)
    if ledger is not None:
        # The sealed form: ``ledger`` and ``sku`` join the hashed fields, so neither can be
        # changed (nor the SKU nulled to hide a row from the per-SKU view) unnoticed.
        return hashlib.sha256(
            f'{prev_hash}{{"details":{_quote(details)},"duration_ms":{number},'
            f'"ledger":{_quote(ledger)},"operation":{_quote(operation)},'
            f'"run_id":{_quote(run_id)},"sku":{"null" if sku is None else _quote(sku)},'
            f'"timestamp":{_quote(timestamp)},"user":{_quote(user)}}}'.encode()
        ).hexdigest()
    return hashlib.sha256(
        f'{prev_hash}{{"details":{_quote(details)},"duration_ms":{number},'
        f'"operation":{_quote(operation)},"run_id":{_quote(run_id)},'
        f'"timestamp":{_quote(timestamp)},"user":{_quote(user)}}}'.encode()
    ).hexdigest()


def duration_text(duration_ms: float) -> str:
    """The canonical JSON of a duration: rounded to 3 decimals, Python's shortest repr."""
    duration = round(float(duration_ms), 3)
    return repr(duration) if math.isfinite(duration) else canonical_json(duration)


DURATION_TEXTS_KEPT = 16_384  # distinct non-zero durations whose text chain_hash keeps
_DURATION_TEXTS: dict[float, str] = {}


def _remember_duration(duration_ms: float) -> str:
    """:func:`duration_text`, kept for the next row with the same duration.

    Durations are stored in milliseconds to 3 decimals, so a trail repeats a few thousand
    values; numbers that compare equal (``1.5``, ``Decimal("1.5")``) have equal texts, so
    they may share an entry. Zero is never kept (its two signs print differently), nor NaN
    (never equal to itself, so never found again).
    """
    number = duration_text(duration_ms)
    if len(_DURATION_TEXTS) < DURATION_TEXTS_KEPT and duration_ms == duration_ms:
        _DURATION_TEXTS[duration_ms] = number
    return number


def row_hash(prev_hash: str, row: Mapping[str, Any]) -> str:
    """The chain hash of one row given the hash before it.

    A row with a ``ledger`` field (every row written since ledger coverage) hashes ``sku``
    and ``ledger`` too; a row without one (NULL: written before) hashes the six fields of
    the first form, in which the SKU is only inside ``details``.
    """
    return chain_hash(
        prev_hash,
        row["timestamp"],
        row["operation"],
        row["user"],
        row["details"],
        row["run_id"],
        row["duration_ms"],
        row.get("sku"),
        row.get("ledger"),
    )


def chain_rows(
    rows: Iterable[Mapping[str, Any]], prev_hash: str = GENESIS_HASH
) -> Iterator[dict[str, Any]]:
    """Each row with its ``prev_hash`` and ``hash`` added, chained on from ``prev_hash``.

    For writing many rows in one statement (bulk loads, benchmarks, tests): the hashes are
    the ones :func:`append` would write row by row, so the chain verifies. Rows are
    yielded one at a time, so a million of them never sit in memory at once. To extend an
    existing trail, pass the head read with :func:`head_hash` in the unit of work that
    inserts the rows, so that no other writer extends it meanwhile.
    """
    for row in rows:
        sealed = {"sku": None, "ledger": "{}", **row}
        digest = row_hash(prev_hash, sealed)
        yield {**sealed, "prev_hash": prev_hash, "hash": digest}
        prev_hash = digest


# Built once: a write pays only for executing them (their compiled forms are cached).
class _Head(NamedTuple):
    hash: str | None


_HEAD = Prepared(select(AuditLog.hash).order_by(AuditLog.audit_id.desc()).limit(1), _Head)
_ROW_COLUMNS = (*HASHED_FIELDS_SEALED, "prev_hash", "hash")
_INSERT = Prepared(insert(AuditLog).values({name: bindparam(name) for name in _ROW_COLUMNS}))


def head_hash(uow: UnitOfWork) -> str:
    """The hash of the newest audit row, or the genesis hash of an empty trail."""
    row = uow.fetch_one(_HEAD)
    return (row.hash if row else None) or GENESIS_HASH


def audit_row(
    prev_hash: str,
    operation: Operation | str,
    *,
    user: str,
    sku: str | None = None,
    details: dict[str, Any] | None = None,
    duration_ms: float = 0.0,
    ledger: str = "{}",
) -> dict[str, Any]:
    """The next audit row after ``prev_hash``, every column filled in and hashed (``ledger``:
    the seal of the ledger rows its unit of work wrote, see :mod:`inventory_core.audit.coverage`).

    :func:`append` inserts it through a unit of work; a restore inserts it on its own
    connection, inside the transaction that replaces the database's content.
    """
    body = dict(details or {})
    if sku is not None:
        body.setdefault("sku", sku)
    row: dict[str, Any] = {
        "timestamp": utc_now_iso(),
        "operation": str(Operation(operation).value),
        "user": user,
        "details": canonical_json(body),
        "run_id": current_run_id(),
        "duration_ms": round(float(duration_ms), 3),
        "sku": sku,
        "ledger": ledger,
    }
    return {**row, "prev_hash": prev_hash, "hash": row_hash(prev_hash, row)}


def append(
    uow: UnitOfWork,
    operation: Operation | str,
    *,
    user: str,
    sku: str | None = None,
    details: dict[str, Any] | None = None,
    duration_ms: float = 0.0,
) -> str:
    """Append one audit row in ``uow``'s transaction and return its hash.

    The row commits or rolls back with the change it describes, and seals the ledger rows
    the unit of work wrote (:func:`inventory_core.audit.coverage.collect`): call it after
    the unit's last write to a covered table. The ``audit_appended`` log
    event (operation, user, sku, run id and the new head hash) is scheduled on
    ``uow.after_commit``: a rolled-back unit logs nothing for its row, and a retried unit
    logs only the attempt that committed. The head hash in the log stream is a copy of the
    chain's head outside the database, which is what lets a rewritten chain be caught.
    """
    head = uow.lock_chain_head() if uow.dialect == "postgresql" else None
    row = audit_row(
        (head[0] or GENESIS_HASH) if head is not None else head_hash(uow),
        operation,
        user=user,
        sku=sku,
        details=details,
        duration_ms=duration_ms,
        ledger=coverage.collect(uow),
    )
    digest: str = row["hash"]
    uow.fetch(_INSERT, row)
    uow.info["audit_head"] = digest

    def _log_committed() -> None:
        log.info(
            "audit_appended",
            operation=row["operation"],
            user=user,
            sku=sku,
            run_id=row["run_id"],
            head_hash=digest,
        )

    uow.after_commit.append(_log_committed)
    return digest
