"""configure_logging: JSON or console through stdlib, timestamps, tracebacks, rotation, silence."""

from __future__ import annotations

import json
import logging
import logging.handlers
import subprocess
import sys
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path

import pytest
import structlog

from inventory_core import audit
from inventory_core.audit.logging_setup import ROTATE_BYTES, ROTATE_KEEP
from inventory_core.obs.logs import ensure_configured, get_logger

REPO = Path(__file__).resolve().parents[1]


@pytest.fixture(autouse=True)
def _restore_logging() -> Iterator[None]:
    """Put the library's default (silent) configuration back after each test."""
    yield
    root = logging.getLogger()
    for handler in [h for h in root.handlers if getattr(h, "_inventory_core_handler", False)]:
        root.removeHandler(handler)
        handler.close()
    root.setLevel(logging.WARNING)
    structlog.reset_defaults()
    structlog.contextvars.clear_contextvars()
    ensure_configured()


def _json_lines(text: str) -> list[dict[str, object]]:
    return [json.loads(line) for line in text.splitlines() if line.startswith("{")]


def test_json_events_carry_context_level_logger_and_utc_iso_timestamp(
    capsys: pytest.CaptureFixture[str],
) -> None:
    """A JSON event names its run id, user, level, logger and an ISO-8601 UTC timestamp."""
    assert audit.configure_logging(format="json", level="INFO") == "json"
    with audit.run(user="marta", run_id="run-json"):
        get_logger("inventory_core.test").info("stock_counted", sku="BIRRA")
    event = _json_lines(capsys.readouterr().err)[-1]
    assert event["event"] == "stock_counted"
    assert (event["run_id"], event["user"], event["sku"]) == ("run-json", "marta", "BIRRA")
    assert (event["level"], event["logger"]) == ("info", "inventory_core.test")
    stamp = datetime.fromisoformat(str(event["timestamp"]).replace("Z", "+00:00"))
    assert stamp.utcoffset() is not None and stamp.utcoffset().total_seconds() == 0


def test_json_exceptions_are_structured(capsys: pytest.CaptureFixture[str]) -> None:
    """An exception logged in JSON becomes a structured list of frames, not a text blob."""
    audit.configure_logging(format="json", level="INFO")
    try:
        raise ValueError("bad qty")
    except ValueError:
        get_logger("inventory_core.test").exception("write_failed")
    event = _json_lines(capsys.readouterr().err)[-1]
    assert isinstance(event["exception"], list)
    assert event["exception"][0]["exc_type"] == "ValueError"
    assert event["exception"][0]["exc_value"] == "bad qty"


def test_standard_library_records_share_the_format(capsys: pytest.CaptureFixture[str]) -> None:
    """A plain logging record from another library is rendered as JSON with the run context."""
    audit.configure_logging(format="json", level="INFO")
    with audit.run(user="ops", run_id="run-std"):
        logging.getLogger("someone.else").warning("disk at %d%%", 91)
    event = _json_lines(capsys.readouterr().err)[-1]
    assert (event["event"], event["run_id"], event["user"]) == ("disk at 91%", "run-std", "ops")


def test_level_filters_events(capsys: pytest.CaptureFixture[str]) -> None:
    """With level WARNING an info event is dropped and a warning one is written."""
    audit.configure_logging(format="json", level="WARNING")
    logger = get_logger("inventory_core.test")
    logger.info("quiet")
    logger.warning("loud")
    assert [e["event"] for e in _json_lines(capsys.readouterr().err)] == ["loud"]


def test_console_format_is_human_readable(capsys: pytest.CaptureFixture[str]) -> None:
    """The console format prints the event name and its fields on one line, not JSON."""
    audit.configure_logging(format="console", level="INFO")
    get_logger("inventory_core.test").info("stock_counted", sku="BIRRA")
    line = capsys.readouterr().err.strip().splitlines()[-1]
    assert "stock_counted" in line and "sku=BIRRA" in line
    assert not line.startswith("{")


def test_auto_format_is_json_when_stderr_is_not_a_terminal() -> None:
    """Without a format, settings say auto, and a non-terminal stderr gets JSON."""
    assert audit.configure_logging(level="INFO") == "json"


def test_log_file_rotates_at_5_mb_keeping_3_files(tmp_path: Path) -> None:
    """A log file gets JSON lines through a handler rotating at 5 MB with 3 old files."""
    target = tmp_path / "logs" / "inventory.log"
    audit.configure_logging(format="console", level="INFO", file=target)
    get_logger("inventory_core.test").info("to_file", n=1)
    rotating = [
        h
        for h in logging.getLogger().handlers
        if isinstance(h, logging.handlers.RotatingFileHandler)
    ]
    assert len(rotating) == 1
    assert (rotating[0].maxBytes, rotating[0].backupCount) == (ROTATE_BYTES, ROTATE_KEEP)
    assert (ROTATE_BYTES, ROTATE_KEEP) == (5 * 1024 * 1024, 3)
    rotating[0].flush()
    assert _json_lines(target.read_text(encoding="utf-8"))[-1]["event"] == "to_file"


def test_configuring_twice_replaces_the_handlers() -> None:
    """Calling configure_logging again leaves one stderr handler, not two."""
    audit.configure_logging(format="json")
    audit.configure_logging(format="console")
    ours = [h for h in logging.getLogger().handlers if getattr(h, "_inventory_core_handler", 0)]
    assert len(ours) == 1


def test_library_is_silent_unless_the_application_configures_logging(tmp_path: Path) -> None:
    """A script that writes, fails a write and logs a warning prints nothing to stderr."""
    script = (
        "from inventory_core import Database\n"
        "from inventory_core.obs.logs import get_logger\n"
        "from tests.audit_support import add_sku\n"
        f"db = Database.open('sqlite:///{tmp_path / 'quiet.db'}'); db.upgrade()\n"
        "add_sku(db, 'A')\n"
        "try:\n    add_sku(db, 'A')\nexcept Exception:\n    pass\n"
        "get_logger('inventory_core.test').warning('should_not_print')\n"
        "db.close()\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", script], cwd=REPO, capture_output=True, text=True, timeout=60
    )
    assert done.returncode == 0, done.stderr
    assert done.stderr == ""
