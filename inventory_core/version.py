"""The version of inventory_core, for code that must not import the whole package."""

__version__ = "0.1.0"
