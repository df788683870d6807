"""Opening policy: what happens when an application opens, upgrades or maintains a database.

:class:`Database` (the public ``inventory_core.Database``) is the bare handle of
:mod:`inventory_core.db` plus the policy that surrounds it: :meth:`Database.open` finishes an
interrupted restore, clears killed runs' leftovers, backs up, migrates and runs the start-up
checks; :meth:`Database.upgrade` migrates after a backup. :mod:`~inventory_core.opening.maintenance`
(VACUUM, REINDEX...) and :mod:`~inventory_core.opening.info` (``inventory-core info``) work on
such a handle. The package sits above ``db``, ``audit``, ``invariants`` and ``backup``, the
floors it drives, so none of them needs to know it exists.
"""

from __future__ import annotations

from inventory_core.opening.database import CheckLevel, Database

__all__ = ["CheckLevel", "Database"]
