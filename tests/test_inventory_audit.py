"""Every Inventory write appends exactly one audit row in its own transaction."""

from __future__ import annotations

import json

import pytest

from inventory_core import Database, Inventory, ReceiptLine, audit
from inventory_core.errors import InsufficientStockError
from tests.ledger_support import audit_rows, day


def test_each_write_appends_exactly_one_audit_row(any_db: Database) -> None:
    """add_sku, update_sku and every ledger write leave one row naming the operation."""
    inv = Inventory(any_db, user="op")
    calls = [
        ("add_sku", lambda: inv.add_sku("BIRRA")),
        ("update_sku", lambda: inv.update_sku("BIRRA", moq=24)),
        ("snapshot", lambda: inv.snapshot("BIRRA", 10, on=day(0))),
        ("order", lambda: inv.order("BIRRA", 5, on=day(0))),
        ("receive", lambda: inv.receive("D1", [ReceiptLine("BIRRA", 5)], on=day(1))),
        ("sell", lambda: inv.sell("BIRRA", 2, on=day(1))),
        ("waste", lambda: inv.waste("BIRRA", 1, on=day(1))),
        ("adjust", lambda: inv.adjust("BIRRA", -1, on=day(1))),
        ("unfulfilled", lambda: inv.unfulfilled("BIRRA", 4, on=day(1))),
        ("revert", lambda: inv.revert(inv.history("BIRRA")[-1].transaction_id, reason="x")),
    ]
    for operation, call in calls:
        before = len(audit_rows(any_db))
        call()
        rows = audit_rows(any_db)
        assert len(rows) == before + 1, operation
        assert rows[-1][0] == operation
        assert rows[-1][1] == "BIRRA"


def test_a_refused_write_leaves_no_audit_row(any_db: Database) -> None:
    """The audit row rolls back with the refused change."""
    inv = Inventory(any_db, user="op")
    inv.add_sku("BIRRA")
    before = audit_rows(any_db)
    with pytest.raises(InsufficientStockError):
        inv.sell("BIRRA", 1, on=day(1))
    assert audit_rows(any_db) == before


def test_update_sku_records_values_before_and_after(any_db: Database) -> None:
    """The update_sku audit row carries the changed fields before and after."""
    inv = Inventory(any_db, user="op")
    inv.add_sku("BIRRA", "Birra", moq=6)
    inv.update_sku("BIRRA", moq=24, description="Birra Lager")
    details = json.loads(audit_rows(any_db)[-1][2])
    assert details["before"] == {"description": "Birra", "moq": 6}
    assert details["after"] == {"description": "Birra Lager", "moq": 24}
    assert inv.get_sku("BIRRA").moq == 24


def test_the_user_defaults_to_the_current_run(any_db: Database) -> None:
    """Without user=, the audit row names the user of the enclosing audit.run()."""
    inv = Inventory(any_db)
    with audit.run(user="night_batch"):
        inv.add_sku("BIRRA")
    with any_db.read() as uow:
        from sqlalchemy import text

        user = uow.execute(text('SELECT "user" FROM audit_log ORDER BY audit_id DESC')).first()
    assert user is not None and user[0] == "night_batch"


def test_bulk_import_writes_one_audit_row_per_chunk(any_db: Database) -> None:
    """record_many with chunks of 3 over 7 events writes 3 bulk_import rows with counts."""
    inv = Inventory(any_db, user="op", chunk_size=3)
    inv.add_sku("BIRRA")
    events = [{"sku": "BIRRA", "event": "RECEIPT", "qty": 10, "date": day(0)}] + [
        {"sku": "BIRRA", "event": "SALE", "qty": 1, "date": day(i)} for i in range(1, 7)
    ]
    result = inv.record_many(events)
    assert result.chunks == 3
    rows = [r for r in audit_rows(any_db) if r[0] == "bulk_import"]
    assert len(rows) == 3
    assert json.loads(rows[0][2])["counts"] == {"RECEIPT": 1, "SALE": 2}
