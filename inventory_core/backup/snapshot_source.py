"""A snapshot's folder or zip, and its manifest: read from inside the snapshot, and only there.

The manifest names each table's file. The import reads a name only when it is a plain
``.csv`` file name (letters, digits, ``_ . -``, no leading dot, no separator), directly inside
the folder or at the top of the zip: ``../src.db``, an absolute path, ``manifest.json`` or a
name with a NUL is refused before anything is opened. In a folder the file must be a regular
file, opened without following a symlink (``O_NOFOLLOW``), so a link cannot lead outside.

A zip is looked at before :mod:`zipfile` parses it: its end record must announce at most
:data:`MAX_ZIP_ENTRIES` entries in a central directory of at most :data:`MAX_DIRECTORY_BYTES`,
so a crafted archive of millions of entries costs one small read. Every entry name must stay
inside the archive (no absolute path, drive, backslash or ``..``) and appear once, even
entries the manifest does not name: a zip that other tools would unpack outside its folder is
not a snapshot.
"""

from __future__ import annotations

import json
import os
import re
import stat
import struct
import zipfile
import zlib
from dataclasses import dataclass
from pathlib import Path, PurePosixPath
from types import TracebackType
from typing import Any

from sqlalchemy import Table

from inventory_core.backup.snapshot_cells import NOWHERE, at, show
from inventory_core.errors import (
    SnapshotArchiveError,
    SnapshotError,
    SnapshotManifestError,
    SnapshotMismatchError,
    SnapshotPathError,
)
from inventory_core.errors.i18n import N_, gettext

MANIFEST = "manifest.json"
MAX_ZIP_ENTRIES = 256
"""A snapshot holds one file per table, the manifest and the README: far fewer than this."""
MAX_DIRECTORY_BYTES = 1 << 20
MAX_MANIFEST_BYTES = 1 << 20
FORMAT = 1
TABLE_FILE = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.-]{0,123}\.csv")
_SHA256 = re.compile(r"[0-9a-f]{64}")
_TOO_LARGE = N_("too large to read into memory")
_END = b"PK\x05\x06"
_END64_LOCATOR = b"PK\x06\x07"


@dataclass(frozen=True)
class Entry:
    """What the manifest says about one table's file."""

    file: str
    rows: int
    sha256: str


@dataclass(frozen=True)
class Manifest:
    """The parts of manifest.json the import relies on, checked for type and shape."""

    schema_revision: str
    tables: dict[str, Entry]


class SnapshotSource:
    """A snapshot folder or zip file, read the same way; use it as a context manager."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.where = str(path)
        self.archive: zipfile.ZipFile | None = None
        if not path.exists():
            raise SnapshotError(gettext("it does not exist"), path=self.where, **at(path.name))
        if not path.is_dir():
            self.archive = self._open_zip()

    def __enter__(self) -> SnapshotSource:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        if self.archive is not None:
            self.archive.close()

    def _open_zip(self) -> zipfile.ZipFile:
        here = at(self.path.name)
        entries, directory = _announced(self.path)
        if entries > MAX_ZIP_ENTRIES or directory > MAX_DIRECTORY_BYTES:
            raise SnapshotArchiveError(
                gettext(
                    "it announces {entries} entries in {directory} bytes of directory; a snapshot "
                    "has at most {max_zip_entries}"
                ).format(entries=entries, directory=directory, max_zip_entries=MAX_ZIP_ENTRIES),
                path=self.where,
                **here,
            )
        try:
            archive = zipfile.ZipFile(self.path)
        except (zipfile.BadZipFile, zipfile.LargeZipFile, OSError, ValueError) as exc:
            raise SnapshotError(
                gettext("not a folder or a zip file"), path=self.where, **here
            ) from exc
        names = archive.namelist()
        problem: SnapshotError | None = None
        if len(names) > MAX_ZIP_ENTRIES:
            problem = SnapshotArchiveError(
                gettext("it holds {count} entries").format(count=len(names)),
                path=self.where,
                **here,
            )
        elif len(set(names)) != len(names):
            problem = SnapshotArchiveError(
                gettext("an entry name appears twice"), path=self.where, **here
            )
        for name in names:
            if problem is None and not _inside(name):
                problem = SnapshotPathError(
                    gettext("the zip holds an entry whose name leads outside it"),
                    path=self.where,
                    **at(name),
                )
        if problem is not None:
            archive.close()
            raise problem
        return archive

    def read(self, name: str, *, limit: int | None = None) -> bytes:
        """The bytes of the snapshot file ``name``, read from inside the snapshot only.

        Raises:
            SnapshotPathError: ``name`` is not a plain file name, or not a regular file.
            SnapshotMismatchError: there is no such file.
            SnapshotArchiveError: the zip entry is damaged, encrypted or compressed oddly.
        """
        if self.archive is not None:
            return self._read_entry(name, limit)
        try:
            handle = os.open(self.path / name, os.O_RDONLY | getattr(os, "O_NOFOLLOW", 0))
        except FileNotFoundError as exc:
            raise SnapshotMismatchError(
                gettext("{name} is missing").format(name=name), path=self.where, **at(name)
            ) from exc
        except OSError as exc:
            raise SnapshotPathError(
                gettext("it is not a regular file inside the folder ({strerror})").format(
                    strerror=exc.strerror
                ),
                path=self.where,
                **at(name),
            ) from exc
        with os.fdopen(handle, "rb") as stream:
            if not stat.S_ISREG(os.fstat(stream.fileno()).st_mode):
                raise SnapshotPathError(
                    gettext("it is not a regular file"), path=self.where, **at(name)
                )
            try:
                data = stream.read(-1 if limit is None else limit + 1)
            except MemoryError:
                raise SnapshotError(gettext(_TOO_LARGE), path=self.where, **at(name)) from None
        if limit is not None and len(data) > limit:
            raise SnapshotManifestError(
                gettext("larger than {limit} bytes").format(limit=limit),
                path=self.where,
                **at(name, NOWHERE, NOWHERE),
            )
        return data

    def _read_entry(self, name: str, limit: int | None) -> bytes:
        assert self.archive is not None
        try:
            info = self.archive.getinfo(name)
        except KeyError as exc:
            raise SnapshotMismatchError(
                gettext("{name} is missing").format(name=name), path=self.where, **at(name)
            ) from exc
        if limit is not None and info.file_size > limit:
            raise SnapshotManifestError(
                gettext("larger than {limit} bytes").format(limit=limit),
                path=self.where,
                **at(name),
            )
        try:
            with self.archive.open(info) as stream:
                return stream.read()
        except MemoryError:
            detail = gettext("{problem} ({size} bytes once decompressed)").format(
                problem=gettext(_TOO_LARGE), size=info.file_size
            )
            raise SnapshotArchiveError(detail, path=self.where, **at(name)) from None
        except (zipfile.BadZipFile, RuntimeError, NotImplementedError, EOFError) as exc:
            raise SnapshotArchiveError(str(exc), path=self.where, **at(name)) from exc
        except (zlib.error, OSError, ValueError) as exc:
            raise SnapshotArchiveError(str(exc), path=self.where, **at(name)) from exc


def _inside(name: str) -> bool:
    """True when a zip entry name stays inside the archive on every system."""
    if not name or "\\" in name or "\x00" in name or name.startswith("/") or ":" in name:
        return False
    return ".." not in PurePosixPath(name).parts


def _announced(path: Path) -> tuple[int, int]:
    """(entries, central directory bytes) a zip's end record announces; (0, 0) if none found.

    Read from the last 64 KiB (the end record and its comment); a zip64 end record, when
    its locator is present, takes precedence, as it does for :mod:`zipfile`.
    """
    try:
        with path.open("rb") as stream:
            size = stream.seek(0, os.SEEK_END)
            start = max(0, size - (1 << 16) - 22)
            stream.seek(start)
            tail = stream.read()
            end = tail.rfind(_END)
            if end < 0 or len(tail) - end < 22:
                return 0, 0
            _, _, _, _, entries, directory, _, _ = struct.unpack("<4s4H2LH", tail[end : end + 22])
            locator = tail.rfind(_END64_LOCATOR, 0, end)
            if locator >= 0 and end - locator == 20:
                offset = struct.unpack("<Q", tail[locator + 8 : locator + 16])[0]
                stream.seek(offset)
                record = stream.read(56)
                if len(record) == 56 and record[:4] == b"PK\x06\x06":
                    entries, directory = struct.unpack("<QQ", record[32:48])
            return int(entries), int(directory)
    except (OSError, struct.error):
        return 0, 0


def _pairs(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    keys = [key for key, _ in pairs]
    if len(set(keys)) != len(keys):
        twice = sorted({key for key in keys if keys.count(key) > 1})
        raise ValueError(gettext("key {twice} appears twice").format(twice=show(twice[0])))
    return dict(pairs)


def _constant(name: str) -> None:
    raise ValueError(gettext("{name} is not a JSON number").format(name=name))


def read_manifest(source: SnapshotSource, tables: list[Table]) -> Manifest:
    """manifest.json, checked for the shape the export writes.

    Raises:
        SnapshotManifestError: not a JSON object of that shape (the key is named).
        SnapshotMismatchError: it lists other tables than the schema has.
        SnapshotPathError: a table's file is not a plain ``.csv`` name.
    """
    raw = source.read(MANIFEST, limit=MAX_MANIFEST_BYTES)
    try:
        data = json.loads(
            raw.decode("utf-8-sig"), object_pairs_hook=_pairs, parse_constant=_constant
        )
    except (ValueError, RecursionError) as exc:
        detail = "nesting too deep" if isinstance(exc, RecursionError) else str(exc)
        raise _bad(
            "(whole file)", gettext("not JSON: {detail_text}").format(detail_text=detail), source
        ) from None

    if not isinstance(data, dict):
        raise _bad(
            "(whole file)",
            gettext("a JSON {type}, not an object").format(type=type(data).__name__),
            source,
        )
    found = data.get("format")
    if type(found) is not int or found != FORMAT:
        raise _bad(
            "format",
            gettext("format {found} is not {format}").format(found=show(str(found)), format=FORMAT),
            source,
        )
    revision = data.get("schema_revision")
    if not isinstance(revision, str):
        raise _bad("schema_revision", gettext("missing or not text"), source)
    listed = data.get("tables")
    if not isinstance(listed, dict):
        raise _bad("tables", gettext("missing or not an object of table -> file"), source)
    expected = {t.name for t in tables}
    if set(listed) != expected:
        raise SnapshotMismatchError(
            gettext("tables {value} differ from the schema").format(
                value=sorted(set(listed) ^ expected)
            ),
            path=source.where,
            **at(MANIFEST, NOWHERE, "tables"),
        )
    entries = {t.name: _entry(t, listed[t.name], source) for t in tables}
    files = [entry.file for entry in entries.values()]
    if len(set(files)) != len(files):
        raise _bad("tables", gettext("two tables name the same file"), source)
    return Manifest(schema_revision=revision, tables=entries)


def _entry(table: Table, raw: Any, source: SnapshotSource) -> Entry:
    key = f"tables.{table.name}"
    if not isinstance(raw, dict):
        raise _bad(key, gettext("not an object with file, rows, sha256 and columns"), source)
    file, rows, digest, columns = (raw.get(k) for k in ("file", "rows", "sha256", "columns"))
    if not isinstance(file, str):
        raise _bad(f"{key}.file", gettext("missing or not text"), source)
    if not TABLE_FILE.fullmatch(file):
        raise SnapshotPathError(
            gettext("a table's file must be a plain .csv file name inside the snapshot"),
            path=source.where,
            **at(file if file.isprintable() and file.isascii() else show(file), NOWHERE, key),
        )
    if isinstance(rows, bool) or not isinstance(rows, int) or rows < 0:
        raise _bad(f"{key}.rows", gettext("missing or not a whole number >= 0"), source)
    if not isinstance(digest, str) or not _SHA256.fullmatch(digest):
        raise _bad(f"{key}.sha256", gettext("missing or not a sha256 in hex"), source)
    if columns != [c.name for c in table.columns]:
        raise _bad(
            f"{key}.columns", gettext("missing or not the table's columns, in order"), source
        )
    return Entry(file=file, rows=rows, sha256=digest)


def _bad(key: str, detail: str, source: SnapshotSource) -> SnapshotManifestError:
    return SnapshotManifestError(detail, path=source.where, **at(MANIFEST, NOWHERE, key))


__all__ = [
    "MANIFEST",
    "MAX_ZIP_ENTRIES",
    "Entry",
    "Manifest",
    "SnapshotSource",
    "read_manifest",
]
