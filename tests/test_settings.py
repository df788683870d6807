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


def test_the_default_backup_folder_follows_the_database(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Unset INVENTORY_CORE_BACKUP_DIR: <db folder>/backups, whatever the working directory."""
    monkeypatch.delenv("INVENTORY_CORE_BACKUP_DIR")
    (tmp_path / "elsewhere").mkdir()
    monkeypatch.chdir(tmp_path / "elsewhere")
    settings = Settings.load()
    assert settings.backup_dir is None
    assert (
        settings.backup_folder(tmp_path / "shop" / "shop.db", "x") == tmp_path / "shop" / "backups"
    )
    with Database.open(tmp_path / "shop.db") as db:
        assert db.backup_dir == tmp_path / "backups"


def test_a_blank_backup_dir_means_the_default(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    """INVENTORY_CORE_BACKUP_DIR= (empty) is the default, not the working directory."""
    monkeypatch.setenv("INVENTORY_CORE_BACKUP_DIR", " ")
    assert Settings.load().backup_folder(tmp_path / "a.db", "x") == tmp_path / "backups"


def test_without_a_file_backups_go_under_the_user_data_folder(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    """A PostgreSQL database gets $XDG_DATA_HOME/inventory-core/backups/<host-port-db>."""
    monkeypatch.delenv("INVENTORY_CORE_BACKUP_DIR")
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "data"))
    folder = Settings.load().backup_folder(None, "db.example-5432-shop")
    assert folder == tmp_path / "data" / "inventory-core" / "backups" / "db.example-5432-shop"


@pytest.mark.postgres
def test_a_postgresql_database_names_its_backup_folder(
    pg_url: str, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    """Database.backup_dir on PostgreSQL is per server and database, not per working directory."""
    from sqlalchemy.engine import make_url

    monkeypatch.delenv("INVENTORY_CORE_BACKUP_DIR")
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "data"))
    url = make_url(pg_url)
    with Database.open(pg_url) as db:
        expected = f"{url.host}-{url.port or 5432}-{url.database}"
        assert db.backup_dir == tmp_path / "data" / "inventory-core" / "backups" / expected
