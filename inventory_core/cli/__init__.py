"""The ``inventory-core`` command line (typer + rich), a thin layer over the library."""

from __future__ import annotations

from inventory_core.cli import core  # noqa: F401  (registers the commands)
from inventory_core.cli.app import app


def main() -> None:
    """Entry point of the ``inventory-core`` console script."""
    app()


__all__ = ["app", "main"]
