"""WF_: domain workflows (stock, receiving, reversals)."""

from __future__ import annotations

from inventory_core.errors.base import InventoryError
from inventory_core.errors.i18n import Steps, Text


class WorkflowError(InventoryError):
    """A domain rule refused the operation; nothing was written."""

    code = "WF_000"
    template = Text("The operation is not allowed: {detail}")
    steps = Steps(
        Text("Nothing was written; check the request."),
    )


class InsufficientStockError(WorkflowError):
    """The write would make on-hand stock negative on its date or a later one."""

    code = "WF_001"
    template = Text("Not enough stock of {sku}: on {date} on-hand would be {shortfall} short.")
    steps = Steps(
        Text("Nothing was written."),
        Text(
            "Record the missing receipt or a stock count (snapshot) first, or reduce the quantity."
        ),
        Text("Backdated writes are checked against every later day too."),
    )


class ConflictError(WorkflowError):
    """The request conflicts with what is already recorded (a document, a reversal)."""

    code = "WF_002"
    template = Text("Conflict with what is already recorded: {detail}")
    steps = Steps(
        Text("Nothing was written."),
        Text("Look at the existing record with Inventory.history() before retrying."),
    )


class OverReceiptError(WorkflowError):
    """A receipt would take an order above its ordered quantity."""

    code = "WF_003"
    template = Text(
        "Receiving {qty} on order {order_id} of {sku} exceeds what is still open ({open_qty})."
    )
    steps = Steps(
        Text("Nothing was written."),
        Text("Receive the extra quantity on a line without order_id."),
    )


class LotConsumedError(WorkflowError):
    """A RECEIPT cannot be reverted while other transactions hold units drawn from its lot."""

    code = "WF_010"
    template = Text(
        "Receipt {transaction_id} of {sku} cannot be reverted: transactions "
        "{drawn_by} took units from its lot {lot_id}."
    )
    steps = Steps(
        Text("Nothing was written."),
        Text(
            "Revert transactions {drawn_by} first (their units go back to lot {lot_id}), "
            "then the receipt, then record those movements again."
        ),
        Text("Or keep the receipt and record the goods sent back as a WASTE with lot_id={lot_id}."),
    )


class LotDrawsMismatchError(WorkflowError):
    """A lot no longer matches its recorded draws, so a reversal cannot give units back."""

    code = "WF_011"
    template = Text(
        "Lot {lot_id} of {sku} holds {qty_remaining} of {qty_received} received: giving "
        "back the {qty} units transaction {transaction_id} drew would exceed what it received."
    )
    steps = Steps(
        Text("Nothing was written; the lot was changed outside the library."),
        Text(
            "Run 'inventory-core check --only lots_consistent' to see every lot that "
            "disagrees with its draws and what it should hold."
        ),
        Text(
            "Restore the newest good backup, or set the lot's qty_remaining to the value the "
            "check reports, then revert again."
        ),
    )


class OrderNotOpenError(WorkflowError):
    """An order that is not open (PENDING or PARTIAL) cannot be closed short."""

    code = "WF_012"
    template = Text(
        "Order {order_id} of {sku} is {status}: only a PENDING or PARTIAL order can be closed."
    )
    steps = Steps(
        Text("Nothing was written."),
        Text(
            "A RECEIVED order has nothing left to close; a CLOSED one can be reopened with "
            "Inventory.reopen_order(order_id, reason=...)."
        ),
    )


class OrderNotClosedError(OrderNotOpenError):
    """Only a CLOSED order can be reopened (a subclass of :class:`OrderNotOpenError`, which
    ``reopen_order`` raised before it had its own wording)."""

    code = "WF_014"
    template = Text("Order {order_id} of {sku} is {status}: only a CLOSED order can be reopened.")
    steps = Steps(
        Text("Nothing was written."),
        Text(
            "A PENDING or PARTIAL order is still open: its remainder already counts in "
            "on_order. Close it short with Inventory.close_order(order_id, reason=...)."
        ),
    )


class OrderClosedError(WorkflowError):
    """A closed order takes no receipt and cannot be changed until it is reopened."""

    code = "WF_013"
    template = Text("Order {order_id} of {sku} was closed short: {detail}")
    steps = Steps(
        Text("Nothing was written."),
        Text(
            "Reopen the order with Inventory.reopen_order(order_id, reason=...) first, or "
            "receive the goods on a line without order_id."
        ),
    )


__all__ = [
    "ConflictError",
    "InsufficientStockError",
    "LotConsumedError",
    "LotDrawsMismatchError",
    "OrderClosedError",
    "OrderNotClosedError",
    "OrderNotOpenError",
    "OverReceiptError",
    "WorkflowError",
]
