"""The run context: a run id (UUID4) and a user, carried by every log event and audit row.

The values live in :mod:`contextvars`, so each thread and each asyncio task sees its own
run; :func:`run` scopes a new one and restores the outer run on exit. Outside any
:func:`run`, the process's run id (bound when the first database is opened) applies, with
the user ``system``: :func:`add_run_context` stamps both on every structlog event, so even a
thread that never entered a run logs which process run it belongs to.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator, MutableMapping
from contextlib import contextmanager
from contextvars import ContextVar
from typing import Any

import structlog

DEFAULT_USER = "system"

_run_id: ContextVar[str | None] = ContextVar("inventory_core_run_id", default=None)
_user: ContextVar[str | None] = ContextVar("inventory_core_user", default=None)
_process_run_id: str | None = None


def new_run_id() -> str:
    """A fresh UUID4 as text."""
    return str(uuid.uuid4())


def bind_process_run() -> str:
    """Give the process a run id the first time a database is opened, and return it.

    The id is also bound into structlog's context of the caller (unless a :func:`run` is in
    force there), so applications that configure structlog themselves, with only
    ``merge_contextvars``, still see ``run_id`` and ``user`` on every event.
    """
    global _process_run_id
    if _process_run_id is None:
        _process_run_id = new_run_id()
    if _run_id.get() is None:
        structlog.contextvars.bind_contextvars(run_id=_process_run_id, user=current_user())
    return _process_run_id


def current_run_id() -> str:
    """The run id in scope: the innermost :func:`run`, else the process's run id."""
    return _run_id.get() or _process_run_id or bind_process_run()


def current_user(default: str = DEFAULT_USER) -> str:
    """The user in scope, or ``default``."""
    return _user.get() or default


@contextmanager
def run(user: str | None = None, run_id: str | None = None) -> Iterator[str]:
    """Scope a run: every log event and audit row inside carries its ``run_id`` and ``user``.

    Runs nest: the inner one wins inside its block and the outer one is back afterwards.
    Each thread and asyncio task has its own context, so concurrent runs never mix.

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
        with structlog.contextvars.bound_contextvars(
            run_id=rid, user=effective_user or DEFAULT_USER
        ):
            yield rid
    finally:
        _user.reset(token_user)
        _run_id.reset(token_run)


def add_run_context(
    _logger: object, _method: str, event_dict: MutableMapping[str, Any]
) -> MutableMapping[str, Any]:
    """structlog processor: make sure every event names its ``run_id`` and ``user``.

    Values already in the event (bound explicitly or merged from the context) win; the
    fallback is the run in scope, which in a fresh thread is the process's run.
    """
    if "run_id" not in event_dict:
        event_dict["run_id"] = current_run_id()
    if "user" not in event_dict:
        event_dict["user"] = current_user()
    return event_dict


def _reset_process_run_for_fork() -> None:
    """A forked child is a new process: it gets its own run id on first use."""
    global _process_run_id
    _process_run_id = None
    if _run_id.get() is None:
        structlog.contextvars.unbind_contextvars("run_id", "user")


os.register_at_fork(after_in_child=_reset_process_run_for_fork)
