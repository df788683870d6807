"""The test suite of inventory_core; helpers are imported as ``tests.<name>_support``."""
