"""The one tuple of every invariant, in the order reports list them.

Structural checks come first (a database whose schema is wrong makes the others
meaningless), then the rules of the ledger, then the tables around it.
"""

from __future__ import annotations

from inventory_core.invariants.audit_chain import AuditChainIntact
from inventory_core.invariants.base import Invariant
from inventory_core.invariants.coverage import LedgerCovered
from inventory_core.invariants.ledger import (
    DemandHistoryConsistent,
    QuantitiesValid,
    ReversalsValid,
    SnapshotUnique,
    StockNeverNegative,
)
from inventory_core.invariants.lots import LotsConsistent
from inventory_core.invariants.orders import OrdersConsistent, ReceivingIdempotent
from inventory_core.invariants.positions import StockPositionsMatchLedger
from inventory_core.invariants.referential import DateRangesValid, ReferentialIntegrity
from inventory_core.invariants.schema import SchemaObjects, SchemaRevision
from inventory_core.invariants.sqlite_checks import ForeignKeyCheck, SqliteIntegrity

INVARIANTS: tuple[Invariant, ...] = (
    SchemaRevision(),
    SchemaObjects(),
    SqliteIntegrity(),
    ForeignKeyCheck(),
    ReferentialIntegrity(),
    QuantitiesValid(),
    StockNeverNegative(),
    SnapshotUnique(),
    ReversalsValid(),
    ReceivingIdempotent(),
    LotsConsistent(),
    StockPositionsMatchLedger(),
    OrdersConsistent(),
    DemandHistoryConsistent(),
    DateRangesValid(),
    AuditChainIntact(),
    LedgerCovered(),
)

NAMES: tuple[str, ...] = tuple(invariant.name for invariant in INVARIANTS)


def by_name(name: str) -> Invariant:
    """The registered invariant called ``name``.

    Raises:
        KeyError: no invariant has that name.
    """
    for invariant in INVARIANTS:
        if invariant.name == name:
            return invariant
    raise KeyError(name)


__all__ = ["INVARIANTS", "NAMES", "by_name"]
