"""Receiving: multi-SKU documents, partial receipts, over-receipt, idempotent replay."""

from __future__ import annotations

import pytest
from sqlalchemy import text

from inventory_core import Database, Inventory, ReceiptLine
from inventory_core.errors import (
    ConflictError,
    NotFoundError,
    OverReceiptError,
    ValidationError,
)
from tests.ledger_support import audit_rows, day, row_counts


@pytest.fixture
def inv(any_db: Database) -> Inventory:
    """An Inventory with a beer and a water SKU."""
    inventory = Inventory(any_db, user="tester")
    inventory.add_sku("BIRRA")
    inventory.add_sku("ACQUA")
    return inventory


def _order(db: Database, order_id: int) -> tuple[int, str]:
    with db.read() as uow:
        row = uow.execute(
            text("SELECT qty_received, status FROM order_logs WHERE order_id = :o"), {"o": order_id}
        ).one()
    return int(row[0]), str(row[1])


def test_one_document_fills_several_orders_of_several_skus(inv: Inventory) -> None:
    """Each line is one RECEIPT; each order's qty_received and status follow."""
    beer = inv.order("BIRRA", 48, on=day(0))
    water = inv.order("ACQUA", 30, on=day(0))
    result = inv.receive(
        "DDT-1",
        [
            ReceiptLine("BIRRA", 24, order_id=beer),
            ReceiptLine("ACQUA", 30, order_id=water),
            ReceiptLine("BIRRA", 6),
        ],
        on=day(2),
    )
    assert len(result.transaction_ids) == 3
    assert _order(inv.db, beer) == (24, "PARTIAL")
    assert _order(inv.db, water) == (30, "RECEIVED")
    assert inv.stock("BIRRA", asof=day(3)).on_hand == 30
    assert inv.stock("BIRRA", asof=day(3)).on_order == 18
    with inv.db.read() as uow:
        logs = uow.execute(text("SELECT sku, qty_received FROM receiving_logs ORDER BY sku")).all()
        links = uow.execute(text("SELECT COUNT(*) FROM order_receipts")).scalar_one()
    assert [tuple(r) for r in logs] == [("ACQUA", 30), ("BIRRA", 30)]
    assert links == 2


def test_status_goes_pending_partial_received(inv: Inventory) -> None:
    """An order is PENDING, then PARTIAL, then RECEIVED when complete."""
    order_id = inv.order("BIRRA", 10, on=day(0))
    assert _order(inv.db, order_id) == (0, "PENDING")
    inv.receive("D1", [ReceiptLine("BIRRA", 4, order_id=order_id)], on=day(1))
    assert _order(inv.db, order_id) == (4, "PARTIAL")
    inv.receive("D2", [ReceiptLine("BIRRA", 6, order_id=order_id)], on=day(2))
    assert _order(inv.db, order_id) == (10, "RECEIVED")


def test_over_receipt_on_an_order_is_refused(inv: Inventory) -> None:
    """Receiving more than is open on an order raises OverReceiptError and writes nothing."""
    order_id = inv.order("BIRRA", 10, on=day(0))
    inv.receive("D1", [ReceiptLine("BIRRA", 7, order_id=order_id)], on=day(1))
    before = row_counts(inv.db)
    with pytest.raises(OverReceiptError) as info:
        inv.receive(
            "D2",
            [
                ReceiptLine("BIRRA", 2, order_id=order_id),
                ReceiptLine("BIRRA", 2, order_id=order_id),
            ],
            on=day(2),
        )
    assert info.value.code == "WF_003"
    assert info.value.context["open_qty"] == 3
    assert row_counts(inv.db) == before
    inv.receive("D3", [ReceiptLine("BIRRA", 50)], on=day(2))
    assert inv.stock("BIRRA", asof=day(3)).on_hand == 57


def test_replaying_a_document_returns_the_first_result_and_writes_nothing(inv: Inventory) -> None:
    """The same document id with the same lines is a no-op returning the first result."""
    lines = [ReceiptLine("BIRRA", 12, expiry=day(90)), ReceiptLine("ACQUA", 6)]
    first = inv.receive("DDT-7", lines, on=day(1))
    before = row_counts(inv.db)
    again = inv.receive("DDT-7", list(lines), on=day(1))
    assert again == first
    assert again.replayed and not first.replayed
    assert row_counts(inv.db) == before


def test_same_document_with_different_lines_is_a_conflict(inv: Inventory) -> None:
    """The same id with other lines (or another date) raises ConflictError."""
    inv.receive("DDT-8", [ReceiptLine("BIRRA", 12)], on=day(1))
    before = row_counts(inv.db)
    with pytest.raises(ConflictError):
        inv.receive("DDT-8", [ReceiptLine("BIRRA", 13)], on=day(1))
    with pytest.raises(ConflictError):
        inv.receive("DDT-8", [ReceiptLine("BIRRA", 12)], on=day(2))
    assert row_counts(inv.db) == before


def test_order_lines_are_checked_against_the_order(inv: Inventory) -> None:
    """Unknown orders, orders of another SKU and cancelled orders are refused."""
    order_id = inv.order("BIRRA", 10, on=day(0))
    with pytest.raises(NotFoundError):
        inv.receive("D1", [ReceiptLine("BIRRA", 1, order_id=order_id + 100)], on=day(1))
    with pytest.raises(ValidationError) as info:
        inv.receive("D1", [ReceiptLine("ACQUA", 1, order_id=order_id)], on=day(1))
    assert info.value.context["field"] == "lines[0].order_id"
    order_tid = inv.history("BIRRA")[0].transaction_id
    inv.revert(order_tid, reason="cancelled by supplier")
    assert _order(inv.db, order_id) == (0, "CANCELLED")
    with pytest.raises(ConflictError):
        inv.receive("D1", [ReceiptLine("BIRRA", 1, order_id=order_id)], on=day(1))


def test_reverting_a_receipt_reopens_its_order(inv: Inventory) -> None:
    """A reverted receipt gives its quantity back to the order and restates the status."""
    order_id = inv.order("BIRRA", 10, on=day(0))
    result = inv.receive("D1", [ReceiptLine("BIRRA", 10, order_id=order_id)], on=day(1))
    inv.revert(result.transaction_ids[0], reason="wrong delivery")
    assert _order(inv.db, order_id) == (0, "PENDING")
    assert inv.stock("BIRRA", asof=day(2)).on_order == 10


def test_an_order_with_receipts_cannot_be_reverted(inv: Inventory) -> None:
    """Reverting an ORDER that already has receipts raises ConflictError."""
    order_id = inv.order("BIRRA", 10, on=day(0))
    inv.receive("D1", [ReceiptLine("BIRRA", 3, order_id=order_id)], on=day(1))
    with pytest.raises(ConflictError):
        inv.revert(inv.history("BIRRA")[0].transaction_id, reason="too late")


def test_a_receipt_writes_one_audit_row_and_a_replay_none(inv: Inventory) -> None:
    """One audit row per recorded document, none for a replay."""
    before = len(audit_rows(inv.db))
    inv.receive("D1", [ReceiptLine("BIRRA", 3), ReceiptLine("ACQUA", 2)], on=day(1))
    inv.receive("D1", [ReceiptLine("BIRRA", 3), ReceiptLine("ACQUA", 2)], on=day(1))
    rows = audit_rows(inv.db)
    assert len(rows) == before + 1
    assert rows[-1][0] == "receive"
    assert '"document_id":"D1"' in rows[-1][2]
