"""Checking a backup file before it is restored: every reason it cannot be, with its own code."""

from __future__ import annotations

import sqlite3
from pathlib import Path

from inventory_core.backup import postgres
from inventory_core.backup.files import sha256_file
from inventory_core.backup.manifest import Manifest, manifest_path, read_manifest
from inventory_core.backup.sqlite_copy import (
    content_problems,
    open_readonly,
    schema_error,
    structural_error,
)
from inventory_core.db import migrations
from inventory_core.errors import (
    RestoreChecksumError,
    RestoreError,
    RestoreManifestMissingError,
    RestoreMissingError,
    RestorePathIsDirectoryError,
    RestoreSchemaTooNewError,
)


def backup_errors(path: Path) -> list[RestoreError]:
    """Every reason ``path`` cannot be restored (empty when it is a good backup).

    Reads the file only: one sha256 pass and one ``integrity_check``. ``foreign_key_check``
    runs too when the sha256 does not prove the file is the one checked at backup time.
    """
    if path.is_dir():
        return [RestorePathIsDirectoryError(path=str(path))]
    if not path.exists():
        return [RestoreMissingError(path=str(path))]
    manifest = read_manifest(path)
    errors: list[RestoreError] = []
    broken = None if path.suffix == ".dump" else structural_error(path)
    if broken is not None:
        errors.append(broken)
    if manifest is None:
        errors.append(
            RestoreManifestMissingError(path=str(path), manifest=manifest_path(path).name)
        )
    if path.suffix == ".dump":
        return errors + _dump_errors(path, manifest)
    if broken is not None:
        return errors
    proven = False
    if manifest is not None:
        actual = sha256_file(path)
        proven = actual == manifest.sha256 and manifest.verified
        if actual != manifest.sha256:
            errors.append(
                RestoreChecksumError(path=str(path), actual=actual, expected=manifest.sha256)
            )
    conn = open_readonly(path)
    try:
        wrong = schema_error(conn, path)
        if wrong is not None:
            return [*errors, wrong]
        problems = content_problems(conn, foreign_keys=not proven)
    except sqlite3.DatabaseError as exc:
        problems = [str(exc)]
    finally:
        conn.close()
    if problems:
        errors.append(RestoreError("; ".join(problems), path=str(path)))
    return errors


def _dump_errors(path: Path, manifest: Manifest | None) -> list[RestoreError]:
    errors: list[RestoreError] = []
    if manifest is not None and sha256_file(path) != manifest.sha256:
        errors.append(
            RestoreChecksumError(path=str(path), actual=sha256_file(path), expected=manifest.sha256)
        )
    problem = postgres.check_archive(path)
    if problem is not None:
        errors.append(RestoreError(f"not a pg_dump archive: {problem}", path=str(path)))
    revision = manifest.schema_revision if manifest else None
    if revision is not None and revision not in migrations.known_revisions():
        errors.append(
            RestoreSchemaTooNewError(
                found=revision, expected=migrations.head_revision(), path=str(path)
            )
        )
    return errors


def check_backup(path: Path) -> Manifest:
    """The backup's manifest once every check passed.

    Raises:
        RestoreError: the first problem found, as its own subclass and code.
    """
    errors = backup_errors(path)
    if errors:
        raise errors[0]
    manifest = read_manifest(path)
    assert manifest is not None
    return manifest
