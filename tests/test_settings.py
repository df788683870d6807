"""Settings: defaults, the INVENTORY_CORE_ prefix, .env, and errors that name the variable."""

from __future__ import annotations

from pathlib import Path

import pytest

from inventory_core import Database, Settings
from inventory_core.errors import ConfigurationError


def test_defaults_are_the_documented_ones() -> None:
    """Without environment or .env the documented defaults apply."""
    settings = Settings.load()
    assert settings.database_url == "sqlite:///data/inventory.db"
    assert settings.lang == "en"
    assert settings.busy_timeout_ms == 5000
    assert settings.retry_attempts == 5
    assert settings.retry_max_delay_s == 2.0
    assert settings.writer_lock_timeout_s == 30.0
    assert settings.connection_leak_threshold == 20
    assert settings.log_format == "auto"


def test_environment_variables_with_the_prefix_are_read(monkeypatch: pytest.MonkeyPatch) -> None:
    """INVENTORY_CORE_* variables override the defaults; unprefixed ones are ignored."""
    monkeypatch.setenv("INVENTORY_CORE_BUSY_TIMEOUT_MS", "750")
    monkeypatch.setenv("INVENTORY_CORE_LANG", "it")
    monkeypatch.setenv("BUSY_TIMEOUT_MS", "1")
    settings = Settings.load()
    assert settings.busy_timeout_ms == 750
    assert settings.lang == "it"


def test_dotenv_in_the_working_directory_is_read(tmp_path: Path) -> None:
    """A .env file in the working directory supplies values (tests run in tmp_path)."""
    (tmp_path / ".env").write_text("INVENTORY_CORE_RETRY_ATTEMPTS=9\n")
    settings = Settings.load()
    assert settings.retry_attempts == 9


def test_environment_wins_over_dotenv(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A variable set in the environment takes precedence over the same one in .env."""
    (tmp_path / ".env").write_text("INVENTORY_CORE_RETRY_ATTEMPTS=9\n")
    monkeypatch.setenv("INVENTORY_CORE_RETRY_ATTEMPTS", "4")
    assert Settings.load().retry_attempts == 4


def test_overrides_win_over_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    """Keyword overrides to Settings.load beat the environment."""
    monkeypatch.setenv("INVENTORY_CORE_RETRY_ATTEMPTS", "4")
    assert Settings.load(retry_attempts=2).retry_attempts == 2


@pytest.mark.parametrize(
    ("variable", "value"),
    [
        ("INVENTORY_CORE_BUSY_TIMEOUT_MS", "abc"),
        ("INVENTORY_CORE_BUSY_TIMEOUT_MS", "-5"),
        ("INVENTORY_CORE_RETRY_ATTEMPTS", "0"),
        ("INVENTORY_CORE_LANG", "fr"),
        ("INVENTORY_CORE_DATABASE_URL", "mysql://host/db"),
        ("INVENTORY_CORE_WRITER_LOCK_TIMEOUT_S", "soon"),
    ],
)
def test_a_bad_value_names_the_variable(
    monkeypatch: pytest.MonkeyPatch, variable: str, value: str
) -> None:
    """A value that does not validate raises ConfigurationError (VAL_002) naming it."""
    monkeypatch.setenv(variable, value)
    with pytest.raises(ConfigurationError) as caught:
        Settings.load()
    assert caught.value.code == "VAL_002"
    assert variable in caught.value.message
    assert value in caught.value.message
    assert any(variable in step for step in caught.value.recovery_steps)


def test_a_bad_value_in_dotenv_names_the_variable(tmp_path: Path) -> None:
    """The same clear error comes from a bad line in .env."""
    (tmp_path / ".env").write_text("INVENTORY_CORE_RETRY_MAX_DELAY_S=forever\n")
    with pytest.raises(ConfigurationError, match="INVENTORY_CORE_RETRY_MAX_DELAY_S"):
        Settings.load()


def test_settings_are_immutable() -> None:
    """Settings are frozen: a running Database cannot have its timeouts changed under it."""
    settings = Settings.load()
    with pytest.raises(Exception, match="frozen"):
        settings.busy_timeout_ms = 1  # type: ignore[misc]


def test_the_default_url_parent_folder_is_created(tmp_path: Path) -> None:
    """Database.open() with the default URL creates ./data and the database in it."""
    assert not (tmp_path / "data").exists()
    db = Database.open()
    db.upgrade()
    db.close()
    assert (tmp_path / "data").is_dir()
    assert (tmp_path / "data" / "inventory.db").is_file()
