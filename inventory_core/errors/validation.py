"""VAL_: input or configuration that does not validate."""

from __future__ import annotations

from inventory_core.errors.base import InventoryError
from inventory_core.errors.i18n import Steps, Text


class ValidationError(InventoryError):
    """An input value does not validate; nothing was written."""

    code = "VAL_001"
    template = Text("Invalid value for '{field}': {detail}")
    steps = Steps(
        Text("Correct '{field}' and try again; nothing was written."),
    )


class ConfigurationError(ValidationError):
    """A setting (environment variable or .env entry) has a bad value."""

    code = "VAL_002"
    template = Text("Bad setting {variable}: {detail}")
    steps = Steps(
        Text("Fix {variable} in the environment or in .env (see README, Configuration)."),
    )


class GenerateTargetNotEmptyError(ValidationError):
    """``generate`` was pointed at a database that already holds SKUs or ledger events."""

    code = "VAL_030"
    template = Text(
        "The database already holds {skus} SKUs and {events} ledger events; generate "
        "writes demo data only into an empty ledger."
    )
    steps = Steps(
        Text("Nothing was written."),
        Text(
            "Generate into a new database: 'inventory-core --db demo.db init', then "
            "'inventory-core --db demo.db generate ...'."
        ),
        Text(
            "To add demo SKUs (GEN-*) beside the data already there, pass --into-existing "
            "(into_existing=True in Python)."
        ),
    )


class StockLimitError(ValidationError):
    """The write would take a SKU's stock past what a 32-bit INTEGER column holds."""

    code = "VAL_010"
    template = Text(
        "{sku} would hold {on_hand} units on {date}, more than the {limit} a stock "
        "figure can hold on every database; nothing was written."
    )
    steps = Steps(
        Text("Check '{field}': a few extra digits are the usual cause."),
        Text("If the stock really is this large, count it in larger units (packs, not pieces)."),
    )


class StoreSchemaNameError(ValidationError):
    """A store's PostgreSQL schema name breaks the identifier rules; nothing was written."""

    code = "VAL_011"
    template = Text("'{schema}' cannot name a store's schema: {detail}")
    steps = Steps(
        Text(
            "Nothing was written. Name the store with 1 to 63 lowercase ASCII letters, digits "
            "and underscores, starting with a letter or an underscore (shop_42), not pg_... "
            "nor information_schema."
        ),
    )
    runbook = "runbook.md#many-stores-on-one-postgresql-server"


class StoreSchemaUnsupportedError(ValidationError):
    """A store schema was asked of a SQLite database, where a store is its own file."""

    code = "VAL_012"
    template = Text(
        "A store schema ('{schema}') needs PostgreSQL; on SQLite every store is its own file."
    )
    steps = Steps(
        Text("Nothing was written."),
        Text(
            "Give each store its own SQLite file (data/shop_42.db) and open it without "
            "schema=, or unset INVENTORY_CORE_STORE_SCHEMA."
        ),
    )
    runbook = "runbook.md#many-stores-on-one-postgresql-server"


class OptionalDependencyError(InventoryError):
    """A feature needs an optional extra (such as ``plots`` for charts) that is not installed."""

    code = "VAL_003"
    template = Text("{feature} needs the optional package '{package}', which is not installed.")
    steps = Steps(
        Text('Install the extra: pip install "inventory-core[{extra}]", then run it again.'),
    )


__all__ = [
    "ConfigurationError",
    "GenerateTargetNotEmptyError",
    "OptionalDependencyError",
    "StockLimitError",
    "StoreSchemaNameError",
    "StoreSchemaUnsupportedError",
    "ValidationError",
]
