"""The message catalogues: English in the code, every other language in a gettext file.

Each message the library shows is written once, in English, where it is raised: error
templates and recovery steps as ``Text("...")`` on the error class, and the details built at
the point of failure with :func:`gettext` (``_``) and :func:`ngettext`. ``pybabel extract``
collects these English strings (the msgids) into ``inventory_core/locale/inventory_core.pot``;
each language has ``inventory_core/locale/<lang>/LC_MESSAGES/inventory_core.po`` with the
translations, compiled into the ``.mo`` file next to it. The ``.mo`` files are committed and
ship in the wheel, so at run time only the standard :mod:`gettext` module reads them: Babel
is a development tool (see ``docs/translations.md``).

The language follows ``INVENTORY_CORE_LANG``, read each time a message is rendered, so a
process can switch it at run time. ``INVENTORY_CORE_LOCALE_DIR`` names an extra folder of
catalogues (same layout) searched before the shipped one: a new language can be tried, or
tested, without touching the package.
"""

from __future__ import annotations

import functools
import gettext as _gettext
import os
import re
from collections.abc import Iterator, Mapping
from pathlib import Path

DOMAIN = "inventory_core"
LOCALE_DIR = Path(__file__).resolve().parents[1] / "locale"
LANGUAGES = ("en", "it")
"""The languages shipped with the package; ``en`` is the source language of the code."""


def locale_dirs() -> tuple[Path, ...]:
    """The folders searched for catalogues: ``INVENTORY_CORE_LOCALE_DIR`` first, if set."""
    extra = os.environ.get("INVENTORY_CORE_LOCALE_DIR", "").strip()
    return (Path(extra), LOCALE_DIR) if extra else (LOCALE_DIR,)


def has_catalogue(lang: str, domain: str = DOMAIN) -> bool:
    """True when a compiled catalogue of ``domain`` exists for ``lang`` in a searched folder."""
    return any(_gettext.find(domain, str(folder), [lang]) for folder in locale_dirs())


def current_language() -> str:
    """The message language: ``INVENTORY_CORE_LANG`` when it has a catalogue, else ``en``.

    ``it``, ``it_IT`` and ``it_IT.UTF-8`` all mean Italian; an unknown language falls back
    to English rather than failing, since an error message must always be shown.
    """
    raw = os.environ.get("INVENTORY_CORE_LANG", "en").strip().lower()
    lang = re.split(r"[_.@-]", raw, maxsplit=1)[0]
    if lang in LANGUAGES:
        return lang
    return lang if lang and has_catalogue(lang) else "en"


@functools.lru_cache(maxsize=64)
def _load(domain: str, lang: str, folders: tuple[Path, ...]) -> _gettext.NullTranslations:
    chain = _gettext.NullTranslations()
    for folder in reversed(folders):
        found = _gettext.translation(domain, str(folder), [lang], fallback=True)
        if type(found) is not _gettext.NullTranslations:
            found.add_fallback(chain)
            chain = found
    return chain


def translation(lang: str | None = None, domain: str = DOMAIN) -> _gettext.NullTranslations:
    """The catalogue of ``lang`` (default: the current language); English has none."""
    lang = current_language() if lang is None else lang
    if lang == "en":
        return _gettext.NullTranslations()
    return _load(domain, lang, locale_dirs())


def gettext(message: str) -> str:
    """``message`` (an English msgid) in the current language."""
    return translation().gettext(message)


def ngettext(singular: str, plural: str, n: int) -> str:
    """The singular or plural form for ``n``, in the current language's plural rules."""
    return translation().ngettext(singular, plural, n)


def N_(message: str) -> str:
    """Mark ``message`` for extraction without translating it (translate it where shown)."""
    return message


_ = gettext


class Text(Mapping[str, str]):
    """An English message of an error class, readable in any language: ``text["it"]``.

    The mapping form keeps the class attributes indexable by language as they always were
    (``cls.template["it"]``); a language without a catalogue (or without this message)
    reads the English text.
    """

    __slots__ = ("msgid",)

    def __init__(self, msgid: str) -> None:
        self.msgid = msgid

    def __getitem__(self, lang: str) -> str:
        return translation(lang).gettext(self.msgid)

    def __iter__(self) -> Iterator[str]:
        return iter(LANGUAGES)

    def __len__(self) -> int:
        return len(LANGUAGES)

    def __str__(self) -> str:
        return self[current_language()]

    def __repr__(self) -> str:
        return f"Text({self.msgid!r})"


class Steps(Mapping[str, tuple[str, ...]]):
    """The recovery steps of an error class, readable in any language: ``steps["it"]``."""

    __slots__ = ("texts",)

    def __init__(self, *texts: Text) -> None:
        self.texts = texts

    def __getitem__(self, lang: str) -> tuple[str, ...]:
        return tuple(text[lang] for text in self.texts)

    def __iter__(self) -> Iterator[str]:
        return iter(LANGUAGES)

    def __len__(self) -> int:
        return len(LANGUAGES)

    def __repr__(self) -> str:
        return f"Steps{self.texts!r}"


__all__ = [
    "DOMAIN",
    "LANGUAGES",
    "LOCALE_DIR",
    "N_",
    "Steps",
    "Text",
    "current_language",
    "gettext",
    "has_catalogue",
    "locale_dirs",
    "ngettext",
    "translation",
]
