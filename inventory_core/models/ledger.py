"""The append-only ledger: ``transactions`` and ``transaction_reversals``.

Rows here are never updated or deleted (database triggers abort such statements, see
:mod:`inventory_core.models.triggers`); a correction is a new row.
"""

from __future__ import annotations

import enum
from datetime import date
from typing import Any

from sqlalchemy import (
    CheckConstraint,
    Date,
    ForeignKey,
    Index,
    Integer,
    SmallInteger,
    String,
    exists,
    func,
    select,
    text,
)
from sqlalchemy.orm import Mapped, mapped_column

from inventory_core.models.base import Base, utc_now_iso


class EventType(enum.StrEnum):
    """The kinds of ledger event, with their ordering priority within a day."""

    SNAPSHOT = "SNAPSHOT"
    ORDER = "ORDER"
    RECEIPT = "RECEIPT"
    SALE = "SALE"
    WASTE = "WASTE"
    ADJUST = "ADJUST"
    UNFULFILLED = "UNFULFILLED"

    @property
    def priority(self) -> int:
        """Position within a day: counts first, then orders and receipts, then outflows."""
        return EVENT_PRIORITY[self]


EVENT_PRIORITY: dict[EventType, int] = {
    EventType.SNAPSHOT: 0,
    EventType.ORDER: 1,
    EventType.RECEIPT: 1,
    EventType.SALE: 2,
    EventType.WASTE: 2,
    EventType.ADJUST: 2,
    EventType.UNFULFILLED: 3,
}

_EVENTS_SQL = ", ".join(f"'{e.value}'" for e in EventType)
_PRIORITY_SQL = " ".join(f"WHEN '{e.value}' THEN {p}" for e, p in EVENT_PRIORITY.items())


class Transaction(Base):
    """One ledger event. Stock as of a date is the fold of the unreversed events before it."""

    __tablename__ = "transactions"
    __table_args__ = (
        CheckConstraint(f"event IN ({_EVENTS_SQL})", name="event_known"),
        CheckConstraint(f"priority = CASE event {_PRIORITY_SQL} END", name="priority_matches"),
        CheckConstraint(
            "(event = 'SNAPSHOT' AND qty >= 0) OR (event = 'ADJUST' AND qty <> 0) OR "
            "(event IN ('ORDER', 'RECEIPT', 'SALE', 'WASTE', 'UNFULFILLED') AND qty > 0)",
            name="qty_sign",
        ),
        # The covering index of the as-of stock query: per SKU, in ledger order.
        Index("ix_transactions_sku_date", "sku", "date", "priority", "event", "qty"),
        # Jump straight to a SKU's last count before a date.
        Index(
            "ix_transactions_snapshots",
            "sku",
            "date",
            "qty",
            sqlite_where=text("event = 'SNAPSHOT'"),
            postgresql_where=text("event = 'SNAPSHOT'"),
        ),
        # Orders, receipts and unserved demand, whose totals run over all history.
        # In ledger order (the id is the last tie-break), so on_order's running sum needs
        # no sort.
        Index(
            "ix_transactions_flows",
            "sku",
            "date",
            "priority",
            "transaction_id",
            "event",
            "qty",
            sqlite_where=text("event IN ('ORDER', 'RECEIPT', 'UNFULFILLED')"),
            postgresql_where=text("event IN ('ORDER', 'RECEIPT', 'UNFULFILLED')"),
        ),
        # Partial: most events carry no document, and a NULL entry would cost a page
        # write on every sale for nothing (``document_id = ?`` implies NOT NULL).
        Index(
            "ix_transactions_document_id",
            "document_id",
            sqlite_where=text("document_id IS NOT NULL"),
            postgresql_where=text("document_id IS NOT NULL"),
        ),
        # A SKU's newest transaction in one step: is its stock_positions row still current?
        Index("ix_transactions_sku_transaction_id", "sku", "transaction_id"),
    )

    transaction_id: Mapped[int] = mapped_column(Integer, primary_key=True)
    date: Mapped[date] = mapped_column(Date)
    sku: Mapped[str] = mapped_column(
        String(64), ForeignKey("skus.sku", ondelete="RESTRICT", onupdate="RESTRICT")
    )
    event: Mapped[str] = mapped_column(String(12))
    qty: Mapped[int] = mapped_column(Integer)
    priority: Mapped[int] = mapped_column(SmallInteger)
    document_id: Mapped[str | None] = mapped_column(String(64), default=None)
    note: Mapped[str | None] = mapped_column(String(500), default=None)
    created_at: Mapped[str] = mapped_column(String(32), default=utc_now_iso)


class TransactionReversal(Base):
    """Marks one transaction as reversed; reversed transactions no longer count."""

    __tablename__ = "transaction_reversals"
    __table_args__ = (
        Index("ix_transaction_reversals_transaction_id", "transaction_id", unique=True),
        CheckConstraint("length(reason) > 0", name="reason_present"),
    )

    reversal_id: Mapped[int] = mapped_column(Integer, primary_key=True)
    transaction_id: Mapped[int] = mapped_column(
        Integer,
        ForeignKey("transactions.transaction_id", ondelete="RESTRICT", onupdate="RESTRICT"),
    )
    reason: Mapped[str] = mapped_column(String(500))
    user: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[str] = mapped_column(String(32), default=utc_now_iso)


class StockPosition(Base):
    """A SKU's on_hand after its last event: a cache of the fold that single writes check.

    Not part of the ledger: the library writes it in the same transaction as the events it
    summarises, and trusts it only while ``last_transaction_id`` is still the SKU's newest
    transaction and ``reversal_mark`` the newest reversal (both one index lookup), so a row
    written by anything else, or a reversal anywhere, only sends the next write back to the
    full fold, which rewrites the row. Deleting every row is always safe.
    """

    __tablename__ = "stock_positions"
    __table_args__ = (
        CheckConstraint("tail_priority BETWEEN 0 AND 3", name="tail_priority_known"),
        # Stored in its primary key's B-tree: one page to write per update, not two.
        {"sqlite_with_rowid": False},
    )

    sku: Mapped[str] = mapped_column(
        String(64),
        ForeignKey("skus.sku", ondelete="CASCADE", onupdate="CASCADE"),
        primary_key=True,
    )
    on_hand: Mapped[int] = mapped_column(Integer)
    tail_date: Mapped[date] = mapped_column(Date)
    tail_priority: Mapped[int] = mapped_column(SmallInteger)
    last_transaction_id: Mapped[int] = mapped_column(Integer)
    reversal_mark: Mapped[int] = mapped_column(Integer)


def newest_transaction_id(sku: Any) -> Any:
    """SQL scalar: the SKU's newest transaction id, what ``last_transaction_id`` records."""
    events = Transaction.__table__
    return select(func.max(events.c.transaction_id)).where(events.c.sku == sku).scalar_subquery()


def newest_reversal_id() -> Any:
    """SQL scalar: the newest reversal id (0 without any), what ``reversal_mark`` records."""
    reversals = TransactionReversal.__table__
    return select(func.coalesce(func.max(reversals.c.reversal_id), 0)).scalar_subquery()


def position_is_current(sku: Any) -> Any:
    """SQL truth value: the ``stock_positions`` row of ``sku`` still describes its ledger.

    True while the row's ``last_transaction_id`` is the SKU's newest transaction (one step
    through ``ix_transactions_sku_transaction_id``) and no reversal newer than its
    ``reversal_mark`` reverses an event of the SKU. The reversals are read from the mark
    on (usually none), each looked up by primary key: written as a join, the planner
    would walk the SKU's transactions instead.
    """
    positions = StockPosition.__table__
    events = Transaction.__table__
    reversals = TransactionReversal.__table__
    reversed_sku = select(events.c.sku).where(events.c.transaction_id == reversals.c.transaction_id)
    newer_reversal = exists().where(
        reversals.c.reversal_id > positions.c.reversal_mark,
        reversed_sku.scalar_subquery() == sku,
    )
    return (positions.c.last_transaction_id == newest_transaction_id(sku)) & ~newer_reversal
