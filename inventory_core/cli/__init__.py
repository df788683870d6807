"""The ``inventory-core`` command line (typer + rich), a thin layer over the library."""

from __future__ import annotations

from inventory_core.cli import (
    adopt,  # noqa: F401
    audit,  # noqa: F401
    backup,  # noqa: F401
    check,  # noqa: F401
    core,  # noqa: F401  (registers the commands)
    generate,  # noqa: F401
    profile,  # noqa: F401
    report,  # noqa: F401
    shop,  # noqa: F401
    shop_writes,  # noqa: F401
)
from inventory_core.cli.app import app


def main() -> None:
    """Entry point of the ``inventory-core`` console script."""
    app()


__all__ = ["app", "main"]
