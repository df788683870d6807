"""Every script in examples/ runs to completion against a fresh database."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

EXAMPLES = sorted((Path(__file__).resolve().parents[1] / "examples").glob("*.py"))


@pytest.mark.parametrize("script", EXAMPLES, ids=[p.name for p in EXAMPLES])
def test_example_runs(script: Path, tmp_path: Path) -> None:
    """The example exits 0 with output, on a temporary SQLite database."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("INVENTORY_CORE_")}
    env["INVENTORY_CORE_DATABASE_URL"] = f"sqlite:///{tmp_path / 'example.db'}"
    env["INVENTORY_CORE_BACKUP_DIR"] = str(tmp_path / "backups")
    done = subprocess.run(
        [sys.executable, str(script)],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip()


def test_quickstart_prints_the_month(tmp_path: Path) -> None:
    """The quickstart prints stock at several dates, the lots and audit records with run ids."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("INVENTORY_CORE_")}
    env["INVENTORY_CORE_DATABASE_URL"] = f"sqlite:///{tmp_path / 'demo.db'}"
    env["INVENTORY_CORE_BACKUP_DIR"] = str(tmp_path / "backups")
    script = Path(__file__).resolve().parents[1] / "examples" / "quickstart.py"
    done = subprocess.run(
        [sys.executable, str(script)],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode == 0, done.stderr
    assert "2026-03-01" in done.stdout and "BIRRA-05" in done.stdout
    assert "expires" in done.stdout
    assert done.stdout.count(" run ") >= 5
