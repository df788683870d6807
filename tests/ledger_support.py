"""Helpers shared by the ledger tests: dates, row counts, the oracle read from the database."""

from __future__ import annotations

from datetime import date, timedelta

from sqlalchemy import func, select, text

from inventory_core import Database, Inventory, ReceiptLine
from inventory_core.invariants import check_all
from inventory_core.ledger.fold import LedgerEvent, reference_fold
from inventory_core.ledger.readmodels import Stock
from inventory_core.models import EventType, Lot, Transaction, TransactionReversal, metadata

DAY0 = date(2026, 2, 1)
EARLY, LATE = date(2026, 3, 1), date(2026, 3, 20)


def day(n: int) -> date:
    """The n-th day after DAY0 (day(0) is DAY0)."""
    return DAY0 + timedelta(days=n)


def counted_birra(db: Database) -> Inventory:
    """An Inventory (user ``tester``) with the SKU BIRRA counted at 10 on day(0)."""
    inventory = Inventory(db, user="tester")
    inventory.add_sku("BIRRA")
    inventory.snapshot("BIRRA", 10, on=day(0))
    return inventory


def revert_every(inv: Inventory, events_sql: str, step: int) -> None:
    """Revert every ``step``-th transaction whose event is in ``events_sql`` (an SQL list)."""
    with inv.db.read() as uow:
        ids = list(
            uow.execute(
                text(
                    f"SELECT transaction_id FROM transactions WHERE event IN ({events_sql}) "
                    "ORDER BY transaction_id"
                )
            ).scalars()
        )
    for tid in ids[::step]:
        inv.revert(int(tid), reason="test")


def row_counts(db: Database) -> dict[str, int]:
    """Rows in every table, to prove a refused write changed nothing."""
    with db.read() as uow:
        return {
            name: int(uow.execute(select(func.count()).select_from(table)).scalar_one())
            for name, table in sorted(metadata.tables.items())
        }


def table_fingerprint(db: Database, prefix: str = "") -> dict[str, list[tuple[object, ...]]]:
    """Every row of the mutable tables (of SKUs starting with ``prefix``), to prove a refused
    write updated nothing."""
    out: dict[str, list[tuple[object, ...]]] = {}
    with db.read() as uow:
        for name in ("order_logs", "lots", "sales", "skus", "receiving_logs"):
            table = metadata.tables[name]
            rows = uow.execute(
                select(table).where(table.c.sku.startswith(prefix, autoescape=True))
            ).all()
            out[name] = sorted(tuple(str(v) for v in r) for r in rows)
    return out


def ledger(db: Database, prefix: str = "") -> tuple[list[LedgerEvent], set[int]]:
    """Every ledger row (of SKUs starting with ``prefix``) and the reversed ids."""
    t = Transaction.__table__
    r = TransactionReversal.__table__
    with db.read() as uow:
        rows = uow.execute(
            select(t.c.transaction_id, t.c.sku, t.c.date, t.c.event, t.c.qty).where(
                t.c.sku.startswith(prefix, autoescape=True)
            )
        ).all()
        reversed_ids = set(uow.execute(select(r.c.transaction_id)).scalars())
    events = [LedgerEvent(int(a), b, c, EventType(d), int(e)) for a, b, c, d, e in rows]
    return events, reversed_ids


def oracle(db: Database, asof: date, skus: list[str], prefix: str = "") -> dict[str, Stock]:
    """What the reference fold says every SKU's stock is."""
    events, reversed_ids = ledger(db, prefix)
    return reference_fold(events, asof, reversed_ids=reversed_ids, skus=skus)


def lots_total(db: Database, sku: str) -> int:
    """What is left in the SKU's lots."""
    lot = Lot.__table__
    with db.read() as uow:
        value = uow.execute(
            select(func.coalesce(func.sum(lot.c.qty_remaining), 0)).where(lot.c.sku == sku)
        ).scalar_one()
    return int(value)


def audit_rows(db: Database) -> list[tuple[str, str | None, str]]:
    """(operation, sku, details) of every audit row, oldest first."""
    with db.read() as uow:
        rows = uow.execute(
            text("SELECT operation, sku, details FROM audit_log ORDER BY audit_id")
        ).all()
    return [(r[0], r[1], r[2]) for r in rows]


def two_lots(db: Database) -> Inventory:
    """An Inventory with the SKU LATTE and two lots of 10 received on day(0): the late one
    first, then the early one."""
    inventory = Inventory(db, user="tester")
    inventory.add_sku("LATTE")
    inventory.receive(
        "D1",
        [ReceiptLine("LATTE", 10, expiry=LATE), ReceiptLine("LATTE", 10, expiry=EARLY)],
        on=day(0),
    )
    return inventory


def lots_of(db: Database, sku: str) -> dict[int, int]:
    """qty_remaining of every lot of ``sku``, empty ones included, by lot id."""
    with db.read() as uow:
        rows = uow.execute(
            text("SELECT lot_id, qty_remaining FROM lots WHERE sku = :s ORDER BY lot_id"),
            {"s": sku},
        ).all()
    return {int(lot): int(qty) for lot, qty in rows}


def draw_rows(db: Database) -> list[tuple[int, int | None, bool, int]]:
    """(lot_id, transaction_id, made by a reversal, qty) of every draw, in id order."""
    with db.read() as uow:
        rows = uow.execute(
            text(
                "SELECT lot_id, transaction_id, reversal_id IS NOT NULL, qty FROM lot_draws "
                "ORDER BY draw_id"
            )
        ).all()
    return [(int(a), None if b is None else int(b), bool(c), int(d)) for a, b, c, d in rows]


def lots_ok(db: Database) -> bool:
    """Whether the lots_consistent invariant passes."""
    return check_all(db, only=["lots_consistent"]).result("lots_consistent").ok


def early_and_late(db: Database) -> tuple[int, int]:
    """The early and the late lot of :func:`two_lots` (the late one was received first)."""
    late, early = sorted(lots_of(db, "LATTE"))
    return early, late
