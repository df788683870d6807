"""RetentionPolicy: last N plus grandfather-father-son, applied to real backup files."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from inventory_core import Database
from inventory_core.backup import BackupService, RestoreResult, RetentionPolicy
from inventory_core.backup.manifest import manifest_path
from tests.backup_support import seed


@dataclass(frozen=True)
class Entry:
    """A stand-in backup entry with only a creation time."""

    created_at: datetime


NOW = datetime(2026, 6, 15, 12, 0, tzinfo=UTC)


def hourly(count: int) -> list[Entry]:
    """One entry per hour going back from NOW."""
    return [Entry(NOW - timedelta(hours=h)) for h in range(count)]


def test_keep_last_keeps_exactly_the_newest_n() -> None:
    """With calendar buckets off, only the newest N survive."""
    entries = hourly(20)
    kept = RetentionPolicy(keep_last=3, daily=0, weekly=0, monthly=0).keep(entries)
    assert kept == entries[:3]


def test_daily_keeps_the_newest_backup_of_each_recent_day() -> None:
    """daily=3 keeps one backup for each of the three newest days that have backups."""
    entries = hourly(24 * 5)
    kept = RetentionPolicy(keep_last=0, daily=3, weekly=0, monthly=0).keep(entries)
    assert [e.created_at.date() for e in kept] == [
        NOW.date(),
        (NOW - timedelta(days=1)).date(),
        (NOW - timedelta(days=2)).date(),
    ]
    assert all(
        k
        == max(
            (e for e in entries if e.created_at.date() == k.created_at.date()),
            key=lambda e: e.created_at,
        )
        for k in kept
    )


def test_weekly_and_monthly_reach_further_back() -> None:
    """Weekly and monthly buckets keep one backup per ISO week and per month."""
    entries = [Entry(NOW - timedelta(days=d)) for d in range(400)]
    policy = RetentionPolicy(keep_last=0, daily=0, weekly=4, monthly=12)
    kept = policy.keep(entries)
    months = {(e.created_at.year, e.created_at.month) for e in kept}
    assert len(months) == 12
    weeks = {e.created_at.isocalendar()[:2] for e in kept[:4]}
    assert len(weeks) == 4
    assert len(policy.prune(entries)) == 400 - len(kept)


@given(
    st.lists(st.integers(min_value=0, max_value=5000), min_size=1, max_size=60),
    st.integers(0, 5),
    st.integers(0, 5),
    st.integers(0, 3),
    st.integers(0, 3),
)
def test_never_deletes_the_newest_and_partitions_the_entries(
    hours: list[int], last: int, daily: int, weekly: int, monthly: int
) -> None:
    """Whatever the policy, the newest entry is kept and keep + prune cover every entry once."""
    entries = [Entry(NOW - timedelta(hours=h, microseconds=i)) for i, h in enumerate(hours)]
    policy = RetentionPolicy(last, daily, weekly, monthly)
    kept, pruned = policy.keep(entries), policy.prune(entries)
    newest = max(entries, key=lambda e: e.created_at)
    assert newest in kept and newest not in pruned
    assert len(kept) + len(pruned) == len(entries)


def test_negative_counts_are_refused() -> None:
    """A negative count is a programming error, refused at once."""
    with pytest.raises(ValueError, match="daily"):
        RetentionPolicy(daily=-1)


def test_apply_retention_deletes_backup_and_manifest_together(db: Database, tmp_path: Path) -> None:
    """Pruned backups disappear with their manifests; the dry run lists without deleting."""
    seed(db, skus=1, events_per_sku=1)
    policy = RetentionPolicy(keep_last=2, daily=0, weekly=0, monthly=0)
    service = BackupService(db, tmp_path / "b", retention=policy)
    paths = [service.backup(f"r{i}") for i in range(4)]
    planned = service.apply_retention(dry_run=True)
    assert [p.path for p in planned] == [paths[1], paths[0]]
    assert all(p.exists() for p in paths)
    deleted = service.apply_retention()
    assert [d.path for d in deleted] == [paths[1], paths[0]]
    for gone in paths[:2]:
        assert not gone.exists() and not manifest_path(gone).exists()
    assert [e.path for e in service.list()] == [paths[3], paths[2]]


def _restore_row(db: Database) -> dict[str, str]:
    from sqlalchemy import select

    from inventory_core.models import AuditLog

    with db.read() as uow:
        details = uow.execute(
            select(AuditLog.details)
            .where(AuditLog.operation == "restore")
            .order_by(AuditLog.audit_id.desc())
            .limit(1)
        ).scalar_one()
    found: dict[str, str] = json.loads(details)
    return found


def test_restoring_the_oldest_of_ten_backups_keeps_it_and_its_safety_backup(
    db: Database, tmp_path: Path
) -> None:
    """Retention after (and long after) a restore keeps the backup restored and the safety one."""
    seed(db, skus=1, events_per_sku=1)
    service = BackupService(db, tmp_path / "b")  # the default policy: keep_last=10
    paths = [service.backup(f"r{i}") for i in range(10)]
    result = service.restore(paths[0])
    assert isinstance(result, RestoreResult)
    row = _restore_row(db)
    kept = {paths[0], result.safety_backup}
    for path in kept:
        assert path.exists() and manifest_path(path).exists()
    assert (service.directory / row["backup"]) in kept
    assert (service.directory / row["safety_backup"]) in kept
    for i in range(12):
        service.backup(f"later{i}")
        service.apply_retention()
    listed = {info.path for info in service.list()}
    assert kept <= listed and len(listed) == 12
    assert not paths[1].exists()


def test_the_pins_move_to_the_next_restore(db: Database, tmp_path: Path) -> None:
    """Only the last restore's two files are pinned: the earlier ones may be pruned again."""
    seed(db, skus=1, events_per_sku=1)
    policy = RetentionPolicy(keep_last=2, daily=0, weekly=0, monthly=0)
    service = BackupService(db, tmp_path / "b", retention=policy)
    first = service.backup("first")
    for i in range(3):
        service.backup(f"fill{i}")
    one = service.restore(first)
    assert isinstance(one, RestoreResult) and first.exists() and one.safety_backup.exists()
    two = service.restore(one.safety_backup)
    assert isinstance(two, RestoreResult)
    assert one.safety_backup.exists() and two.safety_backup.exists()
    assert not first.exists()
