"""The run context: a run id (UUID4) and a user, carried by every log event and audit row.

The values live in :mod:`contextvars` (through structlog's ``bind_contextvars``), so each
thread and each asyncio task sees its own run; :func:`run` scopes a new one and restores
the outer run on exit.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar

import structlog

_run_id: ContextVar[str | None] = ContextVar("inventory_core_run_id", default=None)
_user: ContextVar[str | None] = ContextVar("inventory_core_user", default=None)
_process_run_id: str | None = None


def new_run_id() -> str:
    """A fresh UUID4 as text."""
    return str(uuid.uuid4())


def bind_process_run() -> str:
    """Give the process a run id the first time a database is opened, and return it."""
    global _process_run_id
    if _process_run_id is None:
        _process_run_id = new_run_id()
    return _process_run_id


def current_run_id() -> str:
    """The run id in scope: the innermost :func:`run`, else the process's run id."""
    return _run_id.get() or bind_process_run()


def current_user(default: str = "system") -> str:
    """The user in scope, or ``default``."""
    return _user.get() or default


@contextmanager
def run(user: str | None = None, run_id: str | None = None) -> Iterator[str]:
    """Scope a run: every log event and audit row inside carries its ``run_id`` and ``user``.

    Args:
        user: who acts in this run (kept from the outer run when omitted).
        run_id: an id to reuse (a job id, say); a new UUID4 when omitted.

    Yields:
        The run id in force inside the block.
    """
    rid = run_id or new_run_id()
    effective_user = user if user is not None else _user.get()
    token_run = _run_id.set(rid)
    token_user = _user.set(effective_user)
    try:
        with structlog.contextvars.bound_contextvars(run_id=rid, user=effective_user):
            yield rid
    finally:
        _user.reset(token_user)
        _run_id.reset(token_run)


def _reset_process_run_for_fork() -> None:
    global _process_run_id
    _process_run_id = None


import os  # noqa: E402

os.register_at_fork(after_in_child=_reset_process_run_for_fork)
