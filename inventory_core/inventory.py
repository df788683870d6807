"""The :class:`Inventory` facade: the ledger's workflows, one unit of work per call.

Its reads are :class:`~inventory_core.reads.InventoryReads`, its writes of SKUs, events,
receipts and reversals :class:`~inventory_core.writes.InventoryWrites`; this module adds
the shop's everyday operations built on them: end-of-day counts, closing an order short
and reopening it, and ordering reorder proposals.

Each write validates its input first (nothing is written on a bad value), then runs as one
unit of work through :meth:`Database.run` (retried as a whole on lock errors) that checks,
writes, and appends exactly one audit row in the same transaction. The logic lives in
:mod:`inventory_core.ledger`; this module only wires validation, units of work and the
audit trail together.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from datetime import date
from typing import Any

from inventory_core.db.uow import UnitOfWork
from inventory_core.errors import InventoryError
from inventory_core.ledger import bulk, orders_close, receiving
from inventory_core.ledger import counts as counts_sql
from inventory_core.ledger import proposals as proposals_sql
from inventory_core.ledger.arguments import (
    validate_code,
    validate_date,
    validate_events,
    validate_id,
    validate_reason,
)
from inventory_core.ledger.counts import CountResult
from inventory_core.ledger.inputs import (
    AnyEvent,
    EventIn,
)
from inventory_core.ledger.orders_close import Closure
from inventory_core.ledger.readmodels import (
    BulkResult,
    Proposal,
)
from inventory_core.models import EventType
from inventory_core.writes import DEFAULT_CHUNK, InventoryWrites, Operation


class Inventory(InventoryWrites):
    """The stock ledger of one database, acting as one user.

    Args:
        db: an open, migrated :class:`Database`.
        user: who the audit rows name; by default the user of the current
            :func:`inventory_core.audit.run` (``system`` outside one).
        chunk_size: events per unit of work in :meth:`record_many` (1 to 1,000,000).

    Raises:
        ValidationError: ``db`` is not a :class:`Database`, or a bad ``user`` or
            ``chunk_size`` (checked here, not at the first write).
    """

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
            locks=[line.sku for line in lines],
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
            locks=[ev.sku for ev, _ in planned],
            details=lambda ids: {
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
                    locks=[ev.sku for ev in chunk],
                )
            except InventoryError as exc:
                exc.context["events_committed"] = offset
                raise
            counts.update(done)
            chunks += 1
        return BulkResult(events=len(batch), chunks=chunks, counts=dict(sorted(counts.items())))


__all__ = ["DEFAULT_CHUNK", "Inventory", "Operation"]
