"""Whatever valid history the ``Inventory`` facade writes, every invariant holds."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from inventory_core import Database, Inventory, ReceiptLine
from inventory_core.errors import ValidationError, WorkflowError
from inventory_core.invariants import HealthStatus, check_all
from tests.db_support import test_settings
from tests.invariants_support import Template

START = date(2026, 3, 1)
SKUS = ("BIRRA", "PASTA")

DAY = st.integers(0, 20)
QTY = st.integers(1, 40)
SKU = st.sampled_from(SKUS)
OPERATIONS = st.lists(
    st.one_of(
        st.tuples(st.just("snapshot"), SKU, DAY, st.integers(0, 60)),
        st.tuples(st.just("order"), SKU, DAY, QTY),
        st.tuples(st.just("receive"), SKU, DAY, QTY),
        st.tuples(st.just("sell"), SKU, DAY, QTY),
        st.tuples(st.just("waste"), SKU, DAY, QTY),
        st.tuples(st.just("adjust"), SKU, DAY, st.integers(-20, 20).filter(bool)),
        st.tuples(st.just("unfulfilled"), SKU, DAY, QTY),
        st.tuples(st.just("revert"), SKU, DAY, st.integers(0, 1000)),
    ),
    min_size=1,
    max_size=18,
)


def apply(inv: Inventory, operations: list[tuple[str, str, int, int]]) -> int:
    """Replay ``operations``; the facade's refusals (stock, conflicts) are part of the game.

    Returns:
        How many operations were accepted.
    """
    written: list[int] = []
    orders: dict[str, list[int]] = {sku: [] for sku in SKUS}
    accepted = 0
    for number, (kind, sku, day, qty) in enumerate(operations):
        on = START + timedelta(days=day)
        try:
            if kind == "revert":
                if not written:
                    continue
                inv.revert(written[qty % len(written)], reason="test")
            elif kind == "order":
                orders[sku].append(inv.order(sku, qty, on=on))
            elif kind == "receive":
                order_id = orders[sku][-1] if orders[sku] and qty % 2 else None
                line = ReceiptLine(sku, qty, order_id=order_id, expiry=on + timedelta(days=qty))
                inv.receive(f"DDT-{number}", [line], on=on)
            else:
                written.append(getattr(inv, kind)(sku, qty, on=on))
            accepted += 1
        except (WorkflowError, ValidationError):
            continue
    return accepted


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def template(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Template]:
    """A migrated database with the SKUs, cloned for every example."""
    admin_url: str | None = None
    if request.param == "sqlite":
        url = f"sqlite:///{tmp_path / 'template.db'}"
    else:
        admin_url = request.getfixturevalue("pg_server")
        url = request.getfixturevalue("pg_url")
    db = Database.open(url, settings=test_settings())
    db.upgrade()
    inv = Inventory(db, user="tester")
    for sku in SKUS:
        inv.add_sku(sku, f"{sku} test")
    db.close()  # a PostgreSQL template database accepts no other connection
    yield Template(url=url, admin_url=admin_url, workdir=tmp_path)


@pytest.mark.parametrize("examples", [12, pytest.param(100, marks=pytest.mark.slow)])
def test_every_invariant_holds_for_histories_written_by_inventory(
    template: Template, examples: int
) -> None:
    """Random histories through Inventory (with refusals and reverts) stay HEALTHY."""
    budget = examples if "sqlite" in template.url else max(3, examples // 4)

    @settings(
        max_examples=budget,
        deadline=None,
        database=None,
        suppress_health_check=[HealthCheck.too_slow],
    )
    @given(OPERATIONS)
    def check(operations: list[tuple[str, str, int, int]]) -> None:
        with template.copy() as url:
            db = Database.open(url, settings=test_settings())
            try:
                apply(Inventory(db, user="tester"), operations)
                report = check_all(db, full=True)
            finally:
                db.close()
        assert report.status is HealthStatus.HEALTHY, report.to_json()

    check()


def test_the_generated_histories_are_mostly_accepted(template: Template) -> None:
    """A fixed busy history is accepted by the facade, so the property test exercises writes."""
    operations: list[Any] = [
        ("snapshot", "BIRRA", 0, 50),
        ("order", "BIRRA", 1, 24),
        ("receive", "BIRRA", 3, 13),
        ("sell", "BIRRA", 4, 30),
        ("waste", "BIRRA", 5, 2),
        ("adjust", "BIRRA", 6, -1),
        ("revert", "BIRRA", 7, 1),
        ("unfulfilled", "BIRRA", 8, 3),
    ]
    with template.copy() as url:
        db = Database.open(url, settings=test_settings())
        try:
            assert apply(Inventory(db, user="tester"), operations) == len(operations)
            assert check_all(db, full=True).status is HealthStatus.HEALTHY
        finally:
            db.close()
