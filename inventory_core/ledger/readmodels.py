"""The immutable read models returned to callers (never live ORM objects)."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from typing import Any

from inventory_core.models import EventType


@dataclass(frozen=True, slots=True)
class Stock:
    """The stock position of one SKU as of a date (events strictly before ``asof`` count)."""

    sku: str
    on_hand: int
    on_order: int
    unfulfilled: int
    asof: date


@dataclass(frozen=True, slots=True)
class SkuInfo:
    """A SKU's master data."""

    sku: str
    description: str
    ean: str | None
    pack_size: int
    moq: int
    lead_time_days: int
    active: bool
    category: str | None = None
    shelf_life_days: int | None = None
    reorder_point: int | None = None
    safety_stock: int | None = None
    max_stock: int | None = None
    attributes: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class SkuPage:
    """One page of :meth:`Inventory.list_skus`: SKUs in code order, and where the next
    page starts (``next_after``: pass it as ``after``; None on the last page)."""

    items: tuple[SkuInfo, ...]
    next_after: str | None


@dataclass(frozen=True, slots=True)
class LotInfo:
    """What is left of one received lot."""

    lot_id: int
    sku: str
    transaction_id: int
    document_id: str | None
    received_date: date
    expiry_date: date | None
    qty_received: int
    qty_remaining: int


@dataclass(frozen=True, slots=True)
class HistoryEntry:
    """One ledger event of a SKU; ``reversed`` events no longer count."""

    transaction_id: int
    sku: str
    date: date
    event: EventType
    qty: int
    document_id: str | None
    note: str | None
    reversed: bool


@dataclass(frozen=True, slots=True)
class ReceiptResult:
    """What one delivery document recorded: one RECEIPT transaction (and lot) per line.

    ``replayed`` tells whether this call wrote it or found it already recorded; it is left
    out of equality, so a replay compares equal to the first result.
    """

    document_id: str
    received_on: date
    document_hash: str
    transaction_ids: tuple[int, ...]
    lot_ids: tuple[int | None, ...]
    replayed: bool = field(default=False, compare=False)


@dataclass(frozen=True, slots=True)
class BulkResult:
    """What one ``record_many`` call wrote."""

    events: int
    chunks: int
    counts: dict[str, int]


@dataclass(frozen=True, slots=True)
class PipelineDate:
    """What is still open on the orders expected on one date."""

    expected: date
    qty: int
    orders: int


@dataclass(frozen=True, slots=True)
class Pipeline:
    """A SKU's open order quantity as of ``asof`` by expected delivery date; ``undated``
    is what is open on orders without an expected date."""

    sku: str
    asof: date
    dated: tuple[PipelineDate, ...]
    undated: int

    @property
    def total(self) -> int:
        """Everything still open on the SKU's orders."""
        return self.undated + sum(line.qty for line in self.dated)


@dataclass(frozen=True, slots=True)
class Position:
    """A SKU's inventory position as of ``asof`` over a horizon:
    ``on_hand + arriving - unfulfilled`` (``arriving``: open order quantity expected on or
    before ``horizon``; an order without a date at its order date plus the lead time)."""

    sku: str
    asof: date
    horizon: date
    on_hand: int
    on_order: int
    arriving: int
    unfulfilled: int

    @property
    def position(self) -> int:
        """on_hand + arriving - unfulfilled."""
        return self.on_hand + self.arriving - self.unfulfilled


@dataclass(frozen=True, slots=True)
class Proposal:
    """A reorder proposal and the numbers that led to it (nothing is written)."""

    sku: str
    asof: date
    qty: int
    on_hand: int
    arriving: int
    unfulfilled: int
    position: int
    reorder_point: int
    target: int
    pack_size: int
    moq: int
    lead_time_days: int
    horizon: date
