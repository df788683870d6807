"""Existing databases near a path that does not exist: the "did you mean" of ``IO_003``.

A mistyped ``--db`` is usually one or two letters off (``shop.bd``, ``/srv/shpo/shop.db``) or
names the right folder and the wrong file. So the suggestions are the SQLite files of that
folder whose name is a close spelling, then its other database files; or, when a folder on
the way is what is missing, the same path through the folders of a close spelling.
"""

from __future__ import annotations

import itertools
from difflib import get_close_matches
from pathlib import Path

SQLITE_HEADER = b"SQLite format 3\x00"
"""The first 16 bytes of every SQLite database file."""
DATABASE_SUFFIXES = (".db", ".sqlite", ".sqlite3")
SIDE_FILES = ("-wal", "-shm", "-journal", ".restore-old", ".restore-new")
MAX_ENTRIES = 2000
"""Entries of one folder looked at: a huge folder is not worth listing for a hint."""
CUTOFF = 0.6
"""Similarity (difflib's ratio) from which a name counts as a close spelling."""


def nearby_databases(path: Path, limit: int = 3) -> list[Path]:
    """Up to ``limit`` existing SQLite files whose path is close to the missing ``path``."""
    folder, missing = path, []
    while not folder.exists():
        if folder.parent == folder:
            return []
        missing.append(folder.name)
        folder = folder.parent
    if not folder.is_dir() or not missing:
        return []
    first, *rest = reversed(missing)
    try:
        entries = list(itertools.islice(folder.iterdir(), MAX_ENTRIES))
    except OSError:
        return []
    if rest:
        folders = [e.name for e in entries if e.is_dir()]
        close = get_close_matches(first, folders, n=limit, cutoff=CUTOFF)
        return [c for c in (folder.joinpath(name, *rest) for name in close) if _is_sqlite(c)]
    files = sorted(e for e in entries if not e.name.endswith(SIDE_FILES) and e.is_file())
    close = get_close_matches(first, [f.name for f in files], n=limit, cutoff=CUTOFF)
    by_spelling = [folder / name for name in close]
    others = [f for f in files if f.suffix.lower() in DATABASE_SUFFIXES and f.name not in close]
    return [c for c in by_spelling + others if _is_sqlite(c)][:limit]


def _is_sqlite(path: Path) -> bool:
    try:
        with path.open("rb") as handle:
            return handle.read(len(SQLITE_HEADER)) == SQLITE_HEADER
    except OSError:
        return False


__all__ = ["nearby_databases"]
