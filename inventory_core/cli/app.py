"""The root ``inventory-core`` command: global options and error presentation.

Commands stay thin: they parse, call the library, print. Every
:class:`~inventory_core.errors.InventoryError` is shown as its code, message and recovery
steps, with a non-zero exit code (3); the raw traceback only appears with ``--debug``.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.markup import escape
from typer._click.exceptions import UsageError
from typer.core import TyperArgument, TyperGroup, TyperOption

from inventory_core.audit.logging_setup import configure_logging
from inventory_core.cli.usage import print_usage_error, speaks_english
from inventory_core.config import Settings
from inventory_core.errors import InventoryError, is_driver_error, translate
from inventory_core.opening import CheckLevel, Database
from inventory_core.version import __version__

EXIT_ERROR = 3

console = Console()
err_console = Console(stderr=True)


@dataclass
class CliState:
    """Options given before the command name."""

    db_url: str | None = None
    debug: bool = False

    def settings(self) -> Settings:
        """Settings from the environment, with ``--db`` taking precedence."""
        overrides: dict[str, Any] = {}
        if self.db_url:
            overrides["database_url"] = as_url(self.db_url)
        settings = Settings.load(**overrides)
        # Messages read the language from the environment when they are built; a language
        # set only in .env must reach them too. The CLI owns its process, so it may set it.
        os.environ.setdefault("INVENTORY_CORE_LANG", settings.lang)
        return settings


def as_url(value: str) -> str:
    """Accept a plain path where a URL is expected: ``shop.db`` -> ``sqlite:///<abs>``."""
    if "://" in value:
        return value
    return f"sqlite:///{Path(value).expanduser().resolve()}"


def print_error(exc: InventoryError) -> None:
    """Show an error as its code, message and numbered recovery steps.

    The text is escaped (a path or a driver message may contain ``[...]``, which rich would
    take for markup) and not wrapped, so each line stays whole in logs and for ``grep``.
    """
    err_console.print(
        f"[bold red]Error {exc.code}[/]: {escape(exc.message)}", highlight=False, soft_wrap=True
    )
    for number, step in enumerate(exc.recovery_steps, start=1):
        err_console.print(f"  {number}. {escape(step)}", highlight=False, soft_wrap=True)


class _Group(TyperGroup):
    """Turns errors into a readable message and exit code 3 (unless --debug).

    Library errors are shown as they are; a driver or OS error that escaped translation is
    translated first, and anything else is shown as a generic ``INV_000`` with its type,
    so a user never sees a raw traceback. The CLI framework's own exceptions (``Exit``,
    ``Abort``) pass through untouched, and so do its usage errors in English; in another
    language they are printed here, translated (see :mod:`inventory_core.cli.usage`).
    """

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        _name_values(self)

    def make_context(self, *args: Any, **kwargs: Any) -> Any:
        with _usage_errors_translated():
            return super().make_context(*args, **kwargs)

    def invoke(self, ctx: Any) -> Any:
        try:
            with _usage_errors_translated():
                return super().invoke(ctx)
        except (typer.Exit, typer.Abort, typer.TyperException):
            raise
        except Exception as exc:
            state = ctx.obj if isinstance(ctx.obj, CliState) else None
            if state is not None and state.debug:
                raise
            if isinstance(exc, InventoryError):
                error = exc
            elif is_driver_error(exc):
                error = translate(exc)
            else:
                error = InventoryError(f"{type(exc).__name__}: {exc}")
            print_error(error)
            raise typer.Exit(code=EXIT_ERROR) from None


_VALUE_NAMES = {"str": "TEXT", "int": "INTEGER", "float": "NUMBER", "Path": "PATH"}


def _name_values(command: Any) -> None:
    """Help texts name values the usual way: ``--db URL``, ``SKU``, ``--png PATH``.

    The framework shows ``<str>``, ``{sku}`` and even ``--help <bool>``; here a flag shows
    no value, an option without a metavar shows its type in capitals and an argument its
    name in capitals (``[NAME]`` when optional), in help and usage lines alike.
    """
    for param in getattr(command, "params", ()):
        if isinstance(param, TyperOption):
            if param.is_flag:
                param.display_type_rich = lambda ctx: None  # type: ignore[method-assign]
            elif param.metavar is None:
                bare = param.bare_type().removeprefix("list[").removesuffix("]")
                param.metavar = _VALUE_NAMES.get(bare, bare.upper())
        elif isinstance(param, TyperArgument):
            if param.metavar is None:
                param.metavar = (param.name or "value").upper()
            shown = param.metavar
            usage = shown if param.required or shown.startswith("[") else f"[{shown}]"
            param.display_type_rich = lambda ctx: None  # type: ignore[method-assign]
            param.get_usage_pieces = _pieces(usage)  # type: ignore[method-assign]
    help_option = command.get_help_option

    def quiet_help(ctx: Any) -> Any:
        option = help_option(ctx)
        if option is not None:
            option.display_type_rich = lambda ctx: None
        return option

    command.get_help_option = quiet_help
    for sub in getattr(command, "commands", {}).values():
        _name_values(sub)


def _pieces(usage: str) -> Any:
    return lambda ctx: [usage]


@contextmanager
def _usage_errors_translated() -> Iterator[None]:
    """Print a usage error in the user's language and exit 2, unless English needs no help."""
    try:
        yield
    except UsageError as exc:
        if speaks_english() or type(exc).__name__ == "NoArgsIsHelpError":
            raise
        print_usage_error(exc, err_console)
        raise typer.Exit(code=exc.exit_code) from None


app = typer.Typer(
    cls=_Group,
    help="inventory-core: the stock ledger of a shop or small warehouse, kept safe.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)


@app.callback()
def _root(
    ctx: typer.Context,
    db: Annotated[
        str | None,
        typer.Option(
            "--db",
            help="Database URL or SQLite path (default: INVENTORY_CORE_DATABASE_URL, "
            "then sqlite:///data/inventory.db).",
            metavar="URL",
        ),
    ] = None,
    debug: Annotated[
        bool, typer.Option("--debug", help="Show full tracebacks instead of short errors.")
    ] = False,
    version: Annotated[
        bool,
        typer.Option(
            "--version",
            help="Show the version and exit.",
            is_eager=True,
            callback=lambda value: _print_version(value),
        ),
    ] = False,
) -> None:
    """inventory-core: the stock ledger of a shop or small warehouse, kept safe."""
    ctx.obj = CliState(db_url=db, debug=debug)
    configure_logging(level="DEBUG" if debug else "WARNING")


def _print_version(value: bool) -> None:
    if value:
        console.print(f"inventory-core {__version__}", highlight=False)
        raise typer.Exit()


def state_of(ctx: typer.Context) -> CliState:
    """The global options of this invocation."""
    obj = ctx.find_root().obj
    return obj if isinstance(obj, CliState) else CliState()


def open_db(
    ctx: typer.Context,
    *,
    write: bool = False,
    check: CheckLevel = "quick",
    migrate: bool = False,
    create: bool = False,
    read_only: bool = False,
    need_schema: bool = False,
) -> Database:
    """Open the database named by ``--db`` / the settings.

    Only ``init`` passes ``create``: every other command refuses a missing file with
    ``IO_003`` instead of leaving an empty database behind. Commands that only read pass
    ``read_only``: they never write a byte, and a read-only file or a backup on read-only
    media opens for them. ``need_schema`` refuses a database without the schema (``DB_011``)
    rather than reading tables that are not there. Commands that write back up a non-empty
    SQLite database first, unless ``INVENTORY_CORE_BACKUP_ON_OPEN`` says otherwise.
    """
    settings = state_of(ctx).settings()
    backup = settings.backup_on_open if "INVENTORY_CORE_BACKUP_ON_OPEN" in os.environ else write
    return Database.open(
        settings=settings,
        check=check,
        migrate=migrate,
        backup_on_open=backup and not read_only,
        create=create,
        read_only=read_only,
        require_schema=need_schema,
    )
