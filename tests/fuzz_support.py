"""Values for the public-API fuzz: every argument kind of every Inventory method.

Each argument value is an :class:`Arg` that knows whether the library must accept it
(``ok=True``: well-formed, though the row it names may not exist), must refuse it with a
``ValidationError`` (``ok=False``), or may do either (``ok=None``). A :class:`Kind` holds
the values of one parameter: a strategy of good ones, one fixed good sample, and a list of
bad ones (the kind's own edge cases plus :data:`WEIRD`, values of every type, each judged
for that kind) that the sweep test enumerates. Values naming the example's rows (a SKU, a
transaction, an order, a lot, a used document id) are :class:`Ref` placeholders, resolved
when the call is made, so that calls reach the database and not only the validators.
"""

from __future__ import annotations

import enum
import uuid
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, replace
from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal
from fractions import Fraction
from pathlib import Path
from typing import Any

from hypothesis import strategies as st

from inventory_core import ReceiptLine
from inventory_core.ledger.inputs import EventIn, ean13_check_digit
from inventory_core.ledger.rules import MAX_DATE, MAX_ID, MAX_QTY, MIN_DATE
from inventory_core.models import EventType

OMIT = object()
"""An optional argument left out of the call."""


@dataclass(frozen=True)
class Arg:
    """One argument value and what the library must do with it."""

    value: Any
    ok: bool | None


@dataclass(frozen=True)
class Ref:
    """A value read from the example's own rows when the call is made."""

    kind: str
    index: int = 0
    text: str = ""


@dataclass(frozen=True)
class AsEventIn:
    """An event given as an :class:`EventIn` (built once its references are resolved)."""

    fields: Mapping[str, Any]


NOTHING: st.SearchStrategy[Any] = st.nothing()


@dataclass(frozen=True)
class Kind:
    """The values of one parameter."""

    good: st.SearchStrategy[Arg]
    sample: Arg
    bad_values: tuple[Arg, ...]
    extra_bad: st.SearchStrategy[Arg] = NOTHING

    @property
    def bad(self) -> st.SearchStrategy[Arg]:
        """Edge cases, weird values and generated bad ones (some judged acceptable)."""
        return st.one_of(st.sampled_from(self.bad_values), self.extra_bad)

    @property
    def refused(self) -> tuple[Arg, ...]:
        """The enumerable values the library must refuse."""
        return tuple(arg for arg in self.bad_values if arg.ok is False)


class _Colour(enum.IntEnum):
    RED = 1


WEIRD: tuple[Any, ...] = (
    None, True, False, 0, -1, 1, 2**31 - 1, 2**31, 2**63 - 1, 2**63, 2**70, -(2**70),
    1.0, 1.5, -0.0, float("nan"), float("inf"), 1769904000, 1769904000.0,
    Decimal("1"), Fraction(1, 2), 1j, _Colour.RED,
    "", " ", "2026-03-12", "1773273600", "yesterday", "\x00", "\ud800", "x" * 100_000,
    b"2026-02-01", bytearray(b"A"), memoryview(b"A"),
    date(2026, 2, 1), datetime(2026, 2, 1, 10, 30), datetime(2026, 2, 1, tzinfo=UTC),
    date.min, date.max, time(10), timedelta(days=1),
    [], [5], ["x"], (), {}, {"sku": "A"}, set(), frozenset({1}), object(),
    EventType.SALE, ReceiptLine("A", 1), Path("x"), uuid.UUID(int=1), Ellipsis, print,
)  # fmt: skip
"""Values of every type, offered to every parameter."""


def judged(values: Iterable[Any], verdict: Callable[[Any], bool | None]) -> tuple[Arg, ...]:
    """``values`` each with the verdict the parameter gives it."""
    return tuple(Arg(v, verdict(v)) for v in values)


def _is_int(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def ints(low: int, high: int, *, optional: bool = False) -> Kind:
    """An integer parameter accepting ``low..high`` (and None when ``optional``)."""

    def verdict(v: Any) -> bool:
        return (optional and v is None) or (_is_int(v) and low <= v <= high)

    edges = [low - 1, high + 1, 2**31, 2**63, -(2**63) - 1, 2**70, str(low), float(low)]
    good = [
        st.integers(low, min(high, low + 50)).map(lambda v: Arg(v, True)),
        st.sampled_from([Arg(low, True), Arg(high, True)]),
    ]
    if optional:
        good.append(st.just(Arg(None, True)))
    return Kind(st.one_of(*good), Arg(low + 1, True), judged([*edges, *WEIRD], verdict))


def qty_for(event: EventType) -> Kind:
    """The quantity of an event, valid when its sign is the one the event demands."""
    if event == EventType.SNAPSHOT:
        return ints(0, MAX_QTY)
    if event != EventType.ADJUST:
        return ints(1, MAX_QTY)

    def verdict(v: Any) -> bool:
        return _is_int(v) and v != 0 and -MAX_QTY <= v <= MAX_QTY

    edges = [-MAX_QTY - 1, 0, MAX_QTY + 1, 2**63, "3", 3.0]
    good = st.one_of(
        st.integers(-20, 50).filter(bool).map(lambda v: Arg(v, True)),
        st.sampled_from([Arg(-MAX_QTY, True), Arg(MAX_QTY, True)]),
    )
    return Kind(good, Arg(2, True), judged([*edges, *WEIRD], verdict))


def dates(*, optional: bool = False) -> Kind:
    """A date parameter: a ``datetime.date`` in range, nothing else."""

    def verdict(v: Any) -> bool:
        if optional and v is None:
            return True
        real = isinstance(v, date) and not isinstance(v, datetime)
        return real and MIN_DATE <= v <= MAX_DATE

    near = st.dates(date(2026, 1, 1), date(2026, 3, 31)).map(lambda v: Arg(v, True))
    good = [near, near, st.sampled_from([Arg(MIN_DATE, True), Arg(MAX_DATE, True)])]
    if optional:
        good.append(st.just(Arg(None, True)))
    edges = [date(1899, 12, 31), datetime(2026, 2, 1), "2026-02-01", 20260201]
    return Kind(st.one_of(*good), Arg(date(2026, 2, 1), True), judged([*edges, *WEIRD], verdict))


SAFE = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_./# éèßñü€漢字"
BAD_IN_CODES = (
    *("\x00", "\ud800", "\udfff", "\n", "\t", "\x1b", "\x7f", "\x85"),
    *("\u200b", "\u200c", "\u200d", "\u2060", "\ufeff", "\u00ad", "\u202e", "\u2066"),
    *("\u2028", "\u2029", "\u00a0", "\u3000", "\u2003", "\u3164", "\ufe0f", "\ufffd"),
    *("\ue000", "\U000e0041", "\uff22", "\U0001d401", "\u00b2", "\u2122"),
)
"""One character that makes any code invalid: controls, surrogates, invisibles, odd spaces,
private use, tags, and characters that stand for ASCII (fullwidth, mathematical, ²)."""
BAD_CODES = (
    *("", " ", " BIRRA", "BIRRA ", "A" * 65, "e\u0301" * 65, "\u0301A"),
    *("BIRR\u0410", "\u0391BC", "B\u0406RRA", "\u00a0"),
    *(f"AB{ch}C" for ch in BAD_IN_CODES),
)
"""Codes the library must refuse (NFC of 65 decomposed é is still 65 characters)."""


def ascii_code_ok(value: Any, length: int = 64) -> bool:
    """Whether a weird value is a valid code (only printable ASCII ones of the pool are)."""
    if not isinstance(value, str) or not (value.isascii() and value.isprintable()):
        return False
    return 1 <= len(value) <= length and value == value.strip()


def codes(kind: str = "sku") -> Kind:
    """A SKU code or document id: an existing one, its NFD spelling, a new one, or a bad one."""
    own = "sku" if kind == "sku" else "doc_used"
    refs = [st.integers(0, 3).map(lambda i: Arg(Ref(own, i), True))]
    if kind == "sku":
        refs.append(st.integers(0, 3).map(lambda i: Arg(Ref("sku_nfd", i), True)))
    fresh = st.builds(
        lambda first, tail: Arg(Ref(f"new_{kind}", text=first + tail.rstrip()), True),
        st.sampled_from("ABCÉé"),
        st.text(alphabet=SAFE, max_size=12),
    )
    inserted = st.builds(
        lambda a, bad, b: Arg(a + bad + b, False),
        st.text(alphabet="ABC123", max_size=4),
        st.sampled_from(BAD_IN_CODES),
        st.text(alphabet="ABC123", max_size=4),
    )
    bad = (*(Arg(v, False) for v in BAD_CODES), *judged(WEIRD, ascii_code_ok))
    return Kind(st.one_of(*refs, *refs, fresh), Arg(Ref(own, 0), True), bad, inserted)


def optional_codes() -> Kind:
    """A code parameter that also takes None (a cursor not given)."""
    base = codes()
    bad = tuple(Arg(a.value, True) if a.value is None else a for a in base.bad_values)
    return Kind(st.one_of(base.good, st.just(Arg(None, True))), base.sample, bad, base.extra_bad)


def text_ok(value: Any, limit: int, *, optional: bool, blank_ok: bool) -> bool:
    """Whether a value is acceptable free text (the weird pool's strings are all ASCII)."""
    if value is None:
        return optional
    if not isinstance(value, str) or len(value) > limit or not (blank_ok or value.strip()):
        return False
    return all(ch in "\t\n\r" or (ch.isprintable() and ch.isascii()) for ch in value)


def texts(limit: int, *, optional: bool = True, blank_ok: bool = True) -> Kind:
    """Free text of at most ``limit`` characters (tabs and newlines allowed)."""
    printable = st.characters(blacklist_categories=("Cs", "Cc"))
    good = st.text(alphabet=st.one_of(printable, st.sampled_from("\t\n\r")), max_size=40)
    if not blank_ok:
        good = good.filter(str.strip)
    bad = [
        Arg("y" * (limit + 1), False),
        *(Arg(f"ab{ch}c", False) for ch in ("\x00", "\ud800", "\x1b", "\x07", "\x9b", "\x0b")),
        *judged(WEIRD, lambda v: text_ok(v, limit, optional=optional, blank_ok=blank_ok)),
    ]
    choices = st.one_of(good.map(lambda v: Arg(v, True)), st.just(Arg("y" * limit, True)))
    return Kind(choices, Arg("a note\nwith two lines", True), tuple(bad))


def ids(kind: str, *, optional: bool = False) -> Kind:
    """A row id: one of the example's own, any id in range (no such row), or a bad one."""
    own = st.integers(0, 5).map(lambda i: Arg(Ref(kind, i), True))
    numbers = ints(1, MAX_ID, optional=optional)
    return Kind(st.one_of(own, own, own, numbers.good), Arg(Ref(kind), True), numbers.bad_values)


EANS = Kind(
    st.one_of(
        st.just(Arg(None, True)),
        st.text(alphabet="0123456789", min_size=12, max_size=12).map(
            lambda v: Arg(v + str(ean13_check_digit(v)), True)
        ),
    ),
    Arg("4006381333931", True),
    (
        *(Arg(v, False) for v in ("4006381333932", "400638133393", "40063813339X1", "４" * 13)),
        *judged(WEIRD, lambda v: v is None),
    ),
)
BOOLS = Kind(
    st.booleans().map(lambda v: Arg(v, True)),
    Arg(False, True),
    judged(WEIRD, lambda v: isinstance(v, bool)),
)
OPTIONAL_BOOLS = Kind(
    st.sampled_from([None, True, False]).map(lambda v: Arg(v, True)),
    Arg(None, True),
    judged(WEIRD, lambda v: v is None or isinstance(v, bool)),
)
CATEGORIES = Kind(
    st.sampled_from([None, "Bevande", "Latticini", "Frutta e verdura"]).map(lambda v: Arg(v, True)),
    Arg("Bevande", True),
    (*(Arg(v, False) for v in BAD_CODES), *judged(WEIRD, lambda v: v is None or ascii_code_ok(v))),
)


def _attributes_ok(value: Any) -> bool | None:
    if value is None:
        return True
    return None if isinstance(value, dict) else False


ATTRIBUTES = Kind(
    st.sampled_from([None, {}, {"colore": "ambra"}, {"n": [1, 2.5, True, None]}]).map(
        lambda v: Arg(v, True)
    ),
    Arg({"colore": "ambra"}, True),
    (
        *(Arg(v, False) for v in ({"d": date(2026, 1, 1)}, {"x": float("nan")}, {"k\x00": 1})),
        Arg({"big": "x" * 5000}, False),
        *judged(WEIRD, _attributes_ok),
    ),
)
USERS = Kind(
    st.sampled_from(["operator_01", "José", "Jose\u0301", "李", "a b"]).map(lambda v: Arg(v, True)),
    Arg("operator_01", True),
    (*(Arg(v, False) for v in BAD_CODES), Arg("u" * 65, False), *judged(WEIRD, ascii_code_ok)),
)


def _and(*verdicts: bool | None) -> bool | None:
    if any(v is False for v in verdicts):
        return False
    return None if any(v is None for v in verdicts) else True


LINE_PARTS = {
    "sku": codes("sku"),
    "qty": ints(1, MAX_QTY),
    "order_id": ids("order", optional=True),
    "expiry": dates(optional=True),
}


def _line(values: dict[str, Arg], as_dict: bool) -> Any:
    raw = {name: arg.value for name, arg in values.items()}
    return raw if as_dict else ReceiptLine(**raw)


def receipt_lines() -> Kind:
    """The lines of a document: ReceiptLine objects or mappings, or something else."""

    def lines(pick: Callable[[Kind], st.SearchStrategy[Arg]]) -> st.SearchStrategy[Arg]:
        line = st.fixed_dictionaries({name: pick(kind) for name, kind in LINE_PARTS.items()})

        def build(drawn: list[dict[str, Arg]], as_dicts: bool, as_tuple: bool) -> Arg:
            out = [_line(values, as_dicts) for values in drawn]
            ok = _and(*(arg.ok for values in drawn for arg in values.values()))
            return Arg(tuple(out) if as_tuple else out, ok if drawn else False)

        return st.builds(
            build, st.lists(line, min_size=1, max_size=3), st.booleans(), st.booleans()
        )

    sample = {name: kind.sample for name, kind in LINE_PARTS.items()}
    one_bad = [
        Arg([_line({**sample, name: arg}, as_dict)], arg.ok)
        for name, kind in LINE_PARTS.items()
        for arg in kind.bad_values
        for as_dict in (False, True)
    ]
    structural = [[], [5], ["x"], [None], [{"sku": "A", "qty": 1, "colour": "red"}]]
    bad = (*one_bad, *(Arg(v, False) for v in structural), *judged(WEIRD, lambda v: False))
    return Kind(lines(lambda kind: kind.good), Arg([_line(sample, False)], True), bad)


def _event_fields(kind: EventType) -> dict[str, Kind]:
    fields = {"sku": codes("sku"), "qty": qty_for(kind), "date": dates(), "note": texts(500)}
    if kind == EventType.RECEIPT:
        fields["expiry"] = dates(optional=True)
    return fields


def events() -> Kind:
    """A batch for ``record_many``: mappings, EventIn objects, or anything else."""

    @st.composite
    def one(draw: st.DrawFn) -> tuple[Any, bool | None]:
        kind = draw(st.sampled_from(list(EventType)))
        parts = {"event": Arg(draw(st.sampled_from([kind, kind.value])), True)}
        for name, values in _event_fields(kind).items():
            if name in ("sku", "qty", "date") or draw(st.booleans()):
                parts[name] = draw(values.good)
        if kind == EventType.RECEIPT and draw(st.booleans()):
            parts["document_id"] = Arg(Ref("new_document", text=str(draw(st.integers(0, 9)))), True)
        fields = {name: arg.value for name, arg in parts.items()}
        return (AsEventIn(fields) if draw(st.booleans()) else fields), True

    def build(batch: list[tuple[Any, bool | None]]) -> Arg:
        return Arg([item for item, _ in batch], _and(*(ok for _, ok in batch)))

    def verdict(v: Any) -> bool:
        if isinstance(v, str | bytes | bytearray | memoryview | Mapping):
            return False
        try:
            return len(list(v)) == 0
        except TypeError:
            return False

    sale = {"sku": Ref("sku"), "event": "SALE", "qty": 1, "date": date(2026, 2, 1)}
    one_bad = [
        Arg([{**sale, name: arg.value}], arg.ok)
        for name, kind in _event_fields(EventType.SALE).items()
        for arg in kind.bad_values
    ]
    big = {**sale, "event": "RECEIPT", "qty": MAX_QTY, "document_id": Ref("new_document", "X")}
    structural = [
        [5], ["x"], [None], [{}], [{**sale, "event": "sale"}], [{**sale, "colour": "red"}],
        [{**sale, "expiry": date(2026, 5, 1)}], [sale, {**sale, "qty": 0}], [big, big, big],
    ]  # fmt: skip
    bad = (*one_bad, *(Arg(v, False) for v in structural), *judged(WEIRD, verdict))
    return Kind(st.lists(one(), max_size=4).map(build), Arg([sale], True), bad)


def resolve(value: Any, lookup: Callable[[Ref], Any]) -> Any:
    """``value`` with every :class:`Ref` (also inside lines and batches) resolved."""
    if isinstance(value, Ref):
        return lookup(value)
    if isinstance(value, AsEventIn):
        return EventIn(**{k: resolve(v, lookup) for k, v in value.fields.items()})
    if isinstance(value, ReceiptLine):
        return replace(
            value, sku=resolve(value.sku, lookup), order_id=resolve(value.order_id, lookup)
        )
    nested = (Ref, AsEventIn, ReceiptLine, dict, tuple)
    if isinstance(value, list | tuple) and any(isinstance(v, nested) for v in value):
        return type(value)(resolve(v, lookup) for v in value)
    if isinstance(value, dict):
        return {resolve(k, lookup): resolve(v, lookup) for k, v in value.items()}
    return value
