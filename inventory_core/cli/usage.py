"""The CLI framework's usage errors (unknown option, missing argument...) in the user's language.

typer, with the copy of click it carries, builds these messages in English f-strings that no
gettext catalogue reaches (only a few strings, read once at import, go through the stdlib's
default domain). So when the language is not English the root group prints usage errors
itself: the framework's message is matched against its English forms, kept here as msgids
of our catalogue, and rendered from their translation; so are ``Usage:``, the help hint and
the ``[OPTIONS]`` of the usage line. In English nothing changes: the framework prints them.
"""

from __future__ import annotations

import re
from functools import cache

from rich.console import Console
from rich.markup import escape
from typer._click.exceptions import UsageError

from inventory_core.errors.i18n import N_, current_language
from inventory_core.errors.i18n import gettext as _

PATTERNS = (
    N_("No such option: {name} (Possible options: {options})"),
    N_("No such option: {name}"),
    N_("No such command {name}. Did you mean {suggestions}?"),
    N_("No such command {name}."),
    N_("Missing command."),
    N_("Missing argument {name}. {reason}"),
    N_("Missing argument {name}."),
    N_("Missing option {name}. {reason}"),
    N_("Missing option {name}."),
    N_("Missing parameter: {name}"),
    N_("Got unexpected extra argument(s) ({args})"),
    N_("Got unexpected extra argument ({args})"),
    N_("Got unexpected extra arguments ({args})"),
    N_("Option {name} requires an argument."),
    N_("Option {name} requires {count} arguments."),
    N_("Option {name} does not take a value."),
    N_("Invalid value for {name}: {reason}"),
    N_("Invalid value: {reason}"),
    N_("{value} is not one of {choices}."),
    N_("{value} does not match the formats {formats}."),
    N_("Value {value} is not a valid {label}."),
    N_("{label} {value} does not exist."),
    N_("Input should be a valid integer, unable to parse string as an integer"),
    N_("Input should be a valid integer, got a number with a fractional part"),
    N_("Input should be a valid integer"),
    N_("Input should be a valid number, unable to parse string as a number"),
    N_("Input should be a valid boolean, unable to interpret input"),
    N_("Input should be greater than or equal to {ge}"),
    N_("Input should be greater than {gt}"),
    N_("Input should be less than or equal to {le}"),
    N_("Input should be less than {lt}"),
)
"""The framework's messages, most specific first: ``{name}`` parts are copied as they are,
``{reason}`` parts are themselves translated."""

_TRANSLATED_PARTS = frozenset({"reason"})
_WORD_PARTS = frozenset({"label"})
_LABELS = (N_("File"), N_("Directory"), N_("Path"))
_USAGE_WORDS = (N_("[OPTIONS]"), N_("COMMAND [ARGS]..."))


@cache
def _regex(pattern: str) -> re.Pattern[str]:
    parts = re.split(r"\{(\w+)\}", pattern)
    regex = "".join(
        f"(?P<{part}>.+?)" if index % 2 else re.escape(part) for index, part in enumerate(parts)
    )
    return re.compile(regex, re.DOTALL)


def translate_message(message: str) -> str:
    """``message`` in the current language, when it is one of the framework's known forms."""
    for pattern in PATTERNS:
        found = _regex(pattern).fullmatch(message)
        if found is None:
            continue
        values = found.groupdict()
        for key in _TRANSLATED_PARTS & values.keys():
            values[key] = translate_message(values[key])
        for key in _WORD_PARTS & values.keys():
            values[key] = _(values[key])
        return _(pattern).format_map(values)
    return message


def usage_line(error: UsageError) -> str | None:
    """The usage line of the command the error is about, its English words translated."""
    if error.ctx is None:
        return None
    usage = error.ctx.get_usage().removeprefix("Usage:").strip()
    for words in _USAGE_WORDS:
        usage = usage.replace(words, _(words))
    return _("Usage: {usage}").format(usage=usage)


def print_usage_error(error: UsageError, console: Console) -> None:
    """Show a usage error as the framework would, in the current language."""
    line = usage_line(error)
    if line is not None:
        console.print(escape(line), highlight=False, soft_wrap=True)
    ctx = error.ctx
    if ctx is not None and ctx.command.get_help_option(ctx) is not None:
        hint = _("Try '{command} {option}' for help.").format(
            command=ctx.command_path, option=ctx.help_option_names[0]
        )
        console.print(escape(hint), highlight=False, soft_wrap=True)
    label = _("Error")
    message = translate_message(error.format_message())
    console.print(
        f"[bold red]{escape(label)}[/]: {escape(message)}", highlight=False, soft_wrap=True
    )


def speaks_english() -> bool:
    """True when the framework's own (English) output is already in the user's language."""
    return current_language() == "en"


__all__ = ["PATTERNS", "print_usage_error", "speaks_english", "translate_message", "usage_line"]
