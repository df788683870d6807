"""Adopting a desktop-order-system store: read its data folder or ``app.db``, translate its
events into this ledger's rules, report every row not copied as it stood, and import it.

See docs/adopt.md for the translation rules.
"""

from __future__ import annotations

from inventory_core.adopt.findings import Finding, Translation
from inventory_core.adopt.importer import AdoptResult, adopt
from inventory_core.adopt.source import LegacyRow, LegacySource, open_source
from inventory_core.adopt.translate import translate

__all__ = [
    "AdoptResult",
    "Finding",
    "LegacyRow",
    "LegacySource",
    "Translation",
    "adopt",
    "open_source",
    "translate",
]
