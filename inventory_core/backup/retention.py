"""Which backups to keep: the last N plus a grandfather-father-son set.

A backup is kept when it is one of the ``keep_last`` newest, or the newest of one of the
``daily`` most recent days that have backups (likewise ISO ``weekly`` weeks and ``monthly``
months). The newest backup is always kept, whatever the policy says: deleting it would
leave nothing to restore.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Protocol, TypeVar

from inventory_core.errors.i18n import gettext as _


class Dated(Protocol):
    """Anything with a creation time (a backup entry)."""

    @property
    def created_at(self) -> datetime: ...


D = TypeVar("D", bound=Dated)


@dataclass(frozen=True)
class RetentionPolicy:
    """How many backups to keep: last N, plus one per day / week / month.

    Args:
        keep_last: the newest N backups, whatever their age.
        daily: the newest backup of each of the last N days that have backups.
        weekly: the newest backup of each of the last N ISO weeks that have backups.
        monthly: the newest backup of each of the last N months that have backups.
    """

    keep_last: int = 10
    daily: int = 7
    weekly: int = 4
    monthly: int = 12

    def __post_init__(self) -> None:
        for name in ("keep_last", "daily", "weekly", "monthly"):
            if getattr(self, name) < 0:
                raise ValueError(_("{name} must be >= 0").format(name=name))

    def keep(self, entries: Sequence[D]) -> list[D]:
        """The entries to keep, newest first."""
        ordered = sorted(entries, key=lambda e: e.created_at, reverse=True)
        kept: set[int] = set(range(min(max(self.keep_last, 1), len(ordered))))
        buckets: tuple[tuple[int, Callable[[datetime], object]], ...] = (
            (self.daily, lambda d: d.date()),
            (self.weekly, lambda d: d.isocalendar()[:2]),
            (self.monthly, lambda d: (d.year, d.month)),
        )
        for limit, bucket_of in buckets:
            seen: list[object] = []
            for index, entry in enumerate(ordered):
                bucket = bucket_of(entry.created_at)
                if bucket in seen:
                    continue
                if len(seen) >= limit:
                    break
                seen.append(bucket)
                kept.add(index)
        return [entry for index, entry in enumerate(ordered) if index in kept]

    def prune(self, entries: Sequence[D]) -> list[D]:
        """The entries to delete, newest first (never the newest entry)."""
        keep = {id(e) for e in self.keep(entries)}
        ordered = sorted(entries, key=lambda e: e.created_at, reverse=True)
        return [e for e in ordered if id(e) not in keep]
