"""The legacy store's orders and receipts, as this library's orders, receipts and closures.

The old application keeps on_order as one figure per SKU (ORDER adds, RECEIPT subtracts,
a SNAPSHOT sets it to 0); here on_order is the same walk, and the orders behind it are
rows of their own (``order_logs``), filled by receipts (``order_receipts``) and closed
short (``order_closures``). :class:`OrderBook` follows the legacy fold of each SKU and
plans those rows:

- each ORDER recorded becomes an order, with the expected date of its ``order_logs`` row
  (matched by SKU, date and quantity) or of the ORDER's own ``receipt_date``, and the legacy
  order id of that row or the one its ``note`` names ("Ordine ORD-20260209-BIRRA");
- each RECEIPT recorded fills the orders its ``receiving_logs`` row (``order_ids``) or its
  note names, then the SKU's oldest open orders (the old application lowered on_order in
  total), under the legacy document id or ``legacy-<file>-<line>``;
- a SNAPSHOT closes every order open before it, dated the SNAPSHOT's date, with a reason
  naming the legacy row: the old application set on_order to 0 there. A receipt of that
  day beyond the open orders fills those orders first (see :meth:`OrderBook._fill_zeroed`).

So the open orders after the import (and :meth:`Inventory.on_order_by_date`) add up to the
legacy fold's on_order. :mod:`inventory_core.adopt.order_rows` writes the plan.
"""

from __future__ import annotations

import re
from collections import defaultdict, deque
from dataclasses import dataclass, field
from datetime import date

from inventory_core.adopt.findings import (
    Finding,
    PlannedOrder,
    PlannedReceipt,
    Translation,
    date_cell,
    int_cell,
    invalid,
)
from inventory_core.adopt.source import LegacyRow, LegacySource
from inventory_core.errors.adopt import AdoptInputError
from inventory_core.errors.i18n import gettext as _

ORDER_ID = re.compile(r"\bORD[-_][A-Za-z0-9_\-]+")
"""An order id written in a ledger note, as the old application writes it."""


@dataclass(slots=True)
class _LegacyOrder:
    order_id: str
    expected: date | None


@dataclass(slots=True)
class _LegacyReceipt:
    document_id: str
    order_ids: list[str]
    used: bool = False


@dataclass(slots=True)
class OrderBook:
    """The orders of the store as the fold goes (see the module docstring)."""

    orders: list[PlannedOrder] = field(default_factory=list)
    receipts: list[PlannedReceipt] = field(default_factory=list)
    flow: int = 0
    """ORDER and RECEIPT events recorded so far: the next one's ``index``."""
    _by_key: dict[tuple[str, date, int], deque[_LegacyOrder]] = field(default_factory=dict)
    _docs: dict[tuple[str, date, int], deque[_LegacyReceipt]] = field(default_factory=dict)
    _open: dict[str, list[PlannedOrder]] = field(default_factory=lambda: defaultdict(list))
    _named: dict[str, dict[str, PlannedOrder]] = field(default_factory=dict)
    """Per SKU, its orders by the legacy order id that names them."""
    _zeroed: dict[str, list[PlannedOrder]] = field(default_factory=dict)
    """Per SKU, the orders its last SNAPSHOT closed (on that SNAPSHOT's date)."""

    def read(self, source: LegacySource, out: Translation, skip_invalid: bool) -> None:
        """Read ``order_logs`` and ``receiving_logs`` (when the store has them)."""
        for row in source.rows("order_logs"):
            try:
                key = (row.get("sku"), date_cell(row, "date"), int_cell(row, "qty_ordered"))
                expected = date_cell(row, "receipt_date") if row.get("receipt_date") else None
            except AdoptInputError as exc:
                invalid(out, row, exc, skip_invalid)
                continue
            entry = _LegacyOrder(row.get("order_id"), expected)
            self._by_key.setdefault(key, deque()).append(entry)
        for row in source.rows("receiving_logs"):
            try:
                qty = int_cell(row, "qty_received")
                days = {date_cell(row, c) for c in ("receipt_date", "date") if row.get(c)}
            except AdoptInputError as exc:
                invalid(out, row, exc, skip_invalid)
                continue
            document = row.get("document_id") or row.get("receipt_id")
            entry_r = _LegacyReceipt(document[:64], _order_ids(row))
            for day in days:
                self._docs.setdefault((row.get("sku"), day, qty), deque()).append(entry_r)

    def order(self, sku: str, day: date, qty: int, note: str, receipt_date: str) -> None:
        """An ORDER of ``qty`` > 0 was recorded."""
        found = self._by_key.get((sku, day, qty))
        legacy = found.popleft() if found else None
        expected = legacy.expected if legacy is not None else _maybe_date(receipt_date)
        if expected is not None and expected < day:
            expected = None
        named = legacy.order_id if legacy is not None and legacy.order_id else _named_id(note)
        planned = PlannedOrder(self.flow, sku, day, qty, expected, named)
        self.flow += 1
        self.orders.append(planned)
        self._open[sku].append(planned)
        if named:
            self._named.setdefault(sku, {}).setdefault(named, planned)

    def receipt(self, sku: str, day: date, qty: int, note: str, where: str) -> None:
        """A RECEIPT of ``qty`` > 0 was recorded (``where``: its file and line)."""
        found = self._docs.get((sku, day, qty))
        while found and found[0].used:  # a row listed under both of its dates
            found.popleft()
        legacy = found.popleft() if found else None
        if legacy is not None:
            legacy.used = True
        names = legacy.order_ids if legacy is not None else [n for n in [_named_id(note)] if n]
        document = legacy.document_id if legacy is not None and legacy.document_id else ""
        planned = PlannedReceipt(self.flow, sku, day, qty, document or f"legacy-{where}"[:64])
        self.flow += 1
        self.receipts.append(planned)
        mine = self._named.get(sku, {})
        wanted = [mine[n] for n in names if n in mine]
        rest = qty
        for order in [*wanted, *self._open[sku]]:
            take = min(rest, order.open)
            if take <= 0:
                continue
            order.received += take
            planned.fills.append((order, take))
            rest -= take
            if rest == 0:
                break
        self._open[sku] = [o for o in self._open[sku] if o.open > 0]
        if rest:
            self._fill_zeroed(sku, day, rest, planned)

    def _fill_zeroed(self, sku: str, day: date, rest: int, planned: PlannedReceipt) -> None:
        """What a receipt brings beyond the open orders fills the orders a SNAPSHOT of the
        same day closed, before their closures take the rest.

        On order here is a walk in which the closures of a day come after its orders and
        receipts, from the figure the SNAPSHOT zeroed there; a receipt that legacy
        clamped at 0 would otherwise be absorbed by the orders about to close, and the
        closure would then take more than is left. Filling those orders first keeps this
        walk at the old application's figure.
        """
        for order in self._zeroed.get(sku, ()):
            if order.closed != day or rest == 0:
                continue
            take = min(rest, order.closed_qty)
            order.received += take
            planned.fills.append((order, take))
            rest -= take
            if order.qty == order.received:
                order.closed = None

    def snapshot(self, sku: str, day: date, where: str) -> list[PlannedOrder]:
        """A SNAPSHOT set on_order to 0: close the SKU's open orders placed before ``day``."""
        closing = [o for o in self._open[sku] if o.day <= day]
        reason = _("legacy SNAPSHOT {where} set on_order to 0").format(where=where)
        for order in closing:
            order.closed = day
            order.reason = reason
        self._open[sku] = [o for o in self._open[sku] if o.open > 0]
        earlier = [o for o in self._zeroed.get(sku, ()) if o.closed == day]
        self._zeroed[sku] = [*earlier, *closing]
        return closing

    def on_order(self, sku: str) -> int:
        """What the SKU's open orders still bring."""
        return sum(o.open for o in self._open.get(sku, ()))

    def done(self, sku: str) -> None:
        """The SKU's fold is over: nothing will fill or close its orders any more, so the
        book lets go of what it held to find them (a decade of weekly orders is a million
        objects)."""
        self._open.pop(sku, None)
        self._named.pop(sku, None)
        self._zeroed.pop(sku, None)

    def drain(self) -> tuple[list[PlannedOrder], list[PlannedReceipt]]:
        """The orders and receipts planned since the last call, and forget them.

        Called between SKUs (after :meth:`done`), they are final: a receipt fills and a
        SNAPSHOT closes only orders of its own SKU.
        """
        taken = self.orders, self.receipts
        self.orders, self.receipts = [], []
        return taken

    def left_over(self, out: Translation) -> None:
        """List the ``order_logs`` rows no recorded ORDER matched."""
        for (sku, day, qty), entries in sorted(self._by_key.items()):
            for entry in entries:
                out.findings.append(
                    Finding(
                        "order without ORDER",
                        "order_logs",
                        0,
                        sku,
                        f"order_id={entry.order_id},date={day},sku={sku},qty_ordered={qty}",
                        _("no stock effect (on_order follows the ledger)"),
                        _("nothing"),
                    )
                )


def _order_ids(row: LegacyRow) -> list[str]:
    raw = row.get("order_ids")
    return [p for p in re.split(r"[\s,;|\[\]\"']+", raw) if p]


def _named_id(note: str) -> str | None:
    found = ORDER_ID.search(note)
    return found.group(0) if found else None


def _maybe_date(text: str) -> date | None:
    try:
        return date.fromisoformat(text.strip()[:10]) if text.strip() else None
    except ValueError:
        return None


__all__ = ["OrderBook"]
