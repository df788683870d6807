"""Realistic, deterministic demo and benchmark data, written through the bulk path.

Each SKU's year is planned in plain Python from its own random stream (seeded with the
run's seed and the SKU's index, so the same seed always gives the same rows, whatever the
number of SKUs): an opening count, weekly orders followed by receipts with lots and
expiries, daily sales shaped by the day of the week and by promotions, a little waste,
a few signed adjustments and periodic counts. The plan folds on_hand as it goes, in the
ledger's own order ``(date, priority, insertion)``, so no event can take stock below zero:
a sale asks for at most what is on the shelf, and demand that finds the shelf empty is
booked as UNFULFILLED. The events then go through the bulk path of
:meth:`Inventory.record_many` as :class:`~inventory_core.ledger.inputs.PlannedEvent` rows
(built valid, so without a pydantic model each; every check of the ledger runs on them),
a few sales are reverted through :meth:`Inventory.revert`, and the result passes
``check --full``.
"""

from __future__ import annotations

import math
import random
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, timedelta
from functools import cache
from typing import Any

from sqlalchemy import func, insert, select

from inventory_core.audit import trail
from inventory_core.db.database import Database
from inventory_core.db.uow import UnitOfWork
from inventory_core.errors import GenerateTargetNotEmptyError
from inventory_core.errors.i18n import gettext
from inventory_core.inventory import Inventory
from inventory_core.ledger.bulk import paused_gc
from inventory_core.ledger.fold import apply_on_hand
from inventory_core.ledger.inputs import PlannedEvent
from inventory_core.models import EventType, PromoCalendar, Sku, Transaction

DEFAULT_START = date(2025, 1, 6)
"""A Monday: the first day of generated data unless another is given."""

WEEKDAY_WEIGHT = (0.8, 0.85, 0.9, 1.0, 1.25, 1.6, 0.6)
"""Relative demand Monday..Sunday: busy Friday and Saturday, quiet Sunday."""

SLICE = 50_000
"""Events handed to the bulk path per call: bounds memory and paces the progress bar."""

Progress = Callable[[int, int], None]
"""Called with ``(events written, events planned)`` after each slice."""


@dataclass(frozen=True, slots=True)
class GenerateResult:
    """What :func:`generate` wrote and how fast."""

    skus: int
    events: int
    promotions: int
    reversals: int
    seconds: float
    counts: dict[str, int] = field(default_factory=dict)

    @property
    def events_per_second(self) -> float:
        """Ledger events written per second of the whole run (SKUs and reversals included)."""
        return self.events / self.seconds if self.seconds > 0 else 0.0


@dataclass(frozen=True, slots=True)
class _Master:
    """One SKU's generated master data and promotions (day offsets, inclusive)."""

    index: int
    sku: str
    pack_size: int
    lead_time_days: int
    unit: int
    promos: tuple[tuple[int, int], ...]


def sku_code(index: int) -> str:
    """The generated code of the ``index``-th SKU (zero-padded so codes sort like indexes)."""
    return f"GEN-{index:07d}"


def _budgets(skus: int, events: int) -> list[int]:
    share, extra = divmod(events, skus)
    return [share + (1 if i < extra else 0) for i in range(skus)]


def _master(index: int, days: int, seed: int) -> _Master:
    """Master data from a stream of its own, so it can be written before any event."""
    rng = random.Random(f"{seed}:{index}:master")
    promos = tuple(
        (first, min(first + 6, days - 1))
        for first in sorted(rng.sample(range(days), k=min(days, max(1, days // 90))))
        if rng.random() < 0.3
    )
    return _Master(
        index=index,
        sku=sku_code(index),
        pack_size=rng.choice((1, 6, 12, 24)),
        lead_time_days=rng.randint(1, 4),
        unit=rng.randint(1, 6),
        promos=promos,
    )


@cache
def _weekday_weights(start: date, days: int) -> tuple[float, ...]:
    """Each day's demand weight by weekday: the same for every SKU, so computed once."""
    return tuple(WEEKDAY_WEIGHT[(start + timedelta(days=d)).weekday()] for d in range(days))


def _plan_events(
    master: _Master, budget: int, days: int, start: date, seed: int
) -> list[PlannedEvent]:
    """The SKU's events in ledger order, folding on_hand so that it never goes negative."""
    rng = random.Random(f"{seed}:{master.index}")
    sku, pack, lead, unit = master.sku, master.pack_size, master.lead_time_days, master.unit
    promo_days = {d for first, last in master.promos for d in range(first, last + 1)}
    rest = budget - 1
    receipts = min(max(days // 7, 1), rest // 10)
    counts = min(rest // 60, max(days // 30 - 1, 0))
    waste = max(rest // 150, 1 if rest >= 40 else 0)
    adjust = max(rest // 200, 1 if rest >= 60 else 0)
    sales = rest - 2 * receipts - counts - waste - adjust
    period = days / receipts if receipts else float(days)
    per_cycle = math.ceil(unit * 1.15 * max(sales, 1) / max(receipts, 1))
    order_qty = max(pack, math.ceil(per_cycle / pack) * pack)
    weights = list(_weekday_weights(start, days))
    for d in promo_days:
        weights[d] *= 2.0
    # (day, priority, order of creation, kind, fixed qty or 0, expiry day or -1)
    todo: list[tuple[int, int, int, str, int, int]] = [(0, 0, 0, "open", order_qty, -1)]
    for k in range(counts):
        todo.append((1 + (k + 1) * (days - 1) // (counts + 1), 0, len(todo), "count", 0, -1))
    for k in range(receipts):
        placed = int(k * period)
        arrives = min(placed + lead, days - 1)
        todo.append((placed, 1, len(todo), "order", order_qty, -1))
        todo.append((arrives, 1, len(todo), "receipt", order_qty, arrives + rng.randint(20, 400)))
    for day in rng.choices(range(days), weights=weights, k=sales):
        todo.append((day, 2, len(todo), "sale", 0, -1))
    for _ in range(waste):
        todo.append((rng.randrange(days), 2, len(todo), "waste", 0, -1))
    for _ in range(adjust):
        todo.append((rng.randrange(days), 2, len(todo), "adjust", 0, -1))
    todo.sort()
    events: list[PlannedEvent] = []
    on_hand = 0
    for day, _, _, kind, qty, expiry in todo:
        when = start + timedelta(days=day)
        event, amount, extra = _decide(rng, kind, qty, on_hand, unit, day in promo_days)
        if kind == "receipt":
            extra = {
                "document_id": f"GEN{seed}-{master.index}-{len(events)}",
                "expiry": start + timedelta(days=expiry),
            }
        on_hand = apply_on_hand(on_hand, event, amount)
        events.append(
            PlannedEvent(
                sku,
                event,
                amount,
                when,
                document_id=extra.get("document_id"),
                note=extra.get("note"),
                expiry=extra.get("expiry"),
            )
        )
    return events


def _decide(
    rng: random.Random, kind: str, qty: int, on_hand: int, unit: int, promo: bool
) -> tuple[EventType, int, dict[str, Any]]:
    """The event a planned slot becomes, given what is on the shelf at that moment."""
    if kind == "open":
        return EventType.SNAPSHOT, qty, {}
    if kind == "count":
        return EventType.SNAPSHOT, max(0, on_hand + rng.randint(-2, 1)), {}
    if kind == "order":
        return EventType.ORDER, qty, {}
    if kind == "receipt":
        return EventType.RECEIPT, qty, {}
    if kind == "sale":
        demand = max(1, round(unit * rng.uniform(0.5, 1.5) * (1.5 if promo else 1.0)))
        if on_hand == 0:
            return EventType.UNFULFILLED, demand, {}
        return EventType.SALE, min(demand, on_hand), {}
    if kind == "waste":
        if on_hand == 0:
            return EventType.ADJUST, 1, {"note": "found on the shelf"}
        return EventType.WASTE, min(rng.randint(1, 3), on_hand), {}
    delta = rng.choice((-1, 1)) * rng.randint(1, 3)
    return EventType.ADJUST, delta if on_hand + delta >= 0 else -delta, {}


def _write_master(
    db: Database, plans: list[_Master], start: date, user: str, *, into_existing: bool
) -> int:
    """Insert the SKUs and their promotions in one unit of work with one audit row.

    Unless ``into_existing``, the same unit first checks that the ledger is empty, so no
    other writer can slip real data in between the check and the demo data.
    """
    sku_rows = [
        {
            "sku": p.sku,
            "description": f"Generated article {p.sku}",
            "pack_size": p.pack_size,
            "moq": p.pack_size,
            "lead_time_days": p.lead_time_days,
        }
        for p in plans
    ]
    promo_rows = [
        {
            "sku": p.sku,
            "start_date": start + timedelta(days=first),
            "end_date": start + timedelta(days=last),
            "description": "generated promotion",
        }
        for p in plans
        for first, last in p.promos
    ]

    def unit(uow: UnitOfWork) -> None:
        if not into_existing:
            _require_empty_ledger(uow)
        uow.execute(insert(Sku), sku_rows)
        if promo_rows:
            uow.execute(insert(PromoCalendar), promo_rows)
        details = {"skus": len(sku_rows), "promotions": len(promo_rows), "source": "generate"}
        trail.append(uow, trail.Operation.BULK_IMPORT, user=user, details=details)

    db.run(unit, operation="generate_master")
    return len(promo_rows)


def _require_empty_ledger(uow: UnitOfWork) -> None:
    skus = uow.scalar(select(func.count()).select_from(Sku))
    events = uow.scalar(select(func.count()).select_from(Transaction))
    if skus or events:
        raise GenerateTargetNotEmptyError(skus=skus, events=events, field="into_existing")


def generate(
    db: Database,
    *,
    skus: int,
    events: int,
    days: int = 365,
    seed: int = 0,
    start: date = DEFAULT_START,
    progress: Progress | None = None,
    user: str = "generate",
    into_existing: bool = False,
) -> GenerateResult:
    """Fill an empty, migrated database with ``skus`` SKUs and ``events`` ledger events.

    Demo data is never mixed into a real ledger by accident: a database that already holds
    SKUs or events is refused unless ``into_existing`` says so.

    Args:
        db: the database to write.
        skus: how many SKUs.
        events: how many ledger events in total (spread evenly over the SKUs).
        days: how many days of history, from ``start``.
        seed: the random seed; the same seed and sizes give the same rows.
        start: the first day.
        progress: called with ``(events written, events)`` as the work advances.
        user: the user named by the audit rows.
        into_existing: write beside the SKUs and events already there (their codes must
            not clash with the ``GEN-*`` ones).

    Returns:
        What was written, with the elapsed time.

    Raises:
        ValueError: a size below 1.
        GenerateTargetNotEmptyError: the database holds SKUs or events and not
            ``into_existing``; nothing was written.
        DuplicateError: with ``into_existing``, a ``GEN-*`` code is already taken; nothing
            was written.
    """
    if skus < 1 or events < skus or days < 1:
        raise ValueError(gettext("need skus >= 1, events >= skus and days >= 1"))
    with paused_gc():
        return _generate(db, skus, events, days, seed, start, progress, user, into_existing)


def _generate(
    db: Database,
    skus: int,
    events: int,
    days: int,
    seed: int,
    start: date,
    progress: Progress | None,
    user: str,
    into_existing: bool,
) -> GenerateResult:
    started = time.perf_counter()
    inv = Inventory(db, user=user)
    masters = [_master(index, days, seed) for index in range(skus)]
    promotions = _write_master(db, masters, start, user, into_existing=into_existing)
    counts: Counter[str] = Counter()
    written = 0
    batch: list[PlannedEvent] = []
    for master, budget in zip(masters, _budgets(skus, events), strict=True):
        batch.extend(_plan_events(master, budget, days, start, seed))
        if len(batch) >= SLICE:
            counts.update(inv._record_batch(batch).counts)
            written += len(batch)
            batch = []
            if progress is not None:
                progress(written, events)
    if batch:
        counts.update(inv._record_batch(batch).counts)
        written += len(batch)
    reversals = _revert_some(inv, skus, seed)
    if progress is not None:
        progress(written, events)
    return GenerateResult(
        skus=skus,
        events=written,
        promotions=promotions,
        reversals=reversals,
        seconds=time.perf_counter() - started,
        counts=dict(sorted(counts.items())),
    )


def _revert_some(inv: Inventory, skus: int, seed: int) -> int:
    """Revert the newest sale of a few SKUs: the kind of correction shops make.

    Reverting a sale only raises on_hand, so it can never break the no-negative rule.
    """
    rng = random.Random(f"{seed}:reversals")
    done = 0
    for index in sorted(rng.sample(range(skus), k=min(skus, 5))):
        entries = inv.history(sku_code(index), limit=20)
        sales = [e for e in entries if e.event == EventType.SALE and not e.reversed]
        if sales:
            inv.revert(sales[-1].transaction_id, reason="generated: sale booked twice")
            done += 1
    return done


__all__ = ["DEFAULT_START", "SLICE", "GenerateResult", "generate", "sku_code"]
