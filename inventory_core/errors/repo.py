"""REPO_: rows that are missing, duplicated or point at nothing."""

from __future__ import annotations

from typing import Any

from inventory_core.errors.base import InventoryError
from inventory_core.errors.i18n import N_, Steps, Text, gettext

ENTITIES = (N_("SKU"), N_("Lot"), N_("Order"), N_("Transaction"))
"""The names ``NotFoundError(entity=...)`` is given; shown in the user's language."""


class RepositoryError(InventoryError):
    """A row is missing, duplicated or points at nothing."""

    code = "REPO_000"
    template = Text("The data could not be stored: {detail}")
    steps = Steps(
        Text("Check the values you passed and try again."),
    )


class NotFoundError(RepositoryError):
    """The requested row (a SKU, an order, a transaction) does not exist."""

    code = "REPO_001"
    template = Text("{entity} '{key}' does not exist.")
    steps = Steps(
        Text("Check the spelling of '{key}'."),
        Text("List what exists with 'inventory-core skus --search TEXT'."),
    )

    def _values(self) -> Any:
        values = super()._values()
        if isinstance(values.get("entity"), str):
            values["entity"] = gettext(values["entity"])
        return values


class DuplicateError(RepositoryError):
    """A row with the same unique key already exists."""

    code = "REPO_002"
    template = Text("A row with the same key already exists: {detail}")
    steps = Steps(
        Text("Use the existing row, or choose a different key."),
    )


class ForeignKeyViolationError(RepositoryError):
    """A row points at a SKU, order or document that does not exist, or is still referenced."""

    code = "REPO_003"
    template = Text("A row refers to data that does not exist (or is still in use): {detail}")
    steps = Steps(
        Text("Create the SKU or order first, then retry."),
        Text("History is never deleted: revert transactions instead of deleting rows."),
    )


class ConstraintViolationError(RepositoryError):
    """A CHECK or NOT NULL rule of the schema rejected a value."""

    code = "REPO_004"
    template = Text("A value breaks a rule of the schema: {detail}")
    steps = Steps(
        Text("Check signs, dates and required fields of the values you passed."),
    )


class AppendOnlyViolationError(RepositoryError):
    """Someone tried to UPDATE or DELETE a row of an append-only table."""

    code = "REPO_005"
    template = Text("The ledger and the audit log are append-only: {detail}")
    steps = Steps(
        Text("Record a correction instead: Inventory.adjust() or Inventory.revert()."),
        Text(
            "Never edit the transactions, transaction_reversals, lot_draws or audit_log tables "
            "by hand."
        ),
    )


__all__ = [
    "AppendOnlyViolationError",
    "ConstraintViolationError",
    "DuplicateError",
    "ForeignKeyViolationError",
    "NotFoundError",
    "RepositoryError",
]
