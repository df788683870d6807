"""Backup and recovery: online backups with manifests, retention, verified restore with
rollback, CSV snapshots both ways and the debug bundle.

```python
service = BackupService(db, "data/backups", retention=RetentionPolicy(keep_last=5))
path = service.backup("manual")
assert service.verify(path) == []
service.restore(path)
```
"""

from __future__ import annotations

from inventory_core.backup.bundle import debug_bundle
from inventory_core.backup.catalog import BackupInfo
from inventory_core.backup.csv_import import import_csv
from inventory_core.backup.csv_snapshot import export_csv
from inventory_core.backup.damaged import restore_damaged
from inventory_core.backup.journal import recover_interrupted_restore
from inventory_core.backup.manifest import Manifest
from inventory_core.backup.restore_plan import RestorePlan, RestoreResult, TableDiff
from inventory_core.backup.retention import RetentionPolicy
from inventory_core.backup.service import BackupService, Problem

__all__ = [
    "BackupInfo",
    "BackupService",
    "Manifest",
    "Problem",
    "RestorePlan",
    "RestoreResult",
    "RetentionPolicy",
    "TableDiff",
    "debug_bundle",
    "export_csv",
    "import_csv",
    "recover_interrupted_restore",
    "restore_damaged",
]
