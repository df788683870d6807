"""No credential of a database URL leaves the process: displays, logs, JSON, bundles, argv."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import zipfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy.engine import make_url
from structlog.testing import capture_logs

from inventory_core import Database
from inventory_core.backup import BackupService, debug_bundle
from inventory_core.config import Settings
from inventory_core.errors import ConfigurationError, InventoryError
from inventory_core.invariants import check_all
from inventory_core.opening import info
from tests.backup_support import seed
from tests.db_support import test_settings

SECRET = "Sup3r-s3cret-PW"
SSL_SECRET = "ssl-Key-Pass-42"
REPO = Path(__file__).resolve().parents[1]


def _with_query_password(url: str, secret: str = SECRET) -> str:
    """``url`` with the password as a ``?password=`` query parameter (libpq reads it)."""
    return make_url(url).update_query_dict({"password": secret}).render_as_string(False)


def _with_user_password(url: str, secret: str = SECRET) -> str:
    """``url`` with the password in the user part (``user:password@host``)."""
    return make_url(url).set(password=secret).render_as_string(hide_password=False)


URL_FORMS = {"query": _with_query_password, "user": _with_user_password}


@pytest.fixture(params=sorted(URL_FORMS))
def secret_url(request: pytest.FixtureRequest, pg_url: str) -> str:
    """A fresh PostgreSQL URL carrying SECRET as its password, in each form (trust auth)."""
    return URL_FORMS[request.param](pg_url)


@pytest.fixture
def secret_db(secret_url: str) -> Iterator[Database]:
    """A migrated, seeded PostgreSQL database opened through a URL with a password."""
    database = Database.open(secret_url, settings=test_settings())
    database.upgrade()
    seed(database, skus=1, events_per_sku=2)
    yield database
    database.close()


def test_redact_url_hides_every_credential_and_keeps_the_rest() -> None:
    """Both password places and every secret-looking query parameter become ***."""
    from inventory_core.obs.redaction import redact_url

    shown = redact_url(
        f"postgresql+psycopg://app:{SECRET}@db.shop:5433/inv?password={SECRET}"
        f"&sslpassword={SSL_SECRET}&passfile=/home/app/.pgpass&sslkey=/k.pem"
        "&sslmode=require&application_name=till"
    )
    assert SECRET not in shown and SSL_SECRET not in shown and ".pgpass" not in shown
    assert shown.startswith("postgresql+psycopg://app:***@db.shop:5433/inv?")
    assert "password=***" in shown and "sslpassword=***" in shown and "sslkey=***" in shown
    assert "sslmode=require" in shown and "application_name=till" in shown
    assert redact_url("sqlite:////data/shop.db") == "sqlite:////data/shop.db"
    assert SECRET not in redact_url(f"mysql+what://u:{SECRET}@h/d?password=x y z")


@pytest.mark.postgres
def test_display_url_info_and_health_report_never_show_the_password(secret_db: Database) -> None:
    """display_url, repr, the info facts and the health report hold no password."""
    shown = [
        secret_db.display_url,
        repr(secret_db),
        json.dumps(info.describe(secret_db), default=str),
        check_all(secret_db).to_json(),
    ]
    assert all(SECRET not in text for text in shown), shown
    assert secret_db.display_url.count("***") == 1


@pytest.mark.postgres
def test_log_events_of_open_and_upgrade_never_carry_the_password(secret_url: str) -> None:
    """The database_opened and database_migrated events (and every other) hold no password."""
    with capture_logs() as logs, Database.open(secret_url, settings=test_settings()) as database:
        database.upgrade()
        seed(database, skus=1, events_per_sku=1)
    assert {"database_opened", "database_migrated"} <= {e["event"] for e in logs}
    assert SECRET not in json.dumps(logs, default=str)


def _cli(*args: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    return subprocess.run(
        [sys.executable, "-m", "inventory_core", *args],
        capture_output=True,
        text=True,
        env=env,
        timeout=120,
        check=False,
    )


@pytest.mark.postgres
def test_cli_info_and_check_json_and_debug_log_stream_hold_no_password(
    secret_db: Database, secret_url: str
) -> None:
    """`info --json`, `check --json` and the JSON log lines of --debug never print it."""
    for command in (["info", "--json"], ["check", "--json"]):
        done = _cli("--debug", "--db", secret_url, *command)
        assert done.returncode == 0, done.stderr
        assert json.loads(done.stdout)
        assert "database_opened" in done.stderr  # the JSON log stream was really written
        assert SECRET not in done.stdout and SECRET not in done.stderr


@pytest.fixture
def _reset_logging() -> Iterator[None]:
    """Put the library's default (silent) logging back after a test that configures it."""
    import logging

    import structlog

    from inventory_core.obs.logs import ensure_configured

    yield
    root = logging.getLogger()
    for handler in [h for h in root.handlers if getattr(h, "_inventory_core_handler", False)]:
        root.removeHandler(handler)
        handler.close()
    root.setLevel(logging.WARNING)
    structlog.reset_defaults()
    ensure_configured()


@pytest.mark.usefixtures("_reset_logging")
@pytest.mark.parametrize("fmt", ["json", "console"])
def test_an_exception_logged_by_the_application_does_not_carry_the_password(
    fmt: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """A traceback through Database.open, and URL or secret-named fields, are logged redacted."""
    from inventory_core import audit
    from inventory_core.obs.logs import get_logger

    log_file = tmp_path / "app.log"
    audit.configure_logging(format=fmt, level="DEBUG", file=log_file)
    url = f"postgresql+psycopg://app@127.0.0.1:9/inv?password={SECRET}&connect_timeout=2"
    try:
        Database.open(url, settings=test_settings())
    except InventoryError:
        get_logger("shop.app").exception(
            "open_failed", url=f"postgresql://app:{SECRET}@db/inv", api_token=SECRET
        )
    written = capsys.readouterr().err + log_file.read_text(encoding="utf-8")
    assert "open_failed" in written
    assert "exc_type" in written if fmt == "json" else "Traceback" in written
    assert SECRET not in written


def test_a_bad_url_setting_is_reported_without_its_password() -> None:
    """The configuration error for an unsupported URL does not echo its password."""
    with pytest.raises(ConfigurationError) as raised:
        Settings.load(database_url=f"mysql://app:{SECRET}@db/inv?password={SECRET}")
    assert SECRET not in raised.value.message and SECRET not in str(raised.value.context)


def test_a_server_that_does_not_answer_is_reported_without_the_password() -> None:
    """Opening an unreachable server fails with a message and context free of the password."""
    url = f"postgresql+psycopg://app@127.0.0.1:9/inv?password={SECRET}&connect_timeout=2"
    with pytest.raises(InventoryError) as raised:
        Database.open(url, settings=test_settings())
    assert SECRET not in raised.value.message and SECRET not in str(raised.value.context)


@pytest.mark.postgres
def test_debug_bundle_holds_no_password_anywhere(
    secret_db: Database, secret_url: str, tmp_path: Path
) -> None:
    """Every entry of the bundle (settings, health, logs, data) is free of the password."""
    logs = tmp_path / "logs"
    logs.mkdir()
    # What an application (or an older version) may have logged: the URL itself.
    (logs / "app.log").write_text(
        json.dumps({"event": "connecting", "url": secret_url}) + f"\nconnecting to {secret_url}\n",
        encoding="utf-8",
    )
    path = debug_bundle(secret_db, tmp_path / "bundle.zip")
    archive = zipfile.ZipFile(path)
    assert "logs/app.log" in archive.namelist() and "settings.json" in archive.namelist()
    for name in archive.namelist():
        assert SECRET.encode() not in archive.read(name), name
    settings = json.loads(archive.read("settings.json"))
    assert "***" in settings["database_url"] and "127.0.0.1" in settings["database_url"]


FAKE_TOOL = """#!{python}
import json, os, sys
service = os.environ.get("PGSERVICEFILE")
record = {{
    "argv": sys.argv,
    "PGPASSWORD": os.environ.get("PGPASSWORD"),
    "service": open(service).read() if service else None,
}}
with open({record!r}, "a") as out:
    out.write(json.dumps(record) + "\\n")
os.execv({real!r}, [{real!r}, *sys.argv[1:]])
"""


def _fake_tools(folder: Path, record: Path) -> None:
    """Put recording ``pg_dump`` / ``pg_restore`` first on PATH; each runs the real tool."""
    folder.mkdir()
    for name in ("pg_dump", "pg_restore"):
        real = shutil.which(name)
        if real is None:
            pytest.skip(f"{name} is not installed")
        script = folder / name
        script.write_text(FAKE_TOOL.format(python=sys.executable, record=str(record), real=real))
        script.chmod(0o755)


def _calls(record: Path) -> list[dict[str, Any]]:
    return [json.loads(line) for line in record.read_text().splitlines()]


@pytest.mark.postgres
def test_pg_dump_and_pg_restore_never_get_the_password_on_their_command_line(
    secret_db: Database, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The tools' argv holds no password; it arrives in PGPASSWORD, and backups still work."""
    record = tmp_path / "calls.jsonl"
    _fake_tools(tmp_path / "bin", record)
    monkeypatch.setenv("PATH", f"{tmp_path / 'bin'}{os.pathsep}{os.environ['PATH']}")
    service = BackupService(secret_db, tmp_path / "backups")
    path = service.backup("manual")
    assert service.verify(path) == []
    service.restore(path)
    calls = _calls(record)
    tools = [Path(c["argv"][0]).name for c in calls]
    assert "pg_dump" in tools and "pg_restore" in tools
    for call in calls:
        assert SECRET not in json.dumps(call["argv"]), call["argv"]
        reads_file_only = "--list" in call["argv"] or "--data-only" in call["argv"]
        if not reads_file_only:  # pg_restore --list / --data-only --file=- only read the dump
            assert call["PGPASSWORD"] == SECRET
    assert secret_db.revision() is not None


@pytest.mark.postgres
def test_a_secret_without_environment_variable_travels_in_a_private_service_file(
    pg_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """sslpassword goes to pg_dump through a 0600 service file, never argv, and is removed."""
    url = make_url(pg_url).update_query_dict({"sslpassword": SSL_SECRET, "sslmode": "disable"})
    record = tmp_path / "calls.jsonl"
    _fake_tools(tmp_path / "bin", record)
    monkeypatch.setenv("PATH", f"{tmp_path / 'bin'}{os.pathsep}{os.environ['PATH']}")
    with Database.open(url, settings=test_settings()) as database:
        database.upgrade()
        path = BackupService(database, tmp_path / "backups").backup("manual")
    (call,) = _calls(record)
    assert SSL_SECRET not in json.dumps(call["argv"]) and "sslmode=disable" in call["argv"][-1]
    assert f"sslpassword={SSL_SECRET}" in call["service"]
    assert path.stat().st_size > 0


def test_invocation_keeps_every_secret_off_the_command_line() -> None:
    """Both URL forms and extra secrets split into argv without secrets plus env/service."""
    from inventory_core.backup.postgres import invocation

    for text in (
        f"postgresql+psycopg://app:{SECRET}@db:5433/inv?sslmode=require",
        f"postgresql+psycopg://app@db:5433/inv?password={SECRET}&sslpassword={SSL_SECRET}"
        "&passfile=/home/app/.pgpass",
    ):
        call = invocation(make_url(text))
        assert SECRET not in " ".join(call.args) and SSL_SECRET not in " ".join(call.args)
        assert ".pgpass" not in " ".join(call.args)
        assert call.args[0].startswith("--dbname=postgresql://app@db:5433/inv")
        assert call.env["PGPASSWORD"] == SECRET
    assert call.env["PGPASSFILE"] == "/home/app/.pgpass"
    assert call.service == {"sslpassword": SSL_SECRET}
