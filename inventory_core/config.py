"""Settings read from the environment (prefix ``INVENTORY_CORE_``) and from ``.env``.

A bad value fails at once with a :class:`~inventory_core.errors.ConfigurationError` naming the
variable, instead of surfacing later as an obscure database error.
"""

from __future__ import annotations

import os
import re
from pathlib import Path
from typing import Any, Literal

import pydantic
from pydantic import Field, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from inventory_core.errors import ConfigurationError, StoreSchemaNameError
from inventory_core.errors.i18n import gettext as _
from inventory_core.errors.i18n import has_catalogue
from inventory_core.obs.redaction import redact

ENV_PREFIX = "INVENTORY_CORE_"
SCHEMA_NAME_MAX = 63
"""PostgreSQL's identifier limit (NAMEDATALEN - 1 bytes): a longer name is silently cut."""
_SCHEMA_NAME = re.compile(r"[a-z_][a-z0-9_]*")


def check_store_schema(name: object) -> str:
    """``name`` if it may name a store's PostgreSQL schema (``Database.open(url, schema=...)``).

    Only lowercase ASCII letters, digits and underscores, starting with a letter or an
    underscore, at most 63 bytes: such a name means the same quoted or not (PostgreSQL folds
    unquoted names to lowercase and cuts them at 63 bytes without an error, so two longer
    names could land in one schema), needs no quoting in ``search_path`` nor in
    ``pg_dump --schema``, and can never close a quote. ``pg_...`` and ``information_schema``
    belong to the server.

    Raises:
        StoreSchemaNameError: the name breaks a rule (nothing was written).
    """
    if not isinstance(name, str):
        raise StoreSchemaNameError(_("a schema name is text"), schema=repr(name), field="schema")
    why = None
    if not name or len(name) > SCHEMA_NAME_MAX:
        why = _("it must be 1 to {limit} characters long").format(limit=SCHEMA_NAME_MAX)
    elif not _SCHEMA_NAME.fullmatch(name):
        why = _(
            "only lowercase ASCII letters, digits and _ are allowed, and it must not start "
            "with a digit"
        )
    elif name.startswith("pg_") or name == "information_schema":
        why = _("the server reserves pg_... and information_schema")
    if why is not None:
        raise StoreSchemaNameError(why, schema=name[:80], field="schema")
    return name


class Settings(BaseSettings):
    """Every knob of the library; each field maps to ``INVENTORY_CORE_<NAME>``."""

    model_config = SettingsConfigDict(
        env_prefix=ENV_PREFIX,
        env_file=".env",
        env_file_encoding="utf-8",
        extra="ignore",
        frozen=True,
    )

    database_url: str = Field(
        default="sqlite:///data/inventory.db",
        description="SQLAlchemy URL of the database (sqlite:///path or postgresql+psycopg://...).",
    )
    backup_dir: Path | None = Field(
        default=None,
        description="Folder for backups; unset: 'backups' beside the database file (see "
        "backup_folder).",
    )
    lang: str = Field(
        default="en",
        description="Language of messages: en, it, or one with a catalogue (docs/translations.md).",
    )
    log_format: Literal["auto", "json", "console"] = Field(
        default="auto", description="Log format; auto is console on a terminal, JSON otherwise."
    )
    log_level: Literal["DEBUG", "INFO", "WARNING", "ERROR"] = Field(default="INFO")
    busy_timeout_ms: int = Field(
        default=5000, ge=0, le=600_000, description="SQLite busy_timeout per connection."
    )
    retry_attempts: int = Field(
        default=5, ge=1, le=100, description="Attempts of a unit of work on lock errors."
    )
    retry_max_delay_s: float = Field(
        default=2.0, gt=0, le=60, description="Longest back-off between two attempts."
    )
    writer_lock_timeout_s: float = Field(
        default=30.0, gt=0, le=3600, description="Wait for this process's writer lock."
    )
    connection_leak_threshold: int = Field(
        default=20, ge=1, le=10_000, description="Checked-out connections that trigger a warning."
    )
    cache_size_kib: int = Field(default=65536, ge=1024, description="SQLite page cache in KiB.")
    backup_on_open: bool = Field(
        default=False, description="Back up a non-empty SQLite database when it is opened."
    )
    store_schema: str | None = Field(
        default=None,
        description="PostgreSQL schema holding one store's tables (many stores on one "
        "server); unset: the server's default (public). Refused on SQLite.",
    )

    @field_validator("store_schema", mode="before")
    @classmethod
    def _store_schema_name(cls, value: Any) -> Any:
        if value is None or (isinstance(value, str) and not value.strip()):
            return None
        try:
            return check_store_schema(value)
        except StoreSchemaNameError as exc:
            raise ValueError(exc.message) from exc

    @field_validator("database_url")
    @classmethod
    def _known_scheme(cls, value: str) -> str:
        if not value.startswith(("sqlite", "postgresql")):
            raise ValueError(_("must start with sqlite:/// or postgresql+psycopg://"))
        return value

    @field_validator("lang")
    @classmethod
    def _has_catalogue(cls, value: str) -> str:
        lang = value.strip().lower()
        if lang != "en" and not has_catalogue(lang):
            raise ValueError(
                _("must be en, it or a language with a message catalogue (not {value})").format(
                    value=repr(value)
                )
            )
        return lang

    @field_validator("backup_dir", mode="before")
    @classmethod
    def _blank_is_unset(cls, value: Any) -> Any:
        return None if isinstance(value, str) and not value.strip() else value

    def backup_folder(self, database_file: Path | None, name: str) -> Path:
        """The folder backups of one database go to, as an absolute path.

        ``INVENTORY_CORE_BACKUP_DIR`` wins when set (a relative one is taken from the working
        directory). Otherwise the folder follows the database, never the working directory:
        ``backups`` beside a SQLite file, so that every command finds the same backups
        wherever it runs from; for a database without a file (PostgreSQL, in-memory SQLite),
        ``inventory-core/backups/<name>`` under the user's data folder (``$XDG_DATA_HOME``,
        by default ``~/.local/share``).

        Args:
            database_file: the SQLite file, or None.
            name: names the database when there is no file (``host-port-database``).
        """
        if self.backup_dir is not None:
            return self.backup_dir.expanduser().resolve()
        if database_file is not None:
            return database_file.resolve().parent / "backups"
        data_home = os.environ.get("XDG_DATA_HOME") or str(Path.home() / ".local" / "share")
        return (Path(data_home).expanduser() / "inventory-core" / "backups" / name).resolve()

    @classmethod
    def load(cls, **overrides: Any) -> Settings:
        """Build settings from the environment and ``.env``, translating validation errors.

        Raises:
            ConfigurationError: naming the first variable with a bad value.
        """
        try:
            return cls(**overrides)
        except pydantic.ValidationError as exc:
            first = exc.errors()[0]
            field = str(first["loc"][0]) if first["loc"] else "?"
            variable = ENV_PREFIX + field.upper()
            raise ConfigurationError(
                _("{first} (got {value})").format(
                    first=first["msg"], value=repr(redact(field, first.get("input")))
                ),
                variable=variable,
                field=field,
            ) from exc
