"""The chain hash with its kept duration texts, and chain_rows for bulk-built chains."""

from __future__ import annotations

import hashlib
from decimal import Decimal
from itertools import count, islice, pairwise
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st
from sqlalchemy import insert

from inventory_core import Database, audit
from inventory_core.audit import trail
from inventory_core.models import AuditLog
from tests.audit_support import add_sku, sell

PREV = "ab" * 32


def _reference(prev: str, duration: Any) -> str:
    """sha256(prev + canonical JSON) with the duration rounded: the stored chain format."""
    fields: dict[str, Any] = {"timestamp": "t", "operation": "sell", "user": "u"}
    fields |= {"details": "{}", "run_id": "r", "duration_ms": round(float(duration), 3)}
    return hashlib.sha256((prev + trail.canonical_json(fields)).encode("utf-8")).hexdigest()


def _fast(prev: str, duration: Any) -> str:
    return trail.chain_hash(prev, "t", "sell", "u", "{}", "r", duration)


@given(st.floats(allow_nan=True, allow_infinity=True) | st.integers(-(10**12), 10**12))
def test_chain_hash_matches_the_reference_for_any_duration_seen_twice(duration: Any) -> None:
    """Any duration (negative, infinite, NaN, integer) hashes as canonical JSON, kept or not."""
    expected = _reference(PREV, duration)
    assert _fast(PREV, duration) == expected
    assert _fast(PREV, duration) == expected  # the second time its text is looked up


def test_signed_zeros_keep_their_own_texts() -> None:
    """0.0 and -0.0 compare equal but are hashed as '0.0' and '-0.0', in either order."""
    for first, second in ((0.0, -0.0), (-0.0, 0.0), (0, -0.0), (Decimal("-0"), 0.0)):
        assert _fast(PREV, first) == _reference(PREV, first)
        assert _fast(PREV, second) == _reference(PREV, second)
    assert _fast(PREV, 0.0) != _fast(PREV, -0.0)


def test_equal_durations_of_other_types_hash_alike() -> None:
    """1.5, Decimal('1.5') and the text kept for either give one hash, the reference one."""
    assert _fast(PREV, 1.5) == _fast(PREV, Decimal("1.5")) == _reference(PREV, 1.5)
    assert _fast(PREV, 2) == _fast(PREV, 2.0) == _reference(PREV, 2)
    assert _fast(PREV, 1.0004) == _reference(PREV, 1.0)  # rounded to 3 decimals, as stored


def test_kept_duration_texts_stop_growing_at_the_limit(monkeypatch: pytest.MonkeyPatch) -> None:
    """Past the limit, new durations are hashed correctly without being kept."""
    monkeypatch.setattr(trail, "_DURATION_TEXTS", {})
    monkeypatch.setattr(trail, "DURATION_TEXTS_KEPT", 8)
    durations = [1 + n / 1000 for n in range(20)]
    for duration in durations:
        assert _fast(PREV, duration) == _reference(PREV, duration)
    assert len(trail._DURATION_TEXTS) == 8
    assert all(_fast(PREV, d) == _reference(PREV, d) for d in durations)


def _fields(count: int) -> list[dict[str, Any]]:
    return [
        {
            "timestamp": f"2026-03-01T00:00:{n:02d}.000000Z",
            "operation": "sell",
            "user": "bulk",
            "details": trail.canonical_json({"qty": n + 1, "sku": "BULK"}),
            "run_id": "bulk-run",
            "duration_ms": n / 8,
            "sku": None,
        }
        for n in range(count)
    ]


def test_chain_rows_builds_the_chain_append_would(db: Database) -> None:
    """Rows chained in bulk verify, and each one links to the hash of the one before."""
    rows = list(trail.chain_rows(_fields(5)))
    assert rows[0]["prev_hash"] == trail.GENESIS_HASH
    assert all(b["prev_hash"] == a["hash"] for a, b in pairwise(rows))
    with db.unit_of_work() as uow:
        uow.execute(insert(AuditLog), rows)
        uow.commit()
    report = audit.verify(db)
    assert report.ok and report.rows_checked == 5 and report.head_hash == rows[-1]["hash"]


def test_chain_rows_extends_a_trail_written_by_the_library(db: Database) -> None:
    """Chained on from the current head, bulk rows continue a trail and more appends follow."""
    add_sku(db, "BIRRA")
    with db.unit_of_work() as uow:
        chained = trail.chain_rows(_fields(40), prev_hash=trail.head_hash(uow))
        while chunk := list(islice(chained, 16)):
            uow.execute(insert(AuditLog), chunk)
        uow.commit()
    sell(db, "BIRRA", 1)
    report = audit.verify(db)
    assert report.ok and report.rows_checked == 42


def test_chain_rows_is_lazy() -> None:
    """Rows are chained as they are consumed, so a million never sit in memory at once."""
    template = _fields(1)[0]
    endless = ({**template, "details": str(n)} for n in count())
    first = list(islice(trail.chain_rows(endless), 3))
    assert [row["details"] for row in first] == ["0", "1", "2"]
