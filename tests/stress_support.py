"""The stress harness lives in ``benchmarks/`` (scripts, not a package): make it importable."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

BENCHMARKS = Path(__file__).resolve().parents[1] / "benchmarks"
if str(BENCHMARKS) not in sys.path:
    sys.path.insert(0, str(BENCHMARKS))

import stress  # noqa: E402
import stress_checks  # noqa: E402

__all__ = ["assert_clean", "stress", "stress_checks"]


def assert_clean(summary: dict[str, Any]) -> None:
    """No unexpected error in any worker and every post-run check empty, naming what broke."""
    assert summary["errors"] == [], f"errors surfaced to callers: {summary['errors'][:5]}"
    for name, problems in summary["checks"].items():
        assert problems == [], f"{name}: {problems[:10]}"
