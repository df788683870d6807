"""ADO_: adopting a desktop-order-system store (``inventory-core adopt``)."""

from __future__ import annotations

from inventory_core.errors.base import InventoryError
from inventory_core.errors.i18n import Steps, Text


class AdoptError(InventoryError):
    """A legacy store could not be adopted."""

    code = "ADO_001"
    template = Text("The store could not be adopted: {detail}")
    steps = Steps(Text("Nothing was imported; the database is as it was."))
    runbook = "runbook.md#adopting-a-store"


class AdoptInputError(AdoptError):
    """A file, row or cell of the legacy store cannot be read or translated."""

    code = "ADO_010"
    template = Text("In the legacy store, {file} line {line}, column {column}: {detail}")
    steps = Steps(
        Text("Nothing was imported; the database is as it was."),
        Text(
            "Correct the row in a copy of the store, or run again with --skip-invalid to "
            "leave such rows out (they are listed in the report)."
        ),
    )
    runbook = "runbook.md#adopting-a-store"


class AdoptTargetError(AdoptError):
    """The target database is not empty, or already holds another adopted store."""

    code = "ADO_020"
    template = Text("The store cannot be adopted into this database: {detail}")
    steps = Steps(
        Text("Nothing was imported; the database is as it was."),
        Text("Adopt a store into a new database: create it with 'inventory-core init'."),
    )
    runbook = "runbook.md#adopting-a-store"
