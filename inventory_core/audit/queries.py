"""Reading the audit trail: the newest rows, one run, one SKU.

Each query is shaped to use its index: ``tail`` walks ``ix_audit_log_timestamp`` backwards
and stops after ``n`` rows (with ``since``, a range SEARCH of that index); ``by_run`` and
``by_sku`` search ``ix_audit_log_run_id`` and ``ix_audit_log_sku``. Because ``audit_id`` is
the rowid (SQLite) and the last key of each index entry, ordering by it needs no extra sort.
Rows come back as frozen :class:`AuditEntry` values, oldest first.
"""

from __future__ import annotations

import json
import re
import unicodedata
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any

from sqlalchemy import Select, select

from inventory_core.errors import ValidationError
from inventory_core.errors.i18n import N_
from inventory_core.errors.i18n import gettext as _
from inventory_core.models import AuditLog

if TYPE_CHECKING:
    from inventory_core.db.database import Database


@dataclass(frozen=True)
class AuditEntry:
    """One audit row, as read back: who did what, when, in which run."""

    audit_id: int
    timestamp: str
    operation: str
    user: str
    sku: str | None
    details: dict[str, Any]
    run_id: str
    duration_ms: float
    prev_hash: str
    hash: str
    ledger: str | None = None
    """The ledger rows the row sealed (:mod:`inventory_core.audit.coverage`), as JSON text."""

    def to_dict(self) -> dict[str, Any]:
        """A JSON-friendly view."""
        return {name: getattr(self, name) for name in self.__dataclass_fields__}


def _entries(db: Database, stmt: Select[Any]) -> list[AuditEntry]:
    with db.read() as uow:
        rows = uow.fetch(stmt)
    return [
        AuditEntry(
            audit_id=row.audit_id,
            timestamp=row.timestamp,
            operation=row.operation,
            user=row.user,
            sku=row.sku,
            details=json.loads(row.details),
            run_id=row.run_id,
            duration_ms=row.duration_ms,
            prev_hash=row.prev_hash,
            hash=row.hash,
            ledger=row.ledger,
        )
        for row in rows
    ]


def _columns() -> Select[Any]:
    return select(*AuditLog.__table__.columns)


SINCE_FORMAT = N_("YYYY-MM-DD or YYYY-MM-DDTHH:MM[:SS] (UTC)")
_SINCE = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}(T[0-9]{2}:[0-9]{2}(:[0-9]{2}(\.[0-9]{1,6})?)?Z?)?")
MAX_ROWS = 2**31 - 1


def check_since(value: Any) -> str:
    """A ``since`` bound in the stored timestamps' own ISO-8601 form, or ValidationError.

    Timestamps compare as text, so anything else (``yesterday``, ``2026-2-1``, an epoch
    number) would silently compare as some other time: it is refused instead.
    """
    if not isinstance(value, str) or not _SINCE.fullmatch(value):
        shown = value if isinstance(value, str) else type(value).__name__
        raise ValidationError(
            _("{value} is not {format}").format(value=f"{shown!s:.40}", format=_(SINCE_FORMAT)),
            field="since",
        )
    try:
        datetime.fromisoformat(value.removesuffix("Z"))
    except ValueError:
        raise ValidationError(
            _("{value} is not a real date and time").format(value=value), field="since"
        ) from None
    return value


def tail_query(n: int, since: str | None = None) -> Select[Any]:
    """The newest ``n`` rows (at or after ``since``), newest first, via the timestamp index."""
    stmt = _columns()
    if since is not None:
        stmt = stmt.where(AuditLog.timestamp >= since)
    return stmt.order_by(AuditLog.timestamp.desc(), AuditLog.audit_id.desc()).limit(max(n, 0))


def run_query(run_id: str) -> Select[Any]:
    """Every row of one run, through the run_id index."""
    return _columns().where(AuditLog.run_id == run_id).order_by(AuditLog.audit_id)


def sku_query(sku: str) -> Select[Any]:
    """Every row about one SKU, through the sku index."""
    return _columns().where(AuditLog.sku == sku).order_by(AuditLog.audit_id)


def tail(db: Database, n: int = 20, *, since: str | None = None) -> list[AuditEntry]:
    """The newest ``n`` audit rows, oldest of them first (as a log tail reads).

    Args:
        db: the database to read.
        n: how many rows at most.
        since: only rows whose UTC ISO-8601 timestamp is at or after this:
            ``YYYY-MM-DD`` or ``YYYY-MM-DDTHH:MM[:SS[.ffffff]][Z]`` (timestamps compare as
            text, so only their own form is accepted).

    Raises:
        ValidationError: ``n`` is not an integer from 0 to 2**31 - 1, or ``since`` is not
            in that form.
    """
    if isinstance(n, bool) or not isinstance(n, int) or not 0 <= n <= MAX_ROWS:
        raise ValidationError(
            _("must be an integer from 0 to {max_rows}").format(max_rows=MAX_ROWS), field="n"
        )
    if since is not None:
        since = check_since(since)
    return list(reversed(_entries(db, tail_query(n, since))))


def by_run(db: Database, run_id: str) -> list[AuditEntry]:
    """Every audit row written in run ``run_id``, in chain order."""
    return _entries(db, run_query(run_id))


def by_sku(db: Database, sku: str) -> list[AuditEntry]:
    """Every audit row about ``sku`` (in its NFC form, as codes are stored), in chain order."""
    if isinstance(sku, str) and not sku.isascii():
        sku = unicodedata.normalize("NFC", sku)
    return _entries(db, sku_query(sku))
