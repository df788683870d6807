"""Every script in examples/ runs to completion against a fresh database."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

EXAMPLES_DIR = Path(__file__).resolve().parents[1] / "examples"
EXAMPLES = sorted(EXAMPLES_DIR.glob("*.py"))


def _run_example(script: Path, workdir: Path, db_name: str = "example.db") -> str:
    """Run one example on a SQLite file in ``workdir``; return its stdout (exit 0 asserted)."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("INVENTORY_CORE_")}
    env["INVENTORY_CORE_DATABASE_URL"] = f"sqlite:///{workdir / db_name}"
    env["INVENTORY_CORE_BACKUP_DIR"] = str(workdir / "backups")
    done = subprocess.run(
        [sys.executable, str(script)],
        cwd=workdir,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode == 0, done.stderr
    return done.stdout


@pytest.mark.parametrize("script", EXAMPLES, ids=[p.name for p in EXAMPLES])
def test_example_runs(script: Path, tmp_path: Path) -> None:
    """The example exits 0 with output, on a temporary SQLite database."""
    assert _run_example(script, tmp_path).strip()


def test_quickstart_prints_the_month(tmp_path: Path) -> None:
    """The quickstart prints stock at several dates, the lots and audit records with run ids."""
    out = _run_example(EXAMPLES_DIR / "quickstart.py", tmp_path, "demo.db")
    assert "2026-03-01" in out and "BIRRA-05" in out
    assert "expires" in out
    assert out.count(" run ") >= 5


def test_quickstart_run_twice_shows_the_month_without_recording_it_again(tmp_path: Path) -> None:
    """A second `make demo` on the same database shows the same stock and writes nothing."""
    first = _run_example(EXAMPLES_DIR / "quickstart.py", tmp_path, "demo.db")
    second = _run_example(EXAMPLES_DIR / "quickstart.py", tmp_path, "demo.db")
    assert "already recorded" in second
    assert _stock_table(first) == _stock_table(second)


def _stock_table(out: str) -> str:
    return out[out.index("as of") : out.index("Last audit records")]
