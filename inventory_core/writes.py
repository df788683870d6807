"""The writes of :class:`~inventory_core.inventory.Inventory`: SKUs, events, receipts, reversals.

Each write validates its input first (nothing is written on a bad value), then runs as one
unit of work through :meth:`Database.run` (retried as a whole on lock errors) that checks,
writes, and appends exactly one audit row in the same transaction. The logic lives in
:mod:`inventory_core.ledger`; this module only wires validation, units of work and the
audit trail together. The shop's everyday operations built on these (end-of-day counts,
closing an order short, ordering proposals) are in :mod:`inventory_core.inventory`.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable, Sequence
from datetime import date
from typing import Any, TypeVar

from inventory_core.audit import trail
from inventory_core.db.database import Database
from inventory_core.db.uow import UnitOfWork
from inventory_core.errors import ValidationError
from inventory_core.errors.i18n import gettext as _
from inventory_core.ledger import events, master, receiving, reversal
from inventory_core.ledger import locks as ledger_locks
from inventory_core.ledger.arguments import (
    validate_chunk_size,
    validate_code,
    validate_date,
    validate_id,
    validate_lines,
    validate_reason,
    validate_user,
)
from inventory_core.ledger.inputs import (
    EventIn,
    ReceiptIn,
    ReceiptLine,
    SkuChanges,
    SkuIn,
    validate,
)
from inventory_core.ledger.readmodels import (
    ReceiptResult,
    SkuInfo,
)
from inventory_core.models import EventType
from inventory_core.obs.context import current_user
from inventory_core.reads import InventoryReads

T = TypeVar("T")
Operation = trail.Operation

DEFAULT_CHUNK = 10_000


class InventoryWrites(InventoryReads):
    """The writes of the stock ledger of one database, acting as one user (its reads are
    inherited from :class:`~inventory_core.reads.InventoryReads`); the arguments and what they
    raise are documented on :class:`~inventory_core.inventory.Inventory`, the class users make.
    """

    def __init__(self, db: Database, *, user: str | None = None, chunk_size: int = DEFAULT_CHUNK):
        if not isinstance(db, Database):
            raise ValidationError(
                _("must be a Database (Database.open(...)), not {type}").format(
                    type=type(db).__name__
                ),
                field="db",
            )
        self.db = db
        self._user = None if user is None else validate_user(user)
        self.chunk_size = chunk_size

    @property
    def user(self) -> str:
        """The user written into audit rows and reversals.

        Raises:
            ValidationError: the user of the current :func:`inventory_core.audit.run` is
                not a valid name (1-64 visible characters).
        """
        return self._user or validate_user(current_user())

    @property
    def chunk_size(self) -> int:
        """Events per unit of work in :meth:`record_many`."""
        return self._chunk_size

    @chunk_size.setter
    def chunk_size(self, value: int) -> None:
        self._chunk_size = validate_chunk_size(value)

    # -- plumbing -------------------------------------------------------------------------

    def _write(
        self,
        operation: trail.Operation,
        sku: str | Callable[[T], str] | None,
        work: Callable[[UnitOfWork], T],
        details: Callable[[T], dict[str, Any] | None],
        *,
        locks: Iterable[str] = (),
    ) -> T:
        """Run ``work`` as one unit of work that also appends its audit row.

        ``details`` returning None means nothing was written (a replayed receipt), so no
        audit row either; ``sku`` may be derived from the result (a reverted transaction).
        On PostgreSQL the unit runs at READ COMMITTED: the SKUs in ``locks`` are locked
        before ``work`` reads anything, and ``work`` locks what it finds later (the SKU of
        a reverted transaction or of an order) before relying on it
        (:mod:`inventory_core.ledger.locks`).
        """
        user = self.user
        codes = sorted(set(locks))

        def unit(uow: UnitOfWork) -> T:
            started = time.perf_counter()
            if codes:
                ledger_locks.lock_skus(uow, codes)
            result = work(uow)
            body = details(result)
            if body is not None:
                elapsed = (time.perf_counter() - started) * 1000
                code = sku(result) if callable(sku) else sku
                trail.append(uow, operation, user=user, sku=code, details=body, duration_ms=elapsed)
            return result

        return self.db.run(unit, operation=operation.value, row_locks=True)

    def _event(self, kind: EventType, sku: str, qty: int, on: date, **extra: Any) -> EventIn:
        try:
            return validate(EventIn, sku=sku, event=kind, qty=qty, date=on, **extra)
        except ValidationError as exc:
            if exc.context.get("field") == "date":
                exc.context["field"] = "on"
            raise

    def _single(self, operation: trail.Operation, ev: EventIn, *, lot_id: int | None = None) -> int:
        def work(uow: UnitOfWork) -> int:
            return events.record(uow, ev, lot_id=lot_id)

        def details(tid: int) -> dict[str, Any]:
            body: dict[str, Any] = {"transaction_id": tid, "qty": ev.qty, "date": ev.date}
            if lot_id is not None:
                body["lot_id"] = lot_id
            if ev.note:
                body["note"] = ev.note
            return body

        return self._write(operation, ev.sku, work, details)

    # -- master data ----------------------------------------------------------------------

    def add_sku(
        self,
        sku: str,
        description: str = "",
        *,
        ean: str | None = None,
        pack_size: int = 1,
        moq: int = 0,
        lead_time_days: int = 0,
        active: bool = True,
        **planning: Any,
    ) -> SkuInfo:
        """Create a SKU; ``planning`` takes the planning fields (``category``,
        ``shelf_life_days``, ``reorder_point``, ``safety_stock``, ``max_stock``,
        ``attributes``: see docs/ledger.md), each unset (None) by default.

        Raises:
            ValidationError: a bad code, EAN-13 (check digit), number or planning field.
            DuplicateError: the code exists.
        """
        data = validate(
            SkuIn,
            sku=sku,
            description=description,
            ean=ean,
            pack_size=pack_size,
            moq=moq,
            lead_time_days=lead_time_days,
            active=active,
            **planning,
        )
        return self._write(
            Operation.ADD_SKU,
            data.sku,
            lambda uow: master.add_sku(uow, data),
            lambda info: {"values": data.model_dump()},
        )

    def update_sku(self, sku: str, **changes: Any) -> SkuInfo:
        """Change master-data fields (``description``, ``ean``, ``pack_size``, ``moq``,
        ``lead_time_days``, ``active`` and the planning fields, where None clears one);
        the audit row keeps the values before and after.

        Raises:
            ValidationError: an unknown field or a bad value.
            NotFoundError: no such SKU.
        """
        code = validate_code(sku)
        data = validate(SkuChanges, **changes)
        changed = sorted(data.model_dump(exclude_unset=True))

        def details(pair: tuple[SkuInfo, SkuInfo]) -> dict[str, Any]:
            before, after = pair
            return {
                "before": {k: getattr(before, k) for k in changed},
                "after": {k: getattr(after, k) for k in changed},
            }

        pair = self._write(
            Operation.UPDATE_SKU,
            code,
            lambda uow: master.update_sku(uow, code, data),
            details,
            locks=(code,),
        )
        return pair[1]

    # -- ledger writes --------------------------------------------------------------------

    def snapshot(self, sku: str, qty: int, *, on: date, note: str | None = None) -> int:
        """Record a physical count (on_hand := qty at the start of ``on``); return its id.

        Raises:
            ConflictError: the SKU already has an unreversed count that day.
            InsufficientStockError: later events would then take on_hand below zero.
        """
        ev = self._event(EventType.SNAPSHOT, sku, qty, on, note=note)
        return self._single(Operation.SNAPSHOT, ev)

    def order(
        self,
        sku: str,
        qty: int,
        *,
        on: date,
        expected: date | None = None,
        note: str | None = None,
    ) -> int:
        """Place a purchase order (an ORDER event and an ``order_logs`` row); return its id."""
        ev = self._event(EventType.ORDER, sku, qty, on, note=note)
        if expected is not None:
            expected = validate_date(expected, "expected")
            if expected < ev.date:
                raise ValidationError(_("must not be before the order date"), field="expected")

        def details(ids: tuple[int, int]) -> dict[str, Any]:
            return {
                "order_id": ids[0],
                "transaction_id": ids[1],
                "qty": ev.qty,
                "date": ev.date,
                "expected": expected,
            }

        ids = self._write(
            Operation.ORDER, ev.sku, lambda uow: receiving.place_order(uow, ev, expected), details
        )
        return ids[0]

    def receive(self, document_id: str, lines: Sequence[ReceiptLine], *, on: date) -> ReceiptResult:
        """Record a delivery document; replaying an identical one returns the first result.

        Raises:
            ConflictError: the id was recorded with different lines.
            OverReceiptError: a line takes its order above the ordered quantity.
            NotFoundError: an unknown SKU or order.
        """
        raw = validate_lines(lines)
        try:
            doc = validate(ReceiptIn, document_id=document_id, lines=raw, on=on)
        except ValidationError as exc:
            if str(exc.context.get("field", "")).startswith("lines") and not raw:
                exc.context["field"] = "lines"
            raise
        codes = sorted({line.sku for line in doc.lines})

        def details(result: ReceiptResult) -> dict[str, Any] | None:
            if result.replayed:
                return None
            return {
                "document_id": doc.document_id,
                "date": doc.on,
                "document_hash": result.document_hash,
                "lines": [line.model_dump() for line in doc.lines],
                "transaction_ids": list(result.transaction_ids),
            }

        return self._write(
            Operation.RECEIVE,
            codes[0] if len(codes) == 1 else None,
            lambda uow: receiving.receive(uow, doc),
            details,
            locks=codes,
        )

    def sell(self, sku: str, qty: int, *, on: date, note: str | None = None) -> int:
        """Record a sale (SALE event and the day's ``sales`` row); return its id.

        Raises:
            InsufficientStockError: on_hand would go negative on ``on`` or later.
        """
        return self._single(Operation.SELL, self._event(EventType.SALE, sku, qty, on, note=note))

    def waste(
        self,
        sku: str,
        qty: int,
        *,
        on: date,
        lot_id: int | None = None,
        note: str | None = None,
    ) -> int:
        """Record breakage or expiry; with ``lot_id`` the units leave that lot.

        Raises:
            InsufficientStockError: not enough stock (or not enough in the lot).
        """
        ev = self._event(EventType.WASTE, sku, qty, on, note=note)
        if lot_id is not None:
            lot_id = validate_id(lot_id, "lot_id")
        return self._single(Operation.WASTE, ev, lot_id=lot_id)

    def adjust(self, sku: str, qty: int, *, on: date, note: str | None = None) -> int:
        """Record a signed correction of on_hand; return its id."""
        return self._single(
            Operation.ADJUST, self._event(EventType.ADJUST, sku, qty, on, note=note)
        )

    def unfulfilled(self, sku: str, qty: int, *, on: date, note: str | None = None) -> int:
        """Record demand that could not be served (no stock effect); return its id."""
        return self._single(
            Operation.UNFULFILLED, self._event(EventType.UNFULFILLED, sku, qty, on, note=note)
        )

    def revert(self, transaction_id: int, *, reason: str) -> None:
        """Cancel a transaction (recorded in ``transaction_reversals``).

        Raises:
            NotFoundError: no such transaction.
            ConflictError: already reverted, or an ORDER with receipts.
            InsufficientStockError: later events depended on it.
        """
        transaction_id = validate_id(transaction_id, "transaction_id")
        reason = validate_reason(reason)
        user = self.user

        def details(done: reversal.Reverted) -> dict[str, Any]:
            return {
                "transaction_id": done.transaction_id,
                "event": done.event.value,
                "qty": done.qty,
                "date": done.date,
                "reason": reason,
            }

        self._write(
            Operation.REVERT,
            lambda done: done.sku,
            lambda uow: reversal.revert(uow, transaction_id, reason, user),
            details,
        )


__all__ = ["DEFAULT_CHUNK", "InventoryWrites", "Operation"]
