"""``python -m inventory_core`` runs the command line."""

from inventory_core.cli import main

main()
