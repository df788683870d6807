"""A plain single write on PostgreSQL in one statement: the event, its sales row, the position.

Once :func:`~inventory_core.ledger.events.record` has checked an event that touches no lot
(no expiry, nothing to draw), what is left are three writes whose answers nothing needs
but the new transaction id: the ``transactions`` row, the day's ``sales`` row (a SALE) and
the SKU's :mod:`~inventory_core.ledger.positions` row. On PostgreSQL they go as one
statement, data-modifying CTEs chained on the inserted id, so a ``sell`` makes one round
trip and one plan where it made three.

The position records the new event's own id as ``last_transaction_id`` (the separate
upsert reads the SKU's newest id back, which is the same row: its id comes last from the
sequence, and the SKU's row lock keeps the library's other writers of the SKU out). Were a
newer id there (a row written around the library), the row would read as stale and the
next write would fold, as before. SQLite, in-process, keeps the three statements.
"""

from __future__ import annotations

from typing import Any, NamedTuple, cast

from sqlalchemy import Boolean, Date, Integer, SmallInteger, String, Table, bindparam, select
from sqlalchemy import false as sql_false
from sqlalchemy.dialects.postgresql import insert as pg_insert

from inventory_core.db.prepared import Prepared
from inventory_core.models import Sale, StockPosition, Transaction, newest_reversal_id

_t = cast(Table, Transaction.__table__)
_sales = cast(Table, Sale.__table__)
_p = cast(Table, StockPosition.__table__)

EVENT_COLUMNS = ("date", "sku", "event", "qty", "priority", "document_id", "note", "created_at")


class _Id(NamedTuple):
    transaction_id: int


def _statement(with_sale: bool) -> Prepared[_Id]:
    sku = bindparam("sku", type_=String)
    event = (
        pg_insert(_t)
        .values({name: bindparam(name) for name in EVENT_COLUMNS})
        .returning(_t.c.transaction_id)
        .cte("new_event")
    )
    position = pg_insert(_p).from_select(
        ["sku", "on_hand", "tail_date", "tail_priority", "last_transaction_id", "reversal_mark"],
        select(
            sku,
            bindparam("on_hand", type_=Integer),
            bindparam("tail_date", type_=Date),
            bindparam("tail_priority", type_=SmallInteger),
            event.c.transaction_id,
            newest_reversal_id(),
        ),
    )
    columns = ("on_hand", "tail_date", "tail_priority", "last_transaction_id", "reversal_mark")
    writes = [
        position.on_conflict_do_update(
            index_elements=[_p.c.sku], set_={c: position.excluded[c] for c in columns}
        ).cte("new_position")
    ]
    if with_sale:
        sale = pg_insert(_sales).from_select(
            ["sku", "date", "qty_sold", "promo_flag"],
            select(
                sku,
                bindparam("date", type_=Date),
                bindparam("qty", type_=Integer),
                sql_false().cast(Boolean),
            ).select_from(event),
        )
        writes.append(
            sale.on_conflict_do_update(
                index_elements=[_sales.c.sku, _sales.c.date],
                set_={"qty_sold": _sales.c.qty_sold + sale.excluded.qty_sold},
            ).cte("new_sale")
        )
    return Prepared(select(event.c.transaction_id).add_cte(*writes), _Id)


WRITE_EVENT = _statement(with_sale=False)
"""The event and the SKU's position, on PostgreSQL (``RETURNING`` the new id)."""
WRITE_SALE = _statement(with_sale=True)
"""The SALE, the day's ``sales`` row and the SKU's position, on PostgreSQL."""


def params(row: dict[str, Any], on_hand: int, tail_date: Any, tail_priority: int) -> dict[str, Any]:
    """The parameters of :data:`WRITE_EVENT` / :data:`WRITE_SALE`: the event's row and the
    position after it."""
    return {**row, "on_hand": on_hand, "tail_date": tail_date, "tail_priority": tail_priority}


__all__ = ["EVENT_COLUMNS", "WRITE_EVENT", "WRITE_SALE", "params"]
