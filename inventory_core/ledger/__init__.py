"""The ledger: input models, read models, set-based as-of stock, checks, lots, receiving.

:class:`inventory_core.Inventory` is the facade over this package; the modules here run
inside a unit of work they are given and never open one themselves.
"""

from __future__ import annotations

from inventory_core.ledger.fold import LedgerEvent, apply_on_hand, reference_fold
from inventory_core.ledger.inputs import EventIn, ReceiptLine
from inventory_core.ledger.readmodels import (
    BulkResult,
    HistoryEntry,
    LotInfo,
    ReceiptResult,
    SkuInfo,
    Stock,
)

__all__ = [
    "BulkResult",
    "EventIn",
    "HistoryEntry",
    "LedgerEvent",
    "LotInfo",
    "ReceiptLine",
    "ReceiptResult",
    "SkuInfo",
    "Stock",
    "apply_on_hand",
    "reference_fold",
]
