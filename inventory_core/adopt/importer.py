"""Import a translated legacy store: into an empty, migrated database, in one unit of work.

Everything (SKUs, events, the import's audit record with the source's sha256) commits
together or not at all. Running again with the same source finds that record and does
nothing; another source into a database that holds data is refused.
"""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, NamedTuple

from sqlalchemy import bindparam, func, insert, select

from inventory_core.adopt import order_rows
from inventory_core.adopt.findings import Translation
from inventory_core.adopt.source import LegacySource
from inventory_core.adopt.translate import read
from inventory_core.audit import trail
from inventory_core.db.prepared import Prepared
from inventory_core.db.uow import UnitOfWork
from inventory_core.errors.adopt import AdoptTargetError
from inventory_core.errors.i18n import gettext as _
from inventory_core.ledger import bulk, master
from inventory_core.ledger.arguments import validate_events
from inventory_core.ledger.inputs import SkuIn
from inventory_core.models import AuditLog, Lot, OrderLog, PromoCalendar, Sku, Transaction
from inventory_core.obs.context import current_user

if TYPE_CHECKING:
    from inventory_core.db.database import Database

CHUNK = 20_000
MARK = "adopted_sha256"
"""The key of the import's audit record that names the source it came from."""


class _Count(NamedTuple):
    rows: int


class _Details(NamedTuple):
    details: str


_COUNTS = {
    model.__tablename__: Prepared(select(func.count()).select_from(model), _Count)
    for model in (Sku, Transaction, Lot, OrderLog)
}
_INSERT_PROMO = Prepared(
    insert(PromoCalendar).values(
        {name: bindparam(name) for name in ("sku", "start_date", "end_date", "description")}
    )
)
_IMPORTS = Prepared(
    select(AuditLog.details).where(
        AuditLog.operation == trail.Operation.IMPORT.value, AuditLog.details.contains(MARK)
    ),
    _Details,
)


@dataclass(slots=True)
class AdoptResult:
    """What an adoption did (or, with ``dry_run``, would do)."""

    translation: Translation
    sha256: str
    source: str
    ignored: list[str]
    dry_run: bool = False
    already: bool = False
    counts: dict[str, int] = field(default_factory=dict)


Progress = Callable[[int, int], None]
"""Called with (legacy stock rows folded and written, such rows in all) while the import
runs: the events a row becomes are written as the fold goes, chunk by chunk."""


def adopt(
    db: Database | None,
    source: LegacySource,
    *,
    dry_run: bool = False,
    skip_invalid: bool = False,
    progress: Progress | None = None,
) -> AdoptResult:
    """Translate ``source`` and, unless ``dry_run`` (or ``db`` is None), import it.

    Raises:
        AdoptInputError: a row cannot be translated (``ADO_010``).
        AdoptTargetError: the database holds data, or another adopted store (``ADO_020``).
    """
    with bulk.paused_gc():  # millions of rows, no reference cycle among them
        plan = read(source, skip_invalid=skip_invalid)
    translation = plan.out
    result = AdoptResult(
        translation, source.sha256, source.path.name, list(source.ignored), dry_run=dry_run
    )
    if dry_run or db is None:
        result.dry_run = True
        plan.run_through()
        return result
    user = current_user()

    def unit(uow: UnitOfWork) -> AdoptResult:
        if _already(uow, source.sha256):
            result.already = True
            plan.run_through()
            return result
        _require_empty(uow)
        history = _history(uow, source)
        for data in translation.skus:
            master.add_sku(uow, SkuIn.model_validate(data))
        if translation.promotions:
            uow.execute_many(_INSERT_PROMO, translation.promotions)
        counts: Counter[str] = Counter()
        orders = order_rows.OrderWriter(uow, user)
        with bulk.paused_gc():
            for chunk in plan.fold(CHUNK):
                counts.update(bulk.record_chunk(uow, validate_events(e._asdict() for e in chunk)))
                del chunk
                orders.write(*plan.take_orders())
                if progress is not None:
                    progress(plan.folded, plan.store.rows)
            orders.write(*plan.take_orders())
        events = translation.events
        result.counts = dict(sorted(counts.items()))
        linked = order_rows.finish(uow, translation, orders)
        trail.append(
            uow,
            trail.Operation.IMPORT,
            user=user,
            details={
                MARK: source.sha256,
                "adopted": source.path.name,
                "kind": source.kind,
                "skus": len(translation.skus),
                "events": len(events),
                "promotions": len(translation.promotions),
                "legacy_audit_rows": history,
                "findings": translation.totals(),
                "ignored_files": source.ignored,
                **linked,
            },
        )
        return result

    return db.run(unit, operation="adopt")


def _history(uow: UnitOfWork, source: LegacySource) -> int:
    """The legacy ``audit_log`` as audit rows of their own, before anything else is written
    (so that the import's record is the one that seals the imported ledger rows)."""
    written = 0
    for row in source.rows("audit_log"):
        trail.append(
            uow,
            trail.Operation.LEGACY_AUDIT,
            user=(row.get("user") or "legacy")[:64],
            details={"source": f"{row.file}:{row.line}", **row.values},
        )
        written += 1
    return written


def _already(uow: UnitOfWork, sha256: str) -> bool:
    for row in uow.fetch(_IMPORTS):
        earlier = json.loads(row.details).get(MARK)
        if earlier == sha256:
            return True
        if earlier:
            raise AdoptTargetError(
                _("it already holds the store with sha256 {sha256}").format(sha256=earlier),
                sha256=sha256,
            )
    return False


def _require_empty(uow: UnitOfWork) -> None:
    busy = []
    for name, statement in _COUNTS.items():
        row = uow.fetch_one(statement)
        if row is not None and row.rows:
            busy.append(f"{name}: {row.rows}")
    if busy:
        raise AdoptTargetError(_("it is not empty ({tables})").format(tables=", ".join(busy)))
