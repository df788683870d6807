"""The error catalogue: translation of real driver errors, codes, languages and the docs page."""

from __future__ import annotations

import errno
import os
import re
import sqlite3
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import create_engine, text
from sqlalchemy import exc as sa_exc

from inventory_core import Database, error_docs, errors
from inventory_core.errors import (
    AppendOnlyViolationError,
    ConstraintViolationError,
    CorruptDatabaseError,
    DatabaseLockedError,
    DiskFullError,
    DiskIOError,
    DuplicateError,
    ForeignKeyViolationError,
    InventoryError,
    NotADatabaseError,
    NotMigratedError,
    PathIsDirectoryError,
    ReadOnlyDatabaseError,
    SerializationConflictError,
    is_retryable,
    translate,
)
from inventory_core.models import metadata
from tests.db_support import test_settings

DOCS = Path(__file__).resolve().parents[1] / "docs"


def _caught(action: Callable[[], Any]) -> BaseException:
    """Run ``action`` and return what it raised (it must raise)."""
    try:
        action()
    except BaseException as exc:
        return exc
    raise AssertionError("expected an error")


def _sku(uow: Any, sku: str = "A", pack_size: int = 1) -> None:
    uow.execute(
        text("INSERT INTO skus(sku, pack_size, created_at, updated_at) VALUES (:s, :p, '', '')"),
        {"s": sku, "p": pack_size},
    )


# --- schema rules, through the unit of work, on SQLite and PostgreSQL -----------------------


def test_unique_violation_is_a_duplicate_error(any_db: Database) -> None:
    """Inserting the same SKU twice gives DuplicateError (REPO_002)."""
    any_db.run(_sku)
    with pytest.raises(DuplicateError) as caught:
        any_db.run(_sku)
    assert caught.value.code == "REPO_002"
    assert caught.value.__cause__ is not None


def test_foreign_key_violation_is_translated(any_db: Database) -> None:
    """A row naming a SKU that does not exist gives ForeignKeyViolationError (REPO_003)."""
    insert = text(
        "INSERT INTO order_logs(sku, qty_ordered, qty_received, order_date, status, "
        "created_at, updated_at) VALUES ('GHOST', 5, 0, '2026-01-01', 'PENDING', '', '')"
    )
    with pytest.raises(ForeignKeyViolationError) as caught:
        any_db.run(lambda uow: uow.execute(insert))
    assert caught.value.code == "REPO_003"


def test_check_violation_is_a_constraint_error(any_db: Database) -> None:
    """A SKU with pack_size 0 breaks a CHECK and gives ConstraintViolationError (REPO_004)."""
    with pytest.raises(ConstraintViolationError) as caught:
        any_db.run(lambda uow: _sku(uow, pack_size=0))
    assert caught.value.code == "REPO_004"
    assert "pack_size" in caught.value.message


def test_not_null_violation_is_a_constraint_error(any_db: Database) -> None:
    """A NULL in a required column gives ConstraintViolationError (REPO_004)."""
    insert = text("INSERT INTO settings(key, value, updated_at) VALUES ('k', NULL, '')")
    with pytest.raises(ConstraintViolationError):
        any_db.run(lambda uow: uow.execute(insert))


def test_missing_table_is_a_not_migrated_error(any_url: str) -> None:
    """Querying a database that was never migrated gives NotMigratedError (DB_011)."""
    db = Database.open(any_url, settings=test_settings())
    with pytest.raises(NotMigratedError) as caught, db.read() as uow:
        uow.execute(text("SELECT count(*) FROM skus"))
    db.close()
    assert caught.value.code == "DB_011"


def test_append_only_trigger_is_translated(any_db: Database) -> None:
    """Deleting from the audit log is refused with AppendOnlyViolationError (REPO_005)."""
    audit_log = metadata.tables["audit_log"]
    row = {"operation": "TEST", "user": "u", "run_id": "r", "prev_hash": "0", "hash": "1"}
    any_db.run(lambda uow: uow.execute(audit_log.insert().values(**row)))
    with pytest.raises(AppendOnlyViolationError) as caught:
        any_db.run(lambda uow: uow.execute(text("DELETE FROM audit_log")))
    assert caught.value.code == "REPO_005"
    with any_db.read() as uow:
        assert uow.execute(text("SELECT count(*) FROM audit_log")).scalar_one() == 1


# --- SQLite engine-level failures, each produced for real ------------------------------------


def _small_db(path: Path) -> None:
    conn = sqlite3.connect(path)
    conn.execute("CREATE TABLE t(x TEXT)")
    conn.executemany("INSERT INTO t VALUES (?)", [("x" * 1000,)] * 200)
    conn.commit()
    conn.close()


def test_busy_is_a_locked_error_and_retryable(tmp_path: Path) -> None:
    """SQLITE_BUSY from a second writer becomes DatabaseLockedError and is retryable."""
    path = tmp_path / "a.db"
    _small_db(path)
    holder = sqlite3.connect(path, isolation_level=None)
    holder.execute("BEGIN IMMEDIATE")
    other = sqlite3.connect(path, isolation_level=None, timeout=0.05)
    raised = _caught(lambda: other.execute("BEGIN IMMEDIATE"))
    holder.execute("ROLLBACK")
    error = translate(raised)
    assert isinstance(error, DatabaseLockedError) and error.code == "DB_002"
    assert is_retryable(raised) and is_retryable(error)


def test_table_locked_is_a_locked_error(tmp_path: Path) -> None:
    """SQLITE_LOCKED (a table dropped under a running SELECT) becomes DatabaseLockedError."""
    path = tmp_path / "a.db"
    _small_db(path)
    conn = sqlite3.connect(path, isolation_level=None)
    cursor = conn.execute("SELECT x FROM t")
    cursor.fetchone()
    raised = _caught(lambda: conn.execute("DROP TABLE t"))
    conn.close()
    assert getattr(raised, "sqlite_errorname", "").startswith("SQLITE_LOCKED")
    assert isinstance(translate(raised), DatabaseLockedError)


def test_read_only_connection_write_is_a_read_only_error(tmp_path: Path) -> None:
    """Writing through a read-only connection gives ReadOnlyDatabaseError (DB_008)."""
    path = tmp_path / "a.db"
    _small_db(path)
    conn = sqlite3.connect(f"{path.as_uri()}?mode=ro", uri=True)
    raised = _caught(lambda: conn.execute("INSERT INTO t VALUES ('y')"))
    conn.close()
    assert isinstance(translate(raised, path=str(path)), ReadOnlyDatabaseError)


def test_full_database_is_a_disk_full_error(db: Database) -> None:
    """Hitting max_page_count (SQLITE_FULL) inside a unit gives DiskFullError, nothing kept."""

    def fill(uow: Any) -> None:
        pages = uow.connection.exec_driver_sql("PRAGMA page_count").scalar()
        uow.connection.exec_driver_sql(f"PRAGMA max_page_count={pages + 2}")
        for n in range(100):
            uow.execute(
                text("INSERT INTO settings(key, value, updated_at) VALUES (:k, :v, '')"),
                {"k": f"k{n}", "v": "x" * 4000},
            )

    with pytest.raises(DiskFullError) as caught:
        db.run(fill)
    assert caught.value.code == "DB_009"
    with db.read() as uow:
        assert uow.execute(text("SELECT count(*) FROM settings")).scalar_one() == 0


def test_enospc_from_the_os_is_a_disk_full_error() -> None:
    """ENOSPC from a real write (to /dev/full) becomes DiskFullError."""
    if not os.path.exists("/dev/full"):
        pytest.skip("needs /dev/full")

    def write() -> None:
        with open("/dev/full", "wb", buffering=0) as handle:
            handle.write(b"x")

    raised = _caught(write)
    assert isinstance(raised, OSError) and raised.errno == errno.ENOSPC
    assert isinstance(translate(raised), DiskFullError)


def test_disk_io_error_is_translated(tmp_path: Path) -> None:
    """A real read failure under SQLite (its file descriptor swapped for a folder) is DB_010."""
    path = tmp_path / "a.db"
    _small_db(path)
    conn = sqlite3.connect(path)
    fds = [
        int(fd)
        for fd in os.listdir("/proc/self/fd")
        if os.path.realpath(f"/proc/self/fd/{fd}") == str(path.resolve())
    ]
    if not fds:
        pytest.skip("needs /proc/self/fd to find SQLite's descriptor")
    folder = os.open(tmp_path, os.O_RDONLY)
    os.dup2(folder, fds[0])
    os.close(folder)
    raised = _caught(lambda: conn.execute("SELECT count(*) FROM t").fetchone())
    conn.close()
    assert getattr(raised, "sqlite_errorname", "").startswith("SQLITE_IOERR")
    assert isinstance(translate(raised), DiskIOError)


def test_malformed_database_is_a_corrupt_error(tmp_path: Path) -> None:
    """Garbage written over the table's pages gives CorruptDatabaseError (DB_007)."""
    path = tmp_path / "a.db"
    _small_db(path)
    data = bytearray(path.read_bytes())
    page = int.from_bytes(data[16:18], "big")
    data[page : page * 4] = b"\xa5" * (page * 3)
    path.write_bytes(bytes(data))
    conn = sqlite3.connect(path)
    raised = _caught(lambda: conn.execute("SELECT count(*), max(x) FROM t").fetchone())
    conn.close()
    assert isinstance(translate(raised, path=str(path)), CorruptDatabaseError)


def test_not_a_database_is_translated(tmp_path: Path) -> None:
    """Reading a text file through sqlite3 (SQLITE_NOTADB) gives NotADatabaseError (DB_006)."""
    path = tmp_path / "notes.txt"
    path.write_text("not a database\n" * 100)
    conn = sqlite3.connect(path)
    raised = _caught(lambda: conn.execute("SELECT * FROM sqlite_master").fetchall())
    conn.close()
    assert isinstance(translate(raised, path=str(path)), NotADatabaseError)


def test_a_directory_is_a_path_is_directory_error(tmp_path: Path) -> None:
    """Opening a folder as a file (IsADirectoryError) gives PathIsDirectoryError (IO_002)."""
    raised = _caught(lambda: open(tmp_path, "rb"))  # noqa: SIM115
    assert isinstance(translate(raised, path=str(tmp_path)), PathIsDirectoryError)


def test_sqlalchemy_wrapped_errors_are_unwrapped(tmp_path: Path) -> None:
    """An error wrapped by SQLAlchemy is translated from its DBAPI original."""
    engine = create_engine(f"sqlite:///{tmp_path / 'a.db'}")
    with engine.connect() as conn:
        raised = _caught(lambda: conn.execute(text("SELECT * FROM nowhere")))
    engine.dispose()
    assert isinstance(raised, sa_exc.OperationalError)
    assert isinstance(translate(raised), NotMigratedError)


def test_translate_db_errors_chains_the_original() -> None:
    """translate_db_errors re-raises with the driver error as __cause__ and leaves others."""
    original = sqlite3.OperationalError("database is locked")
    with pytest.raises(DatabaseLockedError) as caught, errors.translate_db_errors(path="p"):
        raise original
    assert caught.value.__cause__ is original
    with pytest.raises(KeyError), errors.translate_db_errors():
        raise KeyError("not a database error")


# --- PostgreSQL serialization failures ---------------------------------------------------------


@pytest.mark.postgres
def test_postgresql_serialization_failure_is_retryable(pg_url: str) -> None:
    """Two SERIALIZABLE transactions updating one row give 40001, translated and retryable."""
    engine = create_engine(pg_url, isolation_level="SERIALIZABLE")
    with engine.begin() as conn:
        conn.execute(text("CREATE TABLE c(id int primary key, n int)"))
        conn.execute(text("INSERT INTO c VALUES (1, 0)"))
    first, second = engine.connect(), engine.connect()
    try:
        first.execute(text("SELECT n FROM c WHERE id = 1")).scalar()
        second.execute(text("UPDATE c SET n = n + 1 WHERE id = 1"))
        second.commit()
        raised = _caught(lambda: first.execute(text("UPDATE c SET n = n + 1 WHERE id = 1")))
        first.rollback()
    finally:
        first.close()
        second.close()
        engine.dispose()
    assert getattr(getattr(raised, "orig", None), "sqlstate", None) == "40001"
    error = translate(raised)
    assert isinstance(error, SerializationConflictError) and error.code == "DB_012"
    assert is_retryable(raised)


# --- the catalogue -----------------------------------------------------------------------------


def test_every_code_is_unique_and_in_its_family() -> None:
    """Codes are unique, look like FAMILY_NNN, and the family is a documented one."""
    codes = [cls.code for cls in errors.catalogue()]
    assert len(codes) == len(set(codes))
    for code in codes:
        assert re.fullmatch(r"[A-Z]+_\d{3}", code), code
        assert error_docs.family_of(code) in error_docs.FAMILIES, code


def test_every_class_has_a_docstring_and_both_languages() -> None:
    """Each error class has a docstring, and a message and steps in English and Italian."""
    for cls in errors.catalogue():
        assert cls.__doc__ and cls.__doc__.strip().endswith("."), cls
        for lang in errors.LANGUAGES:
            assert cls.template[lang].strip(), (cls, lang)
            assert cls.steps[lang] and all(s.strip() for s in cls.steps[lang]), (cls, lang)
        assert len(cls.steps["en"]) == len(cls.steps["it"]), cls


def test_language_follows_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    """INVENTORY_CORE_LANG=it switches message and steps to Italian at run time."""
    error = DatabaseLockedError(attempts=3, waited_s=1.5)
    english = (error.message, error.recovery_steps)
    monkeypatch.setenv("INVENTORY_CORE_LANG", "it")
    assert "bloccato" in error.message and "3 tentativi" in error.message
    assert (error.message, error.recovery_steps) != english
    assert str(error).startswith("[DB_002] ")


def test_messages_fill_context_and_keep_unknown_placeholders() -> None:
    """Context fills the template; a missing key stays visible instead of crashing."""
    error = DatabaseLockedError(attempts=4)
    assert "4 attempts" in error.message
    assert "{waited_s}" in error.message
    assert error.to_dict()["code"] == "DB_002"


def test_errors_md_is_in_step_with_the_code() -> None:
    """docs/errors.md equals what `python -m inventory_core.error_docs` renders now."""
    page = (DOCS / "errors.md").read_text(encoding="utf-8")
    assert page == error_docs.render(), "run: python -m inventory_core.error_docs"
    for cls in errors.catalogue():
        assert f"### {cls.code} {cls.__name__}" in page


def test_error_docs_check_mode_detects_a_stale_page(tmp_path: Path) -> None:
    """`error_docs --check` fails on a stale page and passes on a fresh one."""
    page = tmp_path / "errors.md"
    page.write_text("# stale\n")
    assert error_docs.main(["--check", "--output", str(page)]) == 1
    assert error_docs.main(["--output", str(page)]) == 0
    assert error_docs.main(["--check", "--output", str(page)]) == 0


def _anchors(markdown: str) -> set[str]:
    """GitHub-style anchors of the headings of a Markdown page."""
    anchors = set()
    for line in markdown.splitlines():
        if line.startswith("#"):
            title = line.lstrip("#").strip().lower()
            slug = re.sub(r"[^\w\- ]", "", title).replace(" ", "-")
            anchors.add(slug)
    return anchors


def test_every_runbook_anchor_exists_in_the_runbook() -> None:
    """Each error's runbook link names a heading that exists in docs/runbook.md."""
    anchors = _anchors((DOCS / "runbook.md").read_text(encoding="utf-8"))
    linked = {cls.runbook for cls in errors.catalogue() if cls.runbook}
    assert linked
    for link in linked:
        page, _, anchor = link.partition("#")
        assert page == "runbook.md", link
        assert anchor in anchors, f"{link} has no heading in docs/runbook.md"


def test_every_runbook_entry_names_the_codes_that_link_to_it() -> None:
    """A runbook entry lists every error code whose runbook link points at it."""
    runbook = (DOCS / "runbook.md").read_text(encoding="utf-8")
    sections = re.split(r"^## ", runbook, flags=re.MULTILINE)
    by_anchor = {_anchors("## " + s.splitlines()[0]).pop(): s for s in sections[1:]}
    for cls in errors.catalogue():
        if cls.runbook:
            anchor = cls.runbook.partition("#")[2]
            assert cls.code in by_anchor[anchor], f"{cls.code} missing from #{anchor}"


def test_inventory_error_is_the_base_of_every_class() -> None:
    """Everything in the catalogue derives from InventoryError."""
    assert all(issubclass(cls, InventoryError) for cls in errors.catalogue())
