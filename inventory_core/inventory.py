"""The :class:`Inventory` facade: the ledger's workflows, one unit of work per call.

Each write validates its input first (nothing is written on a bad value), then runs as one
unit of work through :meth:`Database.run` (retried as a whole on lock errors) that checks,
writes, and appends exactly one audit row in the same transaction. The logic lives in
:mod:`inventory_core.ledger`; this module only wires validation, units of work and the
audit trail together.
"""

from __future__ import annotations

import time
from collections import Counter
from collections.abc import Callable, Iterable, Mapping, Sequence
from datetime import date
from typing import Any, TypeVar

from inventory_core.audit import trail
from inventory_core.db.database import Database
from inventory_core.db.uow import UnitOfWork
from inventory_core.errors import InventoryError, ValidationError
from inventory_core.errors.i18n import gettext as _
from inventory_core.ledger import bulk, events, master, orders_close, receiving, reversal
from inventory_core.ledger import counts as counts_sql
from inventory_core.ledger import proposals as proposals_sql
from inventory_core.ledger.counts import CountResult
from inventory_core.ledger.inputs import (
    AnyEvent,
    EventIn,
    ReceiptIn,
    ReceiptLine,
    SkuChanges,
    SkuIn,
    validate,
    validate_chunk_size,
    validate_code,
    validate_date,
    validate_events,
    validate_id,
    validate_lines,
    validate_reason,
    validate_user,
)
from inventory_core.ledger.orders_close import Closure
from inventory_core.ledger.readmodels import (
    BulkResult,
    Proposal,
    ReceiptResult,
    SkuInfo,
)
from inventory_core.models import EventType
from inventory_core.obs.context import current_user
from inventory_core.reads import InventoryReads

T = TypeVar("T")
Operation = trail.Operation

DEFAULT_CHUNK = 10_000


class Inventory(InventoryReads):
    """The stock ledger of one database, acting as one user (its reads are inherited from
    :class:`~inventory_core.reads.InventoryReads`).

    Args:
        db: an open, migrated :class:`Database`.
        user: who the audit rows name; by default the user of the current
            :func:`inventory_core.audit.run` (``system`` outside one).
        chunk_size: events per unit of work in :meth:`record_many` (1 to 1,000,000).

    Raises:
        ValidationError: ``db`` is not a :class:`Database`, or a bad ``user`` or
            ``chunk_size`` (checked here, not at the first write).
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
    ) -> T:
        """Run ``work`` as one unit of work that also appends its audit row.

        ``details`` returning None means nothing was written (a replayed receipt), so no
        audit row either; ``sku`` may be derived from the result (a reverted transaction).
        """
        user = self.user

        def unit(uow: UnitOfWork) -> T:
            started = time.perf_counter()
            result = work(uow)
            body = details(result)
            if body is not None:
                elapsed = (time.perf_counter() - started) * 1000
                code = sku(result) if callable(sku) else sku
                trail.append(uow, operation, user=user, sku=code, details=body, duration_ms=elapsed)
            return result

        return self.db.run(unit, operation=operation.value)

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
            Operation.UPDATE_SKU, code, lambda uow: master.update_sku(uow, code, data), details
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

    def close_order(self, order_id: int, *, reason: str, on: date | None = None) -> Closure:
        """Close a PENDING or PARTIAL order short: the supplier will not deliver the rest.

        Its open remainder stops counting in on_order from ``on`` (default today; stock as
        of that day or before still counts it) and its status becomes CLOSED.

        Raises:
            NotFoundError: no such order.
            OrderNotOpenError: the order is RECEIVED, CANCELLED or CLOSED.
            ValidationError: ``on`` before the order date or its last receipt, a bad reason.
        """
        order_id = validate_id(order_id, "order_id")
        reason = validate_reason(reason)
        day = date.today() if on is None else validate_date(on, "on")
        user = self.user
        return self._write(
            Operation.CLOSE_ORDER,
            lambda done: done.sku,
            lambda uow: orders_close.close_order(uow, order_id, day, reason, user),
            lambda done: {**orders_close.audit_details(done), "reason": reason},
        )

    def reopen_order(self, order_id: int, *, reason: str) -> Closure:
        """Cancel an order's closure (the revert of :meth:`close_order`): its remainder
        counts in on_order again at every date, and its status is restated from its receipts.

        Raises:
            NotFoundError: no such order.
            OrderNotClosedError: the order is not CLOSED (a subclass of OrderNotOpenError).
        """
        order_id = validate_id(order_id, "order_id")
        reason = validate_reason(reason)
        user = self.user
        return self._write(
            Operation.REOPEN_ORDER,
            lambda done: done.sku,
            lambda uow: orders_close.reopen_order(uow, order_id, reason, user),
            lambda done: {**orders_close.audit_details(done), "reason": reason},
        )

    def count_end_of_day(
        self,
        sku: str,
        counted: int,
        *,
        on: date,
        sold: int | None = None,
        shrinkage: str = "waste",
        note: str | None = None,
    ) -> CountResult:
        """Record the shelf count at the close of ``on``: the day's SALE is what the ledger
        expected less what was counted (or ``sold``, the rest then ``shrinkage``: a WASTE
        or a negative ADJUST); a surplus is a positive ADJUST, never a negative sale.

        Raises:
            ValidationError: a bad code, count, date or shrinkage.
            NotFoundError: no such SKU.
            InsufficientStockError: later events cannot afford the day's decrease.
        """
        code = validate_code(sku)  # first: the mappings below need a hashable key
        raw_sold = None if sold is None else {code: sold}
        return self.count_end_of_day_many(
            {code: counted}, on=on, sold=raw_sold, shrinkage=shrinkage, note=note
        )[0]

    def count_end_of_day_many(
        self,
        counts: Mapping[str, int],
        *,
        on: date,
        sold: Mapping[str, int] | None = None,
        shrinkage: str = "waste",
        note: str | None = None,
    ) -> list[CountResult]:
        """A whole shop's evening count (``{sku: counted}``) in one unit of work with one
        audit row stating, per SKU, the expected, counted, sold, wasted and adjusted units.

        Raises:
            As :meth:`count_end_of_day`; nothing is written when any line is refused.
        """
        lines = counts_sql.validate_lines(counts, sold)
        how = counts_sql.validate_shrinkage(shrinkage)
        day = validate_date(on, "on")
        text = counts_sql.validate_note(note)
        return self._write(
            Operation.COUNT,
            lines[0].sku if len(lines) == 1 else None,
            lambda uow: counts_sql.count_day(uow, lines, day, how, text),
            lambda done: counts_sql.audit_details(done, how),
        )

    def order_many(self, items: Iterable[Proposal | tuple[str, int]], *, on: date) -> list[int]:
        """Place several orders (proposals, or ``(sku, qty)`` pairs) in one unit of work
        with one audit row; return their order ids. A proposal's order is expected after
        its lead time; a pair's has no expected date.

        Raises:
            ValidationError: a bad item, quantity or date (nothing is written).
            NotFoundError: an unknown SKU.
        """
        day = validate_date(on, "on")
        planned = [
            (self._event(EventType.ORDER, sku, qty, day), expected)
            for sku, qty, expected in proposals_sql.order_lines(items, day)
        ]

        def work(uow: UnitOfWork) -> list[int]:
            return [receiving.place_order(uow, ev, when)[0] for ev, when in planned]

        return self._write(
            Operation.ORDER,
            planned[0][0].sku if len(planned) == 1 else None,
            work,
            lambda ids: {
                "date": day,
                "orders": [
                    {"order_id": oid, "sku": ev.sku, "qty": ev.qty, "expected": when}
                    for oid, (ev, when) in zip(ids, planned, strict=True)
                ],
            },
        )

    def record_many(self, items: Iterable[EventIn | Mapping[str, Any]]) -> BulkResult:
        """Import many events: validated up front, then one unit of work per chunk.

        Every event is validated before anything is written. Each chunk is checked per SKU
        in one pass and committed with its own audit row; when a later chunk is refused,
        the chunks before it stay committed (the error's context says how many events).
        Python's cyclic garbage collector is paused for the call (see
        :func:`~inventory_core.ledger.bulk.paused_gc`): the batch's objects hold no cycles,
        and the collections they would trigger cost more than the validation.

        Raises:
            ValidationError: naming ``events[i].field``.
            NotFoundError, ConflictError, InsufficientStockError: as for single writes.
        """
        with bulk.paused_gc():
            return self._record_batch(validate_events(items))

    def _record_batch(self, batch: Sequence[AnyEvent]) -> BulkResult:
        """Write already validated events, chunk by chunk (see :meth:`record_many`)."""
        counts: Counter[str] = Counter()
        chunks = 0
        for offset in range(0, len(batch), self.chunk_size):
            chunk = batch[offset : offset + self.chunk_size]
            try:
                done = self._write(
                    Operation.BULK_IMPORT,
                    None,
                    lambda uow, c=chunk: bulk.record_chunk(uow, c),  # type: ignore[misc]
                    lambda c: {"events": sum(c.values()), "counts": dict(sorted(c.items()))},
                )
            except InventoryError as exc:
                exc.context["events_committed"] = offset
                raise
            counts.update(done)
            chunks += 1
        return BulkResult(events=len(batch), chunks=chunks, counts=dict(sorted(counts.items())))
