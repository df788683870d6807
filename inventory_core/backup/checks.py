"""Checking a backup file before it is restored: every reason it cannot be, with its own code.

The checks read the file, never trust the manifest alone: the sha256, SQLite's
``integrity_check`` (and ``foreign_key_check``), the schema revision, every manifest claim
compared with the file (:mod:`inventory_core.backup.claims`), the backup's own audit chain,
and whether it is a backup of this database at all.
"""

from __future__ import annotations

import sqlite3
from dataclasses import dataclass
from pathlib import Path

from inventory_core.backup import postgres
from inventory_core.backup.claims import (
    FileFacts,
    Identity,
    chain_error,
    claim_errors,
    dump_file_facts,
    identity_error,
    read_facts,
)
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
from inventory_core.errors.i18n import gettext as _


@dataclass(frozen=True)
class Checked:
    """A backup that passed every check: its manifest, its sha256 and what the file holds
    (``facts`` is None for a PostgreSQL dump, which cannot be read without restoring it)."""

    path: Path
    manifest: Manifest
    sha256: str
    facts: FileFacts | None


@dataclass(frozen=True)
class Findings:
    """The outcome of :func:`examine`: the problems, and the facts read on the way."""

    errors: list[RestoreError]
    sha256: str | None = None
    facts: FileFacts | None = None


def backup_errors(
    path: Path, *, live: Identity | None = None, allow_other_database: bool = False
) -> list[RestoreError]:
    """Every reason ``path`` cannot be restored (empty when it is a good backup).

    Args:
        path: the backup; its manifest sits next to it.
        live: the identity of the database it would be restored over (None: not checked).
        allow_other_database: accept a backup of another database.
    """
    return examine(path, live=live, allow_other_database=allow_other_database).errors


def examine(
    path: Path,
    *,
    live: Identity | None = None,
    allow_other_database: bool = False,
    source: Path | None = None,
    sha256: str | None = None,
) -> Findings:
    """Every reason ``path`` cannot be restored, and the facts read from it on the way.

    Args:
        path: the backup, as named in errors; its manifest sits next to it.
        live: the identity of the database it would be restored over (None: not checked).
        allow_other_database: accept a backup of another database.
        source: the file to read instead of ``path`` (a restore's private staged copy, so
            that what is checked is exactly what is restored).
        sha256: the sha256 of ``source`` when the caller computed it while copying.
    """
    if path.is_dir():
        return Findings([RestorePathIsDirectoryError(path=str(path))])
    if not path.exists():
        return Findings([RestoreMissingError(path=str(path))])
    source = source or path
    manifest = read_manifest(path)
    errors: list[RestoreError] = []
    broken = None if path.suffix == ".dump" else structural_error(source)
    if broken is not None:
        errors.append(broken)
    if manifest is None:
        errors.append(
            RestoreManifestMissingError(path=str(path), manifest=manifest_path(path).name)
        )
    if path.suffix == ".dump":
        return _dump_findings(path, manifest, errors, live, allow_other_database)
    if broken is not None:
        return Findings(errors)
    actual = sha256 or sha256_file(source)
    proven = False
    if manifest is not None:
        proven = actual == manifest.sha256 and manifest.verified
        if actual != manifest.sha256:
            errors.append(
                RestoreChecksumError(path=str(path), actual=actual, expected=manifest.sha256)
            )
    conn = open_readonly(source)
    try:
        wrong = schema_error(conn, path)
        if wrong is not None:
            return Findings([*errors, wrong], actual)
        problems = content_problems(conn, foreign_keys=not proven)
        facts = None if problems else read_facts(conn)
    except sqlite3.DatabaseError as exc:
        problems, facts = [str(exc)], None
    finally:
        conn.close()
    if problems:
        errors.append(RestoreError("; ".join(problems), path=str(path)))
    if facts is None:
        return Findings(errors, actual)
    if manifest is not None:
        errors.extend(claim_errors(path, manifest, facts, size=source.stat().st_size))
        broken_chain = chain_error(path, manifest, source)
        if broken_chain is not None:
            errors.append(broken_chain)
    if live is not None:
        other = identity_error(path, facts, live, allow_other_database=allow_other_database)
        if other is not None:
            errors.append(other)
    return Findings(errors, actual, facts)


def _dump_findings(
    path: Path,
    manifest: Manifest | None,
    errors: list[RestoreError],
    live: Identity | None,
    allow_other_database: bool,
) -> Findings:
    """A ``pg_dump`` archive: checksum, readability, and its claims read from its data.

    Its audit chain cannot be walked without restoring it; the restore walks it on the
    restored database before it lets any writer in (:mod:`.server_restore`).
    """
    actual = sha256_file(path)
    if manifest is not None and actual != manifest.sha256:
        errors.append(RestoreChecksumError(path=str(path), actual=actual, expected=manifest.sha256))
    problem = postgres.check_archive(path)
    if problem is not None:
        errors.append(
            RestoreError(
                _("not a pg_dump archive: {problem}").format(problem=problem), path=str(path)
            )
        )
        return Findings(errors, actual)
    facts = dump_file_facts(path)
    revision = facts.schema_revision
    if revision is not None and revision not in migrations.known_revisions():
        errors.append(
            RestoreSchemaTooNewError(
                found=revision, expected=migrations.head_revision(), path=str(path)
            )
        )
    if manifest is not None:
        errors.extend(
            claim_errors(path, manifest, facts, size=path.stat().st_size, dialect="postgresql")
        )
    if live is not None:
        other = identity_error(path, facts, live, allow_other_database=allow_other_database)
        if other is not None:
            errors.append(other)
    return Findings(errors, actual, facts)


def check_backup(
    path: Path,
    *,
    live: Identity | None = None,
    allow_other_database: bool = False,
    source: Path | None = None,
    sha256: str | None = None,
) -> Checked:
    """The backup's manifest, sha256 and facts once every check passed.

    Raises:
        RestoreError: the first problem found, as its own subclass and code.
    """
    found = examine(
        path,
        live=live,
        allow_other_database=allow_other_database,
        source=source,
        sha256=sha256,
    )
    if found.errors:
        raise found.errors[0]
    manifest = read_manifest(path)
    assert manifest is not None
    digest = found.sha256 or manifest.sha256
    return Checked(path, manifest, digest, found.facts)
