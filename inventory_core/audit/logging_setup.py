"""Application-side logging set-up: :func:`configure_logging`.

structlog is wired through the standard library's :class:`~structlog.stdlib.ProcessorFormatter`,
so events from inventory_core, from the application and from other libraries (SQLAlchemy,
alembic) all leave through the same handlers in the same format: JSON lines for machines
(log shippers, files) or coloured console lines for a person at a terminal.
"""

from __future__ import annotations

import logging
import logging.handlers
import os
import sys
from pathlib import Path
from typing import Literal, TextIO

import structlog

from inventory_core.config import Settings
from inventory_core.errors.i18n import gettext as _
from inventory_core.obs.logs import shared_processors

LogFormat = Literal["json", "console"]
ROTATE_BYTES = 5 * 1024 * 1024
ROTATE_KEEP = 3

_HANDLER_MARK = "_inventory_core_handler"


class _StderrHandler(logging.StreamHandler[TextIO]):
    """Writes to whatever ``sys.stderr`` is at emit time (test runners swap it)."""

    def __init__(self) -> None:
        super().__init__(sys.stderr)

    @property
    def stream(self) -> TextIO:
        return sys.stderr

    @stream.setter
    def stream(self, _value: TextIO) -> None:
        return


def resolve_format(requested: str | None, settings: Settings | None = None) -> LogFormat:
    """``json`` or ``console``: as asked, else from settings, else by whether stderr is a TTY."""
    choice = requested or (settings or Settings.load()).log_format
    if choice in ("json", "console"):
        return "json" if choice == "json" else "console"
    return "console" if sys.stderr.isatty() else "json"


def _renderer(fmt: LogFormat) -> list[structlog.types.Processor]:
    # Tracebacks without the frames' local variables: they hold the URL (password
    # included), settings and business data, which must not reach a log file.
    if fmt == "json":
        tracebacks = structlog.processors.ExceptionRenderer(
            structlog.tracebacks.ExceptionDictTransformer(show_locals=False)
        )
        return [tracebacks, structlog.processors.JSONRenderer()]
    formatter = structlog.dev.RichTracebackFormatter(show_locals=False)
    return [
        structlog.dev.ConsoleRenderer(colors=sys.stderr.isatty(), exception_formatter=formatter)
    ]


def _formatter(fmt: LogFormat) -> structlog.stdlib.ProcessorFormatter:
    return structlog.stdlib.ProcessorFormatter(
        foreign_pre_chain=shared_processors(),
        processors=[structlog.stdlib.ProcessorFormatter.remove_processors_meta, *_renderer(fmt)],
    )


def configure_logging(
    format: str | None = None,
    level: str | int | None = None,
    file: str | os.PathLike[str] | None = None,
    *,
    settings: Settings | None = None,
) -> LogFormat:
    """Send structlog and standard-library logging to stderr (and optionally a file).

    Calling it again replaces the handlers it installed before, so a CLI can reconfigure
    after parsing ``--debug``. Every event carries ``run_id``, ``user``, ``level``,
    ``logger`` and an ISO-8601 UTC ``timestamp``; exceptions become structured
    ``exception`` lists in JSON.

    Args:
        format: ``"json"``, ``"console"``, or None for ``Settings.log_format`` (``auto``:
            console when stderr is a terminal, JSON otherwise).
        level: a level name or number; ``Settings.log_level`` when omitted.
        file: also write JSON lines here, rotated at 5 MB keeping 3 old files.
        settings: the settings to read defaults from (loaded from the environment if omitted).

    Returns:
        The format chosen for stderr.
    """
    cfg = settings or Settings.load()
    fmt = resolve_format(format, cfg)
    numeric = logging.getLevelName(level or cfg.log_level) if not isinstance(level, int) else level
    if not isinstance(numeric, int):
        raise ValueError(_("unknown log level {level}").format(level=repr(level)))

    structlog.configure(
        processors=[
            structlog.contextvars.merge_contextvars,
            structlog.stdlib.filter_by_level,
            *shared_processors()[1:],
            structlog.processors.StackInfoRenderer(),
            structlog.stdlib.ProcessorFormatter.wrap_for_formatter,
        ],
        logger_factory=structlog.stdlib.LoggerFactory(),
        wrapper_class=structlog.stdlib.BoundLogger,
        cache_logger_on_first_use=False,
    )

    handlers: list[logging.Handler] = [_StderrHandler()]
    handlers[0].setFormatter(_formatter(fmt))
    if file is not None:
        path = Path(file)
        path.parent.mkdir(parents=True, exist_ok=True)
        rotating = logging.handlers.RotatingFileHandler(
            path, maxBytes=ROTATE_BYTES, backupCount=ROTATE_KEEP, encoding="utf-8"
        )
        rotating.setFormatter(_formatter("json"))
        handlers.append(rotating)

    root = logging.getLogger()
    for old in [h for h in root.handlers if getattr(h, _HANDLER_MARK, False)]:
        root.removeHandler(old)
        old.close()
    for handler in handlers:
        setattr(handler, _HANDLER_MARK, True)
        root.addHandler(handler)
    root.setLevel(numeric)
    logging.getLogger("inventory_core").setLevel(logging.NOTSET)
    return fmt
