"""Library-side logging: structlog events routed through the standard library.

A library must not print on its own: until the application calls
:func:`inventory_core.audit.configure_logging` (or configures structlog itself), events go
to the ``inventory_core`` standard-library loggers, which carry a ``NullHandler`` and show
nothing unless the application attaches handlers.
"""

from __future__ import annotations

import logging

import structlog
from structlog.stdlib import BoundLogger

from inventory_core.obs.context import add_run_context
from inventory_core.obs.redaction import redact_event

LIBRARY_LOGGER = "inventory_core"


def shared_processors() -> list[structlog.types.Processor]:
    """The processors every event passes, before rendering: the run context first, and
    last the redaction of any URL or secret-named field (:func:`redact_event`)."""
    return [
        structlog.contextvars.merge_contextvars,
        add_run_context,
        structlog.stdlib.add_log_level,
        structlog.stdlib.add_logger_name,
        structlog.processors.TimeStamper(fmt="iso", utc=True),
        redact_event,
    ]


def default_processors() -> list[structlog.types.Processor]:
    """The library's default chain: drop disabled levels early, then hand to stdlib."""
    return [
        structlog.stdlib.filter_by_level,
        *shared_processors(),
        structlog.stdlib.ProcessorFormatter.wrap_for_formatter,
    ]


def ensure_configured() -> None:
    """Route structlog through the standard library unless the application configured it."""
    library = logging.getLogger(LIBRARY_LOGGER)
    if not any(isinstance(h, logging.NullHandler) for h in library.handlers):
        library.addHandler(logging.NullHandler())
    if structlog.is_configured():
        return
    structlog.configure(
        processors=default_processors(),
        logger_factory=structlog.stdlib.LoggerFactory(),
        wrapper_class=structlog.stdlib.BoundLogger,
        cache_logger_on_first_use=False,
    )


def get_logger(name: str) -> BoundLogger:
    """A structlog logger named ``name`` (a child of ``inventory_core``)."""
    ensure_configured()
    logger: BoundLogger = structlog.stdlib.get_logger(name)
    return logger
