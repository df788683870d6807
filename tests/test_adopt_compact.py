"""The compact forms an adoption holds a store in: held rows, packed findings, streamed CSV."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest

from inventory_core.adopt import open_source
from inventory_core.adopt.compact import EventStore
from inventory_core.adopt.findings import Finding, Findings
from inventory_core.adopt.translate import read
from inventory_core.errors import AdoptInputError
from tests.adopt_support import every_case


def test_held_rows_come_back_as_they_were_added() -> None:
    """Rows held per SKU come back in the order read, with day, kind, note, file and line."""
    store = EventStore()
    store.add("B", date(2026, 1, 2), "SALE", 3, "", "sales.csv", 9)
    store.add("A", date(2026, 1, 1), "ORDER", 10, "Ordine ORD-1 \u00e8", "transactions.csv", 2)
    store.add("B", date(2026, 1, 1), "ADJUST", -4, "conta", "transactions.csv", 3)
    assert store.skus() == ["A", "B"] and store.rows == 3 and store.count("B") == 2
    assert list(store.rows_of("B")) == [
        (date(2026, 1, 2), "SALE", 3, "", "sales.csv", 9, 0),
        (date(2026, 1, 1), "ADJUST", -4, "conta", "transactions.csv", 3, 1),
    ]
    assert next(iter(store.rows_of("A")))[3] == "Ordine ORD-1 \u00e8"


def test_packed_findings_behave_like_a_list() -> None:
    """Findings append, count, index, iterate and truncate like the list they replace."""
    found = Findings()
    items = [
        Finding("k", "f.csv", n, "SKU", f"row {n} \u20ac", "did", "made", n % 2) for n in range(5)
    ]
    for item in items:
        found.append(item)
    assert len(found) == 5 and found[0] == items[0] and found[-1] == items[4]
    assert list(found) == items
    del found[2:]
    assert list(found) == items[:2]
    found.append(items[4])
    assert list(found) == [*items[:2], items[4]]
    with pytest.raises(IndexError):
        found[3]


def test_folding_again_gives_the_same_translation(tmp_path: Path) -> None:
    """A second fold (a retried unit of work) records the same events, findings and stock."""
    folder = every_case().write_folder(tmp_path / "data")
    with open_source(folder) as source:
        plan = read(source)
    first = [e for chunk in plan.fold(chunk=2) for e in chunk]
    findings, stock = list(plan.out.findings), dict(plan.out.our_stock)
    again = [e for chunk in plan.fold(chunk=2) for e in chunk]
    assert first and again == first and len(plan.out.events) == len(first)
    assert list(plan.out.findings) == findings and plan.out.our_stock == stock


def test_bad_bytes_after_a_streamed_block_name_their_line(tmp_path: Path) -> None:
    """A byte that is not UTF-8 far into a file is ADO_010 at its line; no row comes twice."""
    folder = every_case().write_folder(tmp_path / "data")
    with (folder / "sales.csv").open("w", encoding="utf-8") as out:
        out.write("date,sku,qty_sold\n")
        out.writelines(f"2026-01-{1 + n % 28:02d},BIRRA,1\n" for n in range(3000))
    with (folder / "sales.csv").open("ab") as out:
        out.write(b"2026-01-20,BIRRA,\xff\n")
    lines: list[int] = []
    with open_source(folder) as source, pytest.raises(AdoptInputError) as caught:
        lines.extend(row.line for row in source.rows("sales"))
    assert caught.value.context["line"] == 3002
    assert lines == list(range(2, 3002))
