"""Retry of a write unit of work as a whole, on lock and serialization errors.

A unit that meets a lock (SQLite ``SQLITE_BUSY`` past ``busy_timeout``) or a serialization
failure or deadlock (PostgreSQL ``40001``/``40P01``) runs again from the start on a fresh
transaction, so it re-reads what it depends on; any other error is raised at once. The
back-off is tenacity's, built once per settings: 20 ms doubling up to
``retry_max_delay_s``, plus up to 50 ms of jitter so that processes that met the same lock
do not retry in lockstep. The ``busy_timeout`` inside each attempt already waits for the
lock; this only spaces the attempts.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Protocol, TypeVar

from tenacity import (
    Retrying,
    retry_if_exception,
    stop_after_attempt,
    wait_exponential,
    wait_random,
)

from inventory_core.config import Settings
from inventory_core.db.uow import UnitOfWork
from inventory_core.errors import (
    DatabaseLockedError,
    DuplicateError,
    InventoryError,
    SerializationConflictError,
    ValidationError,
    WorkflowError,
    is_retryable,
)
from inventory_core.obs.logs import get_logger

T = TypeVar("T")

RETRY_FIRST_DELAY_S = 0.02
RETRY_JITTER_S = 0.05

log = get_logger("inventory_core.db")


def retryable(exc: BaseException) -> bool:
    """Retried: a lock or serialization error, or a PostgreSQL unique violation (``23505``)
    raised by the server, not by the library's own check before the insert.

    Two READ COMMITTED units that both checked a key (a receipt's document, a SKU code)
    before either inserted it meet at the unique index; run again, the later one reads
    the row the other committed and answers as if they had not overlapped (a replayed
    receipt, "SKU already exists"). A SERIALIZABLE unit that extended a chain head
    another unit had extended meets the unique index on ``audit_log.prev_hash``.
    """
    if is_retryable(exc):
        return True
    driver = getattr(exc.__cause__, "orig", exc.__cause__)
    return isinstance(exc, DuplicateError) and getattr(driver, "sqlstate", None) == "23505"


class Handle(Protocol):
    """What a retried unit needs of its database handle."""

    settings: Settings

    def unit_of_work(self, *, row_locks: bool = False) -> UnitOfWork:
        """A write unit of work."""
        ...

    def error_context(self) -> dict[str, object]:
        """Facts for the error raised when every attempt failed."""
        ...


class Retry:
    """The retry policy of one database handle (:meth:`Database.run`)."""

    def __init__(self) -> None:
        self._built: tuple[tuple[int, float], Retrying] | None = None

    def run(
        self,
        db: Handle,
        fn: Callable[[UnitOfWork], T],
        operation: str | None,
        row_locks: bool = False,
    ) -> T:
        """Run ``fn(uow)`` in a write unit of work of ``db`` and commit, retrying the whole
        unit (see :meth:`Database.run`)."""
        attempts = db.settings.retry_attempts
        started = time.monotonic()
        try:
            try:
                return self._attempt(db, fn, row_locks)
            except InventoryError as exc:
                if not retryable(exc):
                    raise
                failed = [exc]

            # tenacity takes over after a retryable failure, which it counts as attempt 1
            # (it then waits, logs and retries as configured). Wrapping every unit would
            # cost about 10 us a write, for the rare one that meets a lock.
            def again() -> T:
                if failed:
                    raise failed.pop()
                return self._attempt(db, fn, row_locks)

            return self._policy(db.settings)(again)
        except InventoryError as exc:
            # A domain rejection is an expected outcome (info); anything else is a warning.
            rejected = isinstance(exc, WorkflowError | ValidationError)
            (log.info if rejected else log.warning)(
                "unit_of_work_failed",
                operation=operation,
                code=exc.code,
                error=type(exc).__name__,
                elapsed_ms=round((time.monotonic() - started) * 1000, 3),
            )
            if not is_retryable(exc):
                raise
            waited = round(time.monotonic() - started, 2)
            context = {**db.error_context(), "attempts": attempts, "waited_s": waited}
            if isinstance(exc, SerializationConflictError):
                raise SerializationConflictError(exc.detail, **context) from exc
            raise DatabaseLockedError(exc.detail, **context) from exc

    @staticmethod
    def _attempt(db: Handle, fn: Callable[[UnitOfWork], T], row_locks: bool) -> T:
        """One attempt of :meth:`run`: ``fn`` in a fresh write unit of work, committed."""
        with db.unit_of_work(row_locks=row_locks) as uow:
            result = fn(uow)
            if not uow.committed:
                uow.commit()
        return result

    def _policy(self, settings: Settings) -> Retrying:
        """The retry policy of :meth:`run`, built once per settings.

        Building it costs about as much as a primary-key lookup; tenacity keeps each run's
        state per thread, so one instance serves every thread.
        """
        key = (settings.retry_attempts, settings.retry_max_delay_s)
        if self._built is None or self._built[0] != key:
            attempts, max_delay = key
            retrying = Retrying(
                stop=stop_after_attempt(attempts),
                wait=wait_exponential(multiplier=RETRY_FIRST_DELAY_S, max=max_delay)
                + wait_random(0, min(RETRY_JITTER_S, max_delay)),
                retry=retry_if_exception(retryable),
                reraise=True,
                before_sleep=lambda state: log.info(
                    "unit_of_work_retry",
                    attempt=state.attempt_number,
                    error=type(state.outcome.exception()).__name__ if state.outcome else None,
                ),
            )
            self._built = (key, retrying)
        return self._built[1]


__all__ = ["RETRY_FIRST_DELAY_S", "RETRY_JITTER_S", "Handle", "Retry", "retryable"]
