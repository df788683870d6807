"""SQLAlchemy 2 typed ORM models, one module per aggregate, sharing one MetaData."""

from __future__ import annotations

from inventory_core.models.audit import AuditLog
from inventory_core.models.base import NAMING_CONVENTION, Base, utc_now_iso
from inventory_core.models.calendar import EventUpliftRule, Holiday, PromoCalendar
from inventory_core.models.identity import DatabaseIdentity
from inventory_core.models.kpi import KpiDaily
from inventory_core.models.ledger import (
    EVENT_PRIORITY,
    EventType,
    StockPosition,
    Transaction,
    TransactionReversal,
    newest_reversal_id,
    newest_transaction_id,
    position_is_current,
)
from inventory_core.models.lots import Lot, LotDraw
from inventory_core.models.orders import OrderClosure, OrderLog, OrderReceipt, ReceivingLog
from inventory_core.models.sales import Sale
from inventory_core.models.setting import SettingRow
from inventory_core.models.sku import Sku
from inventory_core.models.triggers import _attach

_attach()

metadata = Base.metadata

BROWSE_VIEWS = ("stock", "ledger", "open_orders", "lots_remaining")
"""The SQL views of migration ``0007_browse_views`` for people browsing the file
(docs/schema.md); they read the library's tables, so a restore that replaces the tables
drops them first."""

__all__ = [
    "BROWSE_VIEWS",
    "EVENT_PRIORITY",
    "NAMING_CONVENTION",
    "AuditLog",
    "Base",
    "DatabaseIdentity",
    "EventType",
    "EventUpliftRule",
    "Holiday",
    "KpiDaily",
    "Lot",
    "LotDraw",
    "OrderClosure",
    "OrderLog",
    "OrderReceipt",
    "PromoCalendar",
    "ReceivingLog",
    "Sale",
    "SettingRow",
    "Sku",
    "StockPosition",
    "Transaction",
    "TransactionReversal",
    "metadata",
    "newest_reversal_id",
    "newest_transaction_id",
    "position_is_current",
    "utc_now_iso",
]
