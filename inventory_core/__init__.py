"""inventory_core: a safe stock ledger for shops and small warehouses."""

from __future__ import annotations

from inventory_core import errors
from inventory_core.config import Settings
from inventory_core.inventory import Inventory
from inventory_core.ledger import ReceiptLine, Stock
from inventory_core.models import EventType
from inventory_core.opening import Database
from inventory_core.version import __version__

__all__ = [
    "Database",
    "EventType",
    "Inventory",
    "ReceiptLine",
    "Settings",
    "Stock",
    "__version__",
    "errors",
]
