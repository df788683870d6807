"""Engine factory, unit of work, retry and schema-version checks."""

from __future__ import annotations

from inventory_core.db.database import Database
from inventory_core.db.engine import make_engine
from inventory_core.db.uow import UnitOfWork

__all__ = ["Database", "UnitOfWork", "make_engine"]
