"""Fuzz of the public API: every Inventory method, weird values of every type, both backends.

Each example writes a few rows under its own SKU prefix, then makes a random sequence of
calls whose arguments come from :mod:`tests.fuzz_support` (well-formed values, values the
library must refuse, and values of every other type). Every call must either succeed or
raise an ``InventoryError``; a call that raises must leave every table as it was (row
counts of all tables, the example's rows of the mutable ones, the audit head); a value
that must be refused must raise ``ValidationError`` and never be written.
"""

from __future__ import annotations

import itertools
import unicodedata
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import select

from inventory_core import Database, Inventory, ReceiptLine, audit
from inventory_core.errors import InventoryError, ValidationError
from inventory_core.ledger.rules import (
    DESCRIPTION_LENGTH,
    MAX_CHUNK,
    MAX_ID,
    MAX_QTY,
    NOTE_LENGTH,
)
from inventory_core.models import EventType, Lot, OrderLog, Transaction
from tests.fuzz_support import (
    ATTRIBUTES,
    BOOLS,
    CATEGORIES,
    EANS,
    OPTIONAL_BOOLS,
    USERS,
    WEIRD,
    Arg,
    Kind,
    Ref,
    codes,
    dates,
    events,
    ids,
    ints,
    judged,
    optional_codes,
    qty_for,
    receipt_lines,
    resolve,
    texts,
)
from tests.ledger_support import row_counts, table_fingerprint

_prefixes = itertools.count()
STATS: Counter[str] = Counter()
CHUNKS = ints(1, MAX_CHUNK)


@dataclass(frozen=True)
class Signature:
    """The parameters of one public call, with the kind of value each takes."""

    required: dict[str, Kind]
    optional: dict[str, Kind] = field(default_factory=dict)

    @property
    def kinds(self) -> dict[str, Kind]:
        """Every parameter."""
        return {**self.required, **self.optional}

    def calls(self) -> st.SearchStrategy[dict[str, Arg]]:
        """Keyword arguments: all well-formed, or well-formed but for one bad value.

        Half the calls are clean, so that most reach the database; the others differ from a
        clean call in exactly one argument, so that each bad value meets real rows.
        """

        @st.composite
        def draw(draw: st.DrawFn) -> dict[str, Arg]:
            names = list(self.required)
            names += [
                n for n, k in self.optional.items() if not k.good.is_empty and draw(st.booleans())
            ]
            target = None
            if draw(st.booleans()):
                target = draw(st.sampled_from(list(self.kinds)))
                names += [] if target in names else [target]
            return {
                n: draw(self.kinds[n].bad if n == target else self.kinds[n].good) for n in names
            }

        return draw()


def _event_call(kind: EventType) -> Signature:
    return Signature(
        {"sku": codes(), "qty": qty_for(kind), "on": dates()}, {"note": texts(NOTE_LENGTH)}
    )


SKU_FIELDS = {
    "description": texts(DESCRIPTION_LENGTH, optional=False),
    "ean": EANS,
    "pack_size": ints(1, MAX_QTY),
    "moq": ints(0, MAX_QTY),
    "lead_time_days": ints(0, 3650),
    "active": BOOLS,
    "category": CATEGORIES,
    "shelf_life_days": ints(1, 36_500, optional=True),
    "reorder_point": ints(0, MAX_QTY, optional=True),
    "safety_stock": ints(0, MAX_QTY, optional=True),
    "max_stock": ints(0, MAX_QTY, optional=True),
    "attributes": ATTRIBUTES,
}
COUNTS = Kind(
    st.integers(0, 3).map(lambda i: Arg({Ref("sku", i): 5}, True)),
    Arg({Ref("sku", 0): 5}, True),
    (
        *(Arg(v, False) for v in ({}, {"A": -1}, {"A": 1.5}, {"\u200bA": 1}, [("A", 1)])),
        *judged(WEIRD, lambda v: None if isinstance(v, dict) and v else False),
    ),
)
ORDER_ITEMS = Kind(
    st.integers(0, 3).map(lambda i: Arg([(Ref("sku", i), 6)], True)),
    Arg([(Ref("sku", 0), 6)], True),
    (
        *(Arg(v, False) for v in ([], [("A", 0)], [("A", 1.5)], [("A",)], "A", {"A": 1})),
        *judged(WEIRD, lambda v: None if isinstance(v, list | tuple) and v else False),
    ),
)
UNKNOWN_FIELD = Kind(st.nothing(), Arg("red", False), (Arg("red", False),))

METHODS: dict[str, Signature] = {
    "add_sku": Signature({"sku": codes()}, SKU_FIELDS),
    "update_sku": Signature({"sku": codes()}, {**SKU_FIELDS, "colour": UNKNOWN_FIELD}),
    "get_sku": Signature({"sku": codes()}),
    "list_skus": Signature(
        {},
        {
            "active": OPTIONAL_BOOLS,
            "category": CATEGORIES,
            "search": texts(200, optional=True, blank_ok=False),
            "after": optional_codes(),
            "limit": ints(1, 10_000),
        },
    ),
    "snapshot": _event_call(EventType.SNAPSHOT),
    "order": Signature(
        {"sku": codes(), "qty": qty_for(EventType.ORDER), "on": dates()},
        {"expected": dates(optional=True), "note": texts(NOTE_LENGTH)},
    ),
    "receive": Signature(
        {"document_id": codes("document"), "lines": receipt_lines(), "on": dates()}
    ),
    "sell": _event_call(EventType.SALE),
    "waste": Signature(
        {"sku": codes(), "qty": qty_for(EventType.WASTE), "on": dates()},
        {"lot_id": ids("lot", optional=True), "note": texts(NOTE_LENGTH)},
    ),
    "adjust": _event_call(EventType.ADJUST),
    "unfulfilled": _event_call(EventType.UNFULFILLED),
    "revert": Signature(
        {
            "transaction_id": ids("tid"),
            "reason": texts(NOTE_LENGTH, optional=False, blank_ok=False),
        }
    ),
    "close_order": Signature(
        {"order_id": ids("order"), "reason": texts(NOTE_LENGTH, optional=False, blank_ok=False)},
        {"on": dates(optional=True)},
    ),
    "reopen_order": Signature(
        {"order_id": ids("order"), "reason": texts(NOTE_LENGTH, optional=False, blank_ok=False)}
    ),
    "on_order_by_date": Signature({"sku": codes()}, {"asof": dates(optional=True)}),
    "on_order_by_date_all": Signature({}, {"asof": dates(optional=True)}),
    "position": Signature(
        {"sku": codes()}, {"asof": dates(optional=True), "horizon": dates(optional=True)}
    ),
    "position_all": Signature({}, {"asof": dates(optional=True), "horizon": dates(optional=True)}),
    "count_end_of_day": Signature(
        {"sku": codes(), "counted": ints(0, MAX_QTY), "on": dates()},
        {"sold": ints(0, MAX_QTY, optional=True), "note": texts(NOTE_LENGTH)},
    ),
    "count_end_of_day_many": Signature({"counts": COUNTS, "on": dates()}),
    "reorder_proposals": Signature({}, {"asof": dates(optional=True)}),
    "order_many": Signature({"items": ORDER_ITEMS, "on": dates()}),
    "record_many": Signature({"items": events()}),
    "stock": Signature({"sku": codes()}, {"asof": dates(optional=True)}),
    "stock_all": Signature({}, {"asof": dates(optional=True)}),
    "lots": Signature({"sku": codes()}, {"asof": dates(optional=True)}),
    "expiring": Signature({"within_days": ints(0, 36_500)}, {"asof": dates(optional=True)}),
    "history": Signature(
        {"sku": codes()},
        {
            "start": dates(optional=True),
            "end": dates(optional=True),
            "limit": ints(0, MAX_ID, optional=True),
        },
    ),
}
"""Every public method of Inventory (a test checks none is missing)."""

THE_DB = Kind(st.just(Arg(Ref("db"), True)), Arg(Ref("db"), True), judged(WEIRD, lambda v: False))
SETUP_CALLS: dict[str, Signature] = {
    "Inventory": Signature({"db": THE_DB}, {"user": USERS, "chunk_size": CHUNKS}),
    "chunk_size=": Signature({"value": CHUNKS}),
    "audit.run(user)": Signature({"user": USERS}),
}
"""The constructor, the ``chunk_size`` setter and a write as the user of an audit run."""
SIGNATURES = {**METHODS, **SETUP_CALLS}

CALLS = st.one_of(
    *(st.tuples(st.just(name), signature.calls()) for name, signature in SIGNATURES.items())
)


@dataclass
class Example:
    """One example's rows: its SKU prefix, its Inventory, and how to resolve references."""

    db: Database
    prefix: str
    inv: Inventory
    skus: list[str] = field(default_factory=list)
    documents: list[str] = field(default_factory=list)

    def lookup(self, ref: Ref) -> Any:
        """The value a :class:`Ref` stands for in this example."""
        if ref.kind == "db":
            return self.db
        if ref.kind in ("sku", "sku_nfd"):
            code = self.skus[ref.index % len(self.skus)]
            return unicodedata.normalize("NFD", code) if ref.kind == "sku_nfd" else code
        if ref.kind == "new_sku":
            return self.prefix + ref.text
        if ref.kind == "new_document":
            return self.prefix + "D" + ref.text
        if ref.kind == "doc_used":
            return self.documents[ref.index % len(self.documents)]
        column = {
            "tid": Transaction.transaction_id,
            "order": OrderLog.order_id,
            "lot": Lot.lot_id,
        }[ref.kind]
        table = column.class_
        with self.db.read() as uow:
            found = sorted(
                uow.execute(
                    select(column).where(table.sku.startswith(self.prefix, autoescape=True))
                ).scalars()
            )
        return int(found[ref.index % len(found)]) if found else 1

    def state(self) -> tuple[Any, ...]:
        """What a refused call must leave unchanged."""
        head = audit.head(self.db)
        return row_counts(self.db), table_fingerprint(self.db, self.prefix), head


def start(db: Database) -> Example:
    """A fresh prefix with three SKUs, counts, an order and a received document with lots."""
    prefix = f"F{next(_prefixes)}-"
    inv = Inventory(db, user="fuzzer")
    example = Example(db, prefix, inv, skus=[prefix + "A", prefix + "é", prefix + "B"])
    for code in example.skus:
        inv.add_sku(code)
    inv.snapshot(example.skus[0], 100, on=date(2026, 1, 1))
    inv.snapshot(example.skus[1], 50, on=date(2026, 1, 1))
    order_id = inv.order(example.skus[0], 40, on=date(2026, 1, 2), expected=date(2026, 1, 5))
    document = prefix + "D0"
    lines = [
        ReceiptLine(example.skus[0], 10, order_id=order_id, expiry=date(2026, 6, 1)),
        ReceiptLine(example.skus[1], 5, expiry=date(2026, 5, 1)),
    ]
    inv.receive(document, lines, on=date(2026, 1, 3))
    example.documents.append(document)
    return example


def perform(example: Example, name: str, values: dict[str, Any]) -> Any:
    """Make one call with resolved argument values."""
    if name == "Inventory":
        db = values.pop("db")
        example.inv = Inventory(db, **values)
        return example.inv
    if name == "chunk_size=":
        example.inv.chunk_size = values["value"]
        return None
    if name == "audit.run(user)":
        with audit.run(user=values["user"]):
            return Inventory(example.db).adjust(example.skus[0], 1, on=date(2026, 1, 10))
    return getattr(example.inv, name)(**values)


def verdict(name: str, args: dict[str, Arg]) -> bool | None:
    """Whether the call must succeed-or-fail-typed (True), must be refused (False), or either."""
    if name == "audit.run(user)" and not args["user"].value:
        return True  # an empty user keeps the outer one ("system")
    if name == "Inventory" and "user" in args and args["user"].value is None:
        args = {**args, "user": Arg(None, True)}  # no user: the audit run's
    oks = [arg.ok for arg in args.values()]
    if any(ok is False for ok in oks):
        return False
    return None if any(ok is None for ok in oks) else True


def check_call(example: Example, name: str, args: dict[str, Arg], before: Any) -> Any:
    """Make one call and check what it did; return the state to compare the next call with."""
    values = {key: resolve(arg.value, example.lookup) for key, arg in args.items()}
    must_refuse = verdict(name, args) is False
    STATS["calls"] += 1
    shown = f"{name}({', '.join(f'{k}={v!r:.60}' for k, v in values.items())})"
    try:
        result = perform(example, name, values)
    except InventoryError as exc:
        STATS["typed errors"] += 1
        STATS[exc.code] += 1
        committed = exc.context.get("events_committed", 0)
        if name == "record_many" and committed:
            # The documented bulk contract: chunks before the refused one stay committed,
            # and the error says how many events they held. Exactly those must be there.
            STATS["record_many refused after committed chunks"] += 1
            added = row_counts(example.db)["transactions"] - before[0]["transactions"]
            assert added == committed, f"{shown}: {added} rows written, error says {committed}"
            return example.state()
        assert example.state() == before, f"{shown} raised {exc.code} after writing rows"
        if must_refuse and not isinstance(exc, ValidationError):
            STATS["refused with a wrong error"] += 1
            pytest.fail(f"{shown} should be a ValidationError, got {exc!r}")
        return before
    except Exception as exc:
        STATS["untyped errors"] += 1
        pytest.fail(f"{shown} raised an untyped {type(exc).__name__}: {exc}")
    STATS["succeeded"] += 1
    if must_refuse:
        STATS["accepted bad values"] += 1
        pytest.fail(f"{shown} accepted a value it must refuse")
    if name == "receive":
        example.documents.append(result.document_id)
    if name == "add_sku":
        example.skus.append(result.sku)
    return example.state()


def fuzz(db: Database, examples: int) -> None:
    """Run ``examples`` random call sequences on ``db``."""

    @settings(
        max_examples=examples,
        deadline=None,
        database=None,
        suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
    )
    @given(st.lists(CALLS, min_size=3, max_size=12))
    def run(calls: list[tuple[str, dict[str, Arg]]]) -> None:
        example = start(db)
        state = example.state()
        for name, args in calls:
            state = check_call(example, name, args, state)

    run()


def _report(backend: str, record: Callable[[str, object], None]) -> None:
    line = ", ".join(f"{key}={STATS[key]}" for key in sorted(STATS))
    record("fuzz", line)
    print(f"\nfuzz[{backend}]: {line}")
    assert STATS["calls"] > 0
    assert STATS["untyped errors"] == STATS["accepted bad values"] == 0


def test_every_public_method_of_inventory_is_fuzzed() -> None:
    """The fuzz draws calls of exactly the public methods Inventory has."""
    public = {
        name
        for name in dir(Inventory)
        if not name.startswith("_") and callable(getattr(Inventory, name))
    }
    assert public == set(METHODS)


def test_fuzzed_calls_raise_only_typed_errors_and_write_nothing_when_refused(
    any_db: Database, record_property: Callable[[str, object], None]
) -> None:
    """Random calls with weird values succeed or raise InventoryError, writing nothing then."""
    STATS.clear()
    fuzz(any_db, examples=60 if any_db.dialect == "sqlite" else 40)
    _report(any_db.dialect, record_property)


@pytest.mark.slow
def test_fuzzed_calls_long_run(
    any_db: Database, record_property: Callable[[str, object], None]
) -> None:
    """The same fuzz with ten times the examples."""
    STATS.clear()
    fuzz(any_db, examples=600 if any_db.dialect == "sqlite" else 400)
    _report(any_db.dialect, record_property)


@pytest.mark.parametrize("name", list(SIGNATURES))
def test_every_parameter_refuses_every_bad_value(any_db: Database, name: str) -> None:
    """Each parameter, given each value it must refuse (others well-formed), raises VAL_."""
    example = start(any_db)
    signature = SIGNATURES[name]
    samples = {key: kind.sample for key, kind in signature.required.items()}
    before = example.state()
    for param, kind in signature.kinds.items():
        assert kind.refused, f"{name}({param}) has no value to refuse"
        for bad in kind.refused:
            args = {**samples, param: bad}
            if verdict(name, args) is not False:
                continue
            values = {key: resolve(arg.value, example.lookup) for key, arg in args.items()}
            shown = f"{name}({param}={values[param]!r:.80})"
            try:
                perform(example, name, values)
            except ValidationError:
                continue
            except Exception as exc:  # an untyped error, or the wrong InventoryError
                pytest.fail(f"{shown} raised {exc!r}, not a ValidationError")
            pytest.fail(f"{shown} was accepted")
    assert example.state() == before
