"""Audit trail and observability: run context, hash-chained audit rows, logging set-up.

``with audit.run(user=...)`` scopes a run id; :func:`configure_logging` sets up structlog for
an application; :func:`append` writes an audit row inside a unit of work; :func:`verify`
walks the hash chain; :func:`tail`, :func:`by_run` and :func:`by_sku` read it back.
"""

from __future__ import annotations

from inventory_core.audit.chain_walk import ChainReport
from inventory_core.audit.logging_setup import configure_logging
from inventory_core.audit.queries import AuditEntry, by_run, by_sku, tail
from inventory_core.audit.trail import GENESIS_HASH, Operation, append, canonical_json, row_hash
from inventory_core.audit.verify import head, verify
from inventory_core.obs.context import current_run_id, current_user, run

__all__ = [
    "GENESIS_HASH",
    "AuditEntry",
    "ChainReport",
    "Operation",
    "append",
    "by_run",
    "by_sku",
    "canonical_json",
    "configure_logging",
    "current_run_id",
    "current_user",
    "head",
    "row_hash",
    "run",
    "tail",
    "verify",
]
