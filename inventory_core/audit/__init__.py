"""Audit trail and observability: run context, hash-chained audit rows, logging set-up."""

from __future__ import annotations

from inventory_core.audit.context import current_run_id, current_user, run
from inventory_core.audit.trail import GENESIS_HASH, Operation, append, canonical_json, row_hash

__all__ = [
    "GENESIS_HASH",
    "Operation",
    "append",
    "canonical_json",
    "current_run_id",
    "current_user",
    "row_hash",
    "run",
]
