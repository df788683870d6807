"""kill -9 a writing process at random moments: acknowledged writes survive, units are whole."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.stress_support import stress


def _crash(url: str, work: Path, kills: int) -> dict[str, object]:
    result = stress.crash_loop(url, work, kills, seed=kills)
    print(json.dumps(result))
    return result


def test_ten_kills_lose_no_acknowledged_write_and_split_no_unit(tmp_path: Path) -> None:
    """After each of 10 SIGKILLs the file opens HEALTHY with every acknowledged write, whole."""
    result = _crash(f"sqlite:///{tmp_path / 'crash.db'}", tmp_path / "work", 10)
    assert result["failures"] == []
    assert result["acknowledged_events"] > 16 + 10, "the writers got work done before each kill"


@pytest.mark.slow
def test_a_hundred_kills_lose_no_acknowledged_write_and_split_no_unit(tmp_path: Path) -> None:
    """After each of 100 SIGKILLs the file opens HEALTHY with every acknowledged write, whole."""
    result = _crash(f"sqlite:///{tmp_path / 'crash.db'}", tmp_path / "work", 100)
    assert result["failures"] == []
    assert result["acknowledged_events"] > 16 + 100


@pytest.mark.postgres
def test_killed_postgresql_clients_lose_no_acknowledged_write(pg_url: str, tmp_path: Path) -> None:
    """SIGKILLed PostgreSQL clients leave every acknowledged write and no half unit behind."""
    result = _crash(pg_url, tmp_path / "work", 4)
    assert result["failures"] == []
    assert result["acknowledged_events"] > 16 + 4
