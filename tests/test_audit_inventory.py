"""Every Inventory write leaves exactly one correct audit row, retried or not; failures none."""

from __future__ import annotations

from datetime import date

import pytest
import structlog
from sqlalchemy.engine import make_url
from structlog.testing import capture_logs

from inventory_core import Database, Settings, audit
from inventory_core.errors import InsufficientStockError
from inventory_core.inventory import Inventory
from inventory_core.ledger.inputs import ReceiptLine
from inventory_core.obs.context import add_run_context
from tests.audit_support import SPAWN, audit_count, hold_write_lock, ledger_count

CONTEXT = [structlog.contextvars.merge_contextvars, add_run_context]
D = date(2026, 2, 12)


def _stocked(db: Database, user: str = "op") -> Inventory:
    inv = Inventory(db, user=user)
    inv.add_sku("BIRRA", "Birra Lager 0.5L", pack_size=24, moq=24, lead_time_days=3)
    inv.snapshot("BIRRA", 288, on=date(2026, 2, 1))
    return inv


def test_every_inventory_write_leaves_one_row_with_operation_user_sku(any_db: Database) -> None:
    """add_sku ... revert each append exactly one row naming the operation, user and SKU."""
    inv = Inventory(any_db, user="operator_01")
    order_id: list[int] = []
    sale: list[int] = []
    writes = [
        ("add_sku", lambda: inv.add_sku("BIRRA", "Birra", pack_size=24, moq=24)),
        ("update_sku", lambda: inv.update_sku("BIRRA", moq=48)),
        ("snapshot", lambda: inv.snapshot("BIRRA", 288, on=date(2026, 2, 1))),
        ("order", lambda: order_id.append(inv.order("BIRRA", 144, on=date(2026, 2, 9)))),
        (
            "receive",
            lambda: inv.receive(
                "DDT-0042", [ReceiptLine("BIRRA", 144, order_id=order_id[0])], on=D
            ),
        ),
        ("sell", lambda: sale.append(inv.sell("BIRRA", 23, on=D))),
        ("waste", lambda: inv.waste("BIRRA", 1, on=D)),
        ("adjust", lambda: inv.adjust("BIRRA", -2, on=D)),
        ("unfulfilled", lambda: inv.unfulfilled("BIRRA", 5, on=D)),
        ("revert", lambda: inv.revert(sale[0], reason="scanned twice")),
    ]
    with audit.run(user="operator_01") as run_id:
        for operation, write in writes:
            before = audit_count(any_db)
            write()
            assert audit_count(any_db) == before + 1, operation
            row = audit.tail(any_db, 1)[0]
            assert (row.operation, row.user, row.sku, row.run_id) == (
                operation,
                "operator_01",
                "BIRRA",
                run_id,
            )
            assert row.details["sku"] == "BIRRA"
    assert [r.operation for r in audit.by_sku(any_db, "BIRRA")] == [op for op, _ in writes]
    assert audit.verify(any_db).ok


def test_update_sku_records_before_and_after_values(db: Database) -> None:
    """An update's audit details hold the old and the new value of what changed."""
    inv = _stocked(db)
    inv.update_sku("BIRRA", moq=48)
    details = audit.tail(db, 1)[0].details
    assert (details["before"], details["after"]) == ({"moq": 24}, {"moq": 48})


def test_replayed_receipt_adds_no_row(db: Database) -> None:
    """Replaying an identical delivery document is a no-op and appends nothing."""
    inv = _stocked(db)
    inv.receive("DDT-1", [ReceiptLine("BIRRA", 24)], on=D)
    before = audit_count(db)
    inv.receive("DDT-1", [ReceiptLine("BIRRA", 24)], on=D)
    assert audit_count(db) == before


def test_refused_sale_leaves_no_row_and_logs_its_code(any_db: Database) -> None:
    """A sale beyond stock writes nothing, and logs unit_of_work_failed with WF_001 at info."""
    inv = _stocked(any_db)
    before = (audit_count(any_db), ledger_count(any_db))
    with capture_logs(processors=CONTEXT) as logs, pytest.raises(InsufficientStockError):
        inv.sell("BIRRA", 10_000, on=D)
    assert (audit_count(any_db), ledger_count(any_db)) == before
    failed = [e for e in logs if e["event"] == "unit_of_work_failed"]
    assert [(e["code"], e["log_level"], e["operation"]) for e in failed] == [
        ("WF_001", "info", "sell")
    ]
    assert not [e for e in logs if e["event"] == "audit_appended"]


def test_retried_sale_leaves_exactly_one_row(any_url: str) -> None:
    """Inventory.sell retried while another process holds the write lock appends one row."""
    url = any_url
    if make_url(url).get_backend_name() == "postgresql":
        # Waiting for the audit advisory lock fails after 100 ms, so the unit is retried.
        url = make_url(url).update_query_dict({"options": "-c lock_timeout=100"})
        url = url.render_as_string(hide_password=False)
    settings = Settings.load(busy_timeout_ms=50, retry_attempts=40, retry_max_delay_s=0.1)
    db = Database.open(url, settings=settings)
    db.upgrade()
    try:
        inv = _stocked(db)
        ready = SPAWN.Event()
        holder = SPAWN.Process(target=hold_write_lock, args=(any_url, 0.8, ready))
        holder.start()
        assert ready.wait(30)
        with capture_logs() as logs:
            inv.sell("BIRRA", 7, on=D)
        holder.join(30)
        assert [e for e in logs if e["event"] == "unit_of_work_retry"]
        assert [r.operation for r in audit.tail(db, 10)] == ["add_sku", "snapshot", "sell"]
        assert ledger_count(db) == 2
        assert sum(e["event"] == "audit_appended" for e in logs) == 1
        assert audit.verify(db).ok
    finally:
        db.close()
