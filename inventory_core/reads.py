"""The read side of :class:`~inventory_core.inventory.Inventory`: stock, SKUs, lots, history,
the order pipeline and the inventory position.

:class:`InventoryReads` holds the methods that write nothing; ``Inventory`` inherits them,
so they stay its public methods while ``inventory.py`` keeps the writes. Each method
validates its arguments like the writes do, then runs one statement (or one read unit of
work); the all-SKU forms are one set-based statement, never a loop over SKUs.
"""

from __future__ import annotations

from datetime import date, timedelta

from inventory_core.db.database import Database
from inventory_core.errors import NotFoundError, ValidationError
from inventory_core.errors.i18n import gettext as _
from inventory_core.ledger import lots, lots_asof, master, pipeline, proposals, skus
from inventory_core.ledger import stock as stock_sql
from inventory_core.ledger import stock_one as stock_one_sql
from inventory_core.ledger.arguments import validate_code, validate_date, validate_limit
from inventory_core.ledger.readmodels import (
    HistoryEntry,
    LotInfo,
    Pipeline,
    Position,
    Proposal,
    SkuInfo,
    SkuPage,
    Stock,
)


class InventoryReads:
    """The reads of one database (mixed into :class:`~inventory_core.inventory.Inventory`)."""

    db: Database

    def get_sku(self, sku: str) -> SkuInfo:
        """The SKU's master data.

        Raises:
            ValidationError: ``sku`` is not a valid code.
            NotFoundError: no such SKU.
        """
        return master.get_sku(self.db, validate_code(sku))

    def list_skus(
        self,
        *,
        active: bool | None = None,
        category: str | None = None,
        search: str | None = None,
        after: str | None = None,
        limit: int = 100,
    ) -> SkuPage:
        """One page of SKUs in code order: those matching every filter given.

        ``search`` is a substring of the code or description (case ignored); the next page
        starts ``after`` the returned ``next_after``. ``limit`` is 1 to 10,000.

        Raises:
            ValidationError: a bad filter, cursor or limit.
        """
        query = skus.validate_listing(active, category, search, after, limit)
        with self.db.read() as uow:
            return skus.list_skus(uow, **query)

    def stock(self, sku: str, asof: date | None = None) -> Stock:
        """Stock of one SKU from its events strictly before ``asof`` (default: tomorrow,
        so everything dated today counts).

        Raises:
            ValidationError: a bad code or date.
            NotFoundError: no such SKU.
        """
        sku = validate_code(sku)
        when = self._asof(asof)
        found = stock_one_sql.stock_one(self.db, sku, when)
        if found is None:
            raise NotFoundError(entity="SKU", key=sku)
        return found

    def stock_all(self, asof: date | None = None) -> dict[str, Stock]:
        """Stock of every SKU as of ``asof``: one set-based statement."""
        when = self._asof(asof)
        with self.db.read() as uow:
            return stock_sql.stock_all(uow, when)

    def lots(self, sku: str, asof: date | None = None) -> list[LotInfo]:
        """The SKU's non-empty lots, first expiry first (lots without expiry last); with
        ``asof``, as they stood then (events strictly before it), replayed from the draws.

        Raises:
            ValidationError: ``sku`` is not a valid code, or a bad date.
            NotFoundError: no such SKU.
        """
        code = validate_code(sku)
        if asof is None:
            return lots.list_lots(self.db, code)
        when = validate_date(asof, "asof")
        with self.db.read() as uow:
            master.get_sku(uow, code)
            return lots_asof.lots_asof(uow, code, when)

    def expiring(self, within_days: int, asof: date | None = None) -> list[LotInfo]:
        """Every SKU's lots holding units as of ``asof`` (default: tomorrow) that expire on
        or before ``asof + within_days`` (expired ones included), earliest expiry first.

        Raises:
            ValidationError: ``within_days`` is not an int from 0 to 36,500, or a bad date.
        """
        days = lots_asof.validate_within_days(within_days)
        when = self._asof(asof)
        with self.db.read() as uow:
            return lots_asof.expiring(uow, days, when)

    def history(
        self,
        sku: str,
        start: date | None = None,
        end: date | None = None,
        limit: int | None = None,
    ) -> list[HistoryEntry]:
        """The SKU's events from ``start`` to ``end`` (inclusive) in ledger order, reversed
        ones flagged; with ``limit`` only the newest ``limit``.

        Raises:
            ValidationError: a bad date or limit.
            NotFoundError: no such SKU.
        """
        sku = validate_code(sku)
        start = None if start is None else validate_date(start, "start")
        end = None if end is None else validate_date(end, "end")
        limit = None if limit is None else validate_limit(limit)
        return master.history(self.db, sku, start, end, limit)

    # -- the order pipeline and the inventory position ------------------------------------

    def on_order_by_date(self, sku: str, asof: date | None = None) -> Pipeline:
        """What is still open on the SKU's orders as of ``asof``, by expected delivery date
        (orders without a date in ``undated``).

        Raises:
            ValidationError: a bad code or date.
            NotFoundError: no such SKU.
        """
        code = validate_code(sku)
        when = self._asof(asof)
        with self.db.read() as uow:
            master.get_sku(uow, code)
            return pipeline.pipelines(uow, when, code, [code])[code]

    def on_order_by_date_all(self, asof: date | None = None) -> dict[str, Pipeline]:
        """:meth:`on_order_by_date` of every SKU, from one statement."""
        when = self._asof(asof)
        with self.db.read() as uow:
            return pipeline.pipelines(uow, when, None, pipeline.all_codes(uow))

    def position(
        self, sku: str, asof: date | None = None, *, horizon: date | None = None
    ) -> Position:
        """The SKU's inventory position as of ``asof``: on_hand + open order quantity
        expected by ``horizon`` - unfulfilled. Without ``horizon``, the SKU's lead time
        from ``asof`` (``asof + lead_time_days``).

        Raises:
            ValidationError: a bad code or date, or ``horizon`` before ``asof``.
            NotFoundError: no such SKU.
        """
        code = validate_code(sku)
        when = self._asof(asof)
        until = self._horizon(horizon, when)
        with self.db.read() as uow:
            found = pipeline.positions(uow, when, until, code)
        if code not in found:
            raise NotFoundError(entity="SKU", key=code)
        return found[code]

    def position_all(
        self, asof: date | None = None, *, horizon: date | None = None
    ) -> dict[str, Position]:
        """:meth:`position` of every SKU, from one statement."""
        when = self._asof(asof)
        until = self._horizon(horizon, when)
        with self.db.read() as uow:
            return pipeline.positions(uow, when, until, None)

    def reorder_proposals(self, asof: date | None = None) -> list[Proposal]:
        """For every active SKU whose position over its lead time is at or below its
        reorder point: the quantity that brings it to ``max_stock`` (or reorder point +
        safety stock), rounded up to the pack size, at least the MOQ. One statement;
        read-only (:meth:`~inventory_core.inventory.Inventory.order_many` orders them).

        Raises:
            ValidationError: a bad date.
        """
        when = self._asof(asof)
        with self.db.read() as uow:
            return proposals.proposals(uow, when)

    # -- small validators ---------------------------------------------------------------

    def _asof(self, asof: date | None) -> date:
        if asof is None:
            return date.today() + timedelta(days=1)
        return validate_date(asof, "asof")

    def _horizon(self, horizon: date | None, asof: date) -> date | None:
        if horizon is None:
            return None
        until = validate_date(horizon, "horizon")
        if until < asof:
            raise ValidationError(_("must not be before asof"), field="horizon")
        return until
