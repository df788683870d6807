"""Showing a URL, a setting or a line of text without the credentials in it.

A PostgreSQL URL can carry its password in two places libpq reads the same way: the user
part (``postgresql+psycopg://u:s3cret@host/db``) and the query (``...?password=s3cret``), and
the query can name other credentials (``passfile``, ``sslpassword``, ``sslkey``...).
SQLAlchemy's ``render_as_string(hide_password=True)`` hides only the user part. Everything
inventory_core shows or logs about a URL (``Database.display_url``, log events, ``info`` and
``check`` JSON, the debug bundle's settings) goes through :func:`redact_url`, which hides both,
and every query parameter whose *name* suggests a secret (:data:`SECRET_NAME`): a name is
enough, since the value of an unknown secret cannot be recognised.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, MutableMapping
from typing import Any
from urllib.parse import quote_plus

from sqlalchemy.engine import URL, make_url

SECRET_NAME = re.compile(r"pass|pwd|secret|token|key|credential|auth|private", re.IGNORECASE)
"""Names (settings fields, URL query parameters) whose values are never shown."""
REDACTED = "***"

# Fallbacks for text that is not one parsable URL: the user part of any URL, and
# ``name=value`` pairs (URL queries, libpq ``key=value`` strings) whose name looks secret.
_USERINFO = re.compile(r"(?P<head>[A-Za-z][A-Za-z0-9+.-]*://[^:/@\s]*):(?P<secret>[^@\s]*)@")
_PAIR = re.compile(
    r"(?P<name>[A-Za-z_][A-Za-z0-9_]*)(?P<eq>\s*=\s*)(?P<value>'(?:[^'\\]|\\.)*'|[^\s&;,'\"]+)"
)


def is_secret_name(name: str) -> bool:
    """True when a setting or parameter called ``name`` holds a credential."""
    return SECRET_NAME.search(name) is not None


def _query_value(value: str | tuple[str, ...]) -> tuple[str, ...]:
    return (value,) if isinstance(value, str) else tuple(value)


def redact_url(url: str | URL) -> str:
    """``url`` as text with the password and every secret-looking query value as ``***``.

    A string that is not a URL SQLAlchemy can parse is redacted by pattern instead
    (:func:`redact_text`), so a malformed URL in an error message stays safe too.
    """
    if isinstance(url, str):
        text = url
        try:
            url = make_url(text)
        except Exception:
            return redact_text(text)
    base = url.set(query={}).render_as_string(hide_password=True)
    pairs = [
        f"{quote_plus(name)}={REDACTED if is_secret_name(name) else quote_plus(value)}"
        for name in sorted(url.query)
        for value in _query_value(url.query[name])
    ]
    return base + ("?" + "&".join(pairs) if pairs else "")


def url_secrets(url: URL) -> list[str]:
    """The credential values inside ``url`` (its password, secret-looking query values)."""
    found = [str(url.password)] if url.password else []
    for name, value in url.query.items():
        if is_secret_name(name):
            found.extend(v for v in _query_value(value) if v)
    return found


def scrub(text: str, secrets: Iterable[str]) -> str:
    """``text`` with every occurrence of each known secret value replaced by ``***``."""
    for secret in sorted(set(secrets), key=len, reverse=True):
        if secret:
            text = text.replace(secret, REDACTED)
    return text


def redact_text(text: str) -> str:
    """``text`` with URL passwords and secret-looking ``name=value`` pairs hidden."""
    text = _USERINFO.sub(lambda m: f"{m['head']}:{REDACTED}@", text)
    return _PAIR.sub(
        lambda m: f"{m['name']}{m['eq']}{REDACTED}" if is_secret_name(m["name"]) else m[0], text
    )


def redact(name: str, value: Any) -> Any:
    """A setting's value as it may be shown: hidden for a secret-looking name, URLs redacted.

    Mappings and lists are redacted item by item, so a nested setting is covered too.
    """
    if is_secret_name(name):
        return REDACTED
    if isinstance(value, Mapping):
        return {k: redact(str(k), v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [redact(name, v) for v in value]
    if isinstance(value, str) and "://" in value:
        return redact_url(value)
    if isinstance(value, str):
        return redact_text(value)
    return value


def redact_event(
    _logger: Any, _method: str, event_dict: MutableMapping[str, Any]
) -> MutableMapping[str, Any]:
    """structlog processor: the last net for URLs and secrets an event carries as text.

    The library's own events already show URLs through :func:`redact_url`; this catches
    an application's event (or a standard-library record) that logs a URL or a field
    named like a secret.
    """
    for key, value in event_dict.items():
        if not isinstance(value, str):
            continue
        if is_secret_name(key):
            event_dict[key] = REDACTED
        elif "://" in value or "=" in value:
            event_dict[key] = redact_text(value)
    return event_dict
