"""A sell on PostgreSQL, counted on the wire: its round trips, and the one statement that
writes the event, the day's sales row and the SKU's position (ledger/plain_write.py).

Every message the connection sends is captured with libpq's protocol trace, so the
prepared statements that bypass SQLAlchemy's events are counted too. A round trip is a
run of client messages followed by the server's answer.
"""

from __future__ import annotations

import re
import time
from collections.abc import Iterator
from datetime import date
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import create_engine, event, text
from sqlalchemy.pool import NullPool

from inventory_core import Database, Inventory, ReceiptLine
from inventory_core.audit import verify
from inventory_core.db import engine as engine_module
from inventory_core.errors import InsufficientStockError, InventoryError
from inventory_core.invariants import check_all
from tests.db_support import test_settings

pytestmark = pytest.mark.postgres

D1, D2, D3 = date(2026, 5, 1), date(2026, 5, 2), date(2026, 5, 3)
_MESSAGE = re.compile(r"^\S+ \S+\t([FB])\t\d+\t(\w+)")


@pytest.fixture
def store(pg_url: str) -> Iterator[Database]:
    """A migrated PostgreSQL database of its own."""
    db = Database.open(pg_url, settings=test_settings())
    db.upgrade()
    yield db
    db.close()


def _round_trips(path: Path) -> list[list[str]]:
    """The client's messages of each round trip in a libpq trace."""
    trips: list[list[str]] = []
    previous = "B"
    for line in path.read_text(errors="replace").splitlines():
        found = _MESSAGE.match(line)
        if found is None:
            continue
        side, kind = found[1], found[2]
        if side == "F":
            if previous == "B":
                trips.append([])
            trips[-1].append(kind)
        previous = side
    return trips


def _traced(db: Database, path: Path) -> list[Any]:
    handles: list[Any] = []

    @event.listens_for(db.engine, "connect")
    def _trace(dbapi_conn: Any, _record: Any) -> None:
        handle = path.open("w")
        handles.append(handle)
        dbapi_conn.pgconn.trace(handle.fileno())

    db.engine.dispose()
    return handles


def _stocked(db: Database, sku: str = "BIRRA") -> Inventory:
    inv = Inventory(db, user="till")
    inv.add_sku(sku, "Birra")
    inv.receive(f"DDT-{sku}", [ReceiptLine(sku, 100)], on=D1)
    return inv


def _sales(db: Database, sku: str, day: date) -> int:
    with db.engine.connect() as conn:
        found = conn.execute(
            text("SELECT qty_sold FROM sales WHERE sku = :sku AND date = :day"),
            {"sku": sku, "day": day},
        ).scalar()
    return int(found or 0)


def test_a_sell_makes_seven_round_trips_with_one_write_statement(
    store: Database, tmp_path: Path
) -> None:
    """A sell right after another is 7 round trips (BEGIN, SKU lock, state, one write, chain
    head, audit row, COMMIT; a hand-written transaction makes 9), and its data is right."""
    inv = _stocked(store)
    trace = tmp_path / "sell.trace"
    handles = _traced(store, trace)
    for _ in range(8):  # past psycopg's prepare threshold: the steady state
        inv.sell("BIRRA", 1, on=D2)
    for handle in handles:
        handle.flush()
    mark = len(_round_trips(trace))
    inv.sell("BIRRA", 2, on=D2)
    for handle in handles:
        handle.flush()
    trips = _round_trips(trace)[mark:]
    assert len(trips) == 7, trips
    assert _sales(store, "BIRRA", D2) == 10
    assert inv.stock("BIRRA").on_hand == 90
    assert check_all(store, full=True).status.name == "HEALTHY"
    assert verify(store).ok


def test_a_backdated_sale_takes_the_full_check_and_keeps_the_position_current(
    store: Database,
) -> None:
    """A sale dated before the SKU's last event folds the ledger, refuses what would go
    negative later, and leaves positions and sales matching the ledger."""
    inv = _stocked(store)
    inv.sell("BIRRA", 60, on=D3)
    inv.sell("BIRRA", 30, on=D2)
    with pytest.raises(InsufficientStockError):
        inv.sell("BIRRA", 11, on=D2)  # 100 - 30 - 11 = 59 < 60 sold on D3
    assert inv.stock("BIRRA").on_hand == 10
    assert (_sales(store, "BIRRA", D2), _sales(store, "BIRRA", D3)) == (30, 60)
    assert check_all(store, full=True).status.name == "HEALTHY"


def test_a_row_written_around_the_library_makes_the_next_sell_fold(store: Database) -> None:
    """An event inserted by plain SQL after a sell (a newer id than the position records)
    is seen by the next sell, which refuses to sell what that event took away."""
    inv = _stocked(store)
    inv.sell("BIRRA", 10, on=D2)
    with store.engine.begin() as conn:
        conn.execute(
            text(
                "INSERT INTO transactions (date, sku, event, qty, priority, created_at)"
                " VALUES (:day, 'BIRRA', 'WASTE', 85, 2, '2026-05-02T00:00:00+00:00')"
            ),
            {"day": D2},
        )
    with pytest.raises(InsufficientStockError):
        inv.sell("BIRRA", 6, on=D3)
    inv.sell("BIRRA", 5, on=D3)
    assert inv.stock("BIRRA").on_hand == 0
    report = check_all(store, only=["stock_positions_match_ledger", "stock_never_negative"])
    assert report.result("stock_positions_match_ledger").ok
    assert report.result("stock_never_negative").ok
    with store.engine.connect() as conn:
        position = conn.execute(
            text("SELECT on_hand FROM stock_positions WHERE sku = 'BIRRA'")
        ).scalar()
    assert position == 0


def test_a_sale_from_lots_still_draws_them(store: Database) -> None:
    """A SKU with lots keeps the general path: the sale draws its units from the lots."""
    inv = Inventory(store, user="till")
    inv.add_sku("LATTE", "Latte")
    inv.receive("DDT-L", [ReceiptLine("LATTE", 10, expiry=date(2026, 6, 1))], on=D1)
    inv.sell("LATTE", 4, on=D2)
    assert [lot.qty_remaining for lot in inv.lots("LATTE")] == [6]
    assert _sales(store, "LATTE", D2) == 4
    assert check_all(store, full=True).status.name == "HEALTHY"


def _end_sessions(db: Database) -> int:
    """Terminate every other session on the database (a server restart, as its pool sees it)."""
    outside = create_engine(db.url, poolclass=NullPool)
    try:
        with outside.connect() as conn:
            ended = conn.execute(
                text(
                    "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity"
                    " WHERE datname = current_database() AND pid <> pg_backend_pid()"
                )
            ).scalar()
    finally:
        outside.dispose()
    return int(ended or 0)


def test_a_connection_dropped_while_idle_is_replaced_before_the_write(
    store: Database, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A pooled connection idle past the ping window whose server session was ended is
    pinged at checkout and replaced: the next sell succeeds, once."""
    monkeypatch.setattr(engine_module, "PING_AFTER_IDLE_S", 0.2)
    inv = _stocked(store)
    inv.sell("BIRRA", 1, on=D2)
    with store.engine.connect() as spare:  # a second pooled connection, ended too
        spare.execute(text("SELECT 1"))
    assert _end_sessions(store) >= 1
    time.sleep(0.4)
    inv.sell("BIRRA", 1, on=D2)
    assert inv.stock("BIRRA").on_hand == 98
    assert _sales(store, "BIRRA", D2) == 2


def test_a_connection_dropped_inside_the_window_fails_the_unit_and_writes_nothing(
    store: Database,
) -> None:
    """Within the window a dropped connection is not pinged: the write fails with a typed
    error, writes nothing, and the next write gets a fresh connection."""
    inv = _stocked(store)
    inv.sell("BIRRA", 1, on=D2)
    assert _end_sessions(store) >= 1
    with pytest.raises(InventoryError) as caught:
        inv.sell("BIRRA", 1, on=D2)
    assert caught.value.code.startswith("DB_")
    inv.sell("BIRRA", 1, on=D2)
    assert inv.stock("BIRRA").on_hand == 98
    assert _sales(store, "BIRRA", D2) == 2
