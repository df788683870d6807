"""Many stores on one PostgreSQL server: one schema each, and nothing crosses between them."""

from __future__ import annotations

import shutil
import subprocess
import sys
import threading
from collections.abc import Iterator
from datetime import date
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text

from inventory_core import Database, Inventory, ReceiptLine, Settings, errors
from inventory_core.audit import verify
from inventory_core.backup import BackupService
from inventory_core.backup.csv_import import import_csv
from inventory_core.backup.csv_snapshot import export_csv
from inventory_core.db.chain_head import PG_AUDIT_LOCK_KEY
from inventory_core.db.stores import store_lock_key
from inventory_core.invariants import check_all
from tests.db_support import test_settings

pytestmark = pytest.mark.postgres

REPO = Path(__file__).resolve().parents[1]
D1, D2, D3 = date(2026, 2, 1), date(2026, 2, 2), date(2026, 2, 10)


def _open(url: str, schema: str) -> Database:
    db = Database.open(url, settings=test_settings(), schema=schema)
    db.upgrade()
    return db


@pytest.fixture
def two_stores(pg_url: str) -> Iterator[tuple[Database, Database]]:
    """Stores ``shop_a`` and ``shop_b``, migrated, in one fresh server database."""
    a, b = _open(pg_url, "shop_a"), _open(pg_url, "shop_b")
    yield a, b
    a.close()
    b.close()


def _raw(url: str, sql: str) -> list[tuple[object, ...]]:
    engine = create_engine(url)
    try:
        with engine.connect() as conn:
            return [tuple(row) for row in conn.execute(text(sql))]
    finally:
        engine.dispose()


def _schemas(url: str) -> set[str]:
    return {str(row[0]) for row in _raw(url, "SELECT nspname FROM pg_namespace")}


def _workload(db: Database, sku: str, qty: int) -> None:
    inv = Inventory(db, user=f"op_{db.schema}")
    inv.add_sku(sku, f"{sku} item", pack_size=1, moq=1, lead_time_days=2)
    inv.snapshot(sku, qty, on=D1)
    order_id = inv.order(sku, 10, on=D1, expected=D2)
    inv.receive(f"DDT-{sku}", [ReceiptLine(sku, 10, order_id=order_id)], on=D2)
    inv.sell(sku, 3, on=D2)


def test_two_stores_side_by_side_share_nothing(
    pg_url: str, two_stores: tuple[Database, Database]
) -> None:
    """Ledger, audit chain, positions and health of one store never show the other's."""
    a, b = two_stores
    _workload(a, "BIRRA", 100)
    _workload(b, "VINO", 5)
    assert Inventory(a, user="x").stock_all(asof=D3).keys() == {"BIRRA"}
    assert Inventory(b, user="x").stock("VINO", asof=D3).on_hand == 12
    assert Inventory(a, user="x").stock("BIRRA", asof=D3).on_hand == 107
    with pytest.raises(errors.NotFoundError):
        Inventory(b, user="x").sell("BIRRA", 1, on=D3)
    for schema, sku in (("shop_a", "BIRRA"), ("shop_b", "VINO")):
        assert _raw(pg_url, f"SELECT DISTINCT sku FROM {schema}.transactions") == [(sku,)]
        assert _raw(pg_url, f"SELECT sku FROM {schema}.stock_positions") == [(sku,)]
        users = _raw(
            pg_url, f'SELECT DISTINCT "user" FROM {schema}.audit_log WHERE sku IS NOT NULL'
        )
        assert users == [(f"op_{schema}",)]
    report_a, report_b = verify(a), verify(b)
    assert report_a.ok and report_b.ok
    assert report_a.head_hash != report_b.head_hash
    assert check_all(a).status.name == "HEALTHY" and check_all(b).status.name == "HEALTHY"
    assert "public" not in {s for s in _schemas(pg_url) if _raw(pg_url, _tables_in(s))}


def _tables_in(schema: str) -> str:
    return f"SELECT 1 FROM pg_tables WHERE schemaname = '{schema}'"


def test_errors_name_the_store(pg_url: str, two_stores: tuple[Database, Database]) -> None:
    """An error about a store's database names its schema, not only the server URL."""
    a, _b = two_stores
    reader = Database.open(pg_url, settings=test_settings(), schema="shop_a", read_only=True)
    try:
        with pytest.raises(errors.ReadOnlyModeError) as caught:
            Inventory(reader, user="x").add_sku("X", "x", pack_size=1, moq=1, lead_time_days=1)
    finally:
        reader.close()
    assert "(schema shop_a)" in caught.value.message
    assert caught.value.context["schema"] == "shop_a"
    assert a.error_context()["schema"] == "shop_a"


@pytest.mark.parametrize(
    "name",
    [
        "Shop_A",
        "1shop",
        "a" * 64,
        'x"; DROP SCHEMA public; --',
        "pg_shop",
        "",
        "shop-a",
        "information_schema",
        "café",
    ],
)
def test_bad_schema_names_are_refused_and_nothing_is_written(pg_url: str, name: str) -> None:
    """A schema name breaking the identifier rules raises VAL_011 before anything is created."""
    before = _schemas(pg_url)
    with pytest.raises(errors.StoreSchemaNameError) as caught:
        Database.open(pg_url, settings=test_settings(), schema=name)
    assert caught.value.code == "VAL_011"
    assert _schemas(pg_url) == before


def test_the_longest_schema_name_is_accepted(pg_url: str) -> None:
    """A 63-character name (PostgreSQL's limit) makes a store of that exact name."""
    name = "s" * 63
    _open(pg_url, name).close()
    assert name in _schemas(pg_url)


def test_a_schema_on_sqlite_is_refused(tmp_path: Path) -> None:
    """SQLite has no schemas per store: the option raises VAL_012 and no file is created."""
    path = tmp_path / "shop.db"
    with pytest.raises(errors.StoreSchemaUnsupportedError) as caught:
        Database.open(path, settings=test_settings(), schema="shop_a")
    assert caught.value.code == "VAL_012"
    assert not path.exists()


def test_the_store_schema_setting_is_checked() -> None:
    """INVENTORY_CORE_STORE_SCHEMA with a bad name fails at once, naming the variable."""
    with pytest.raises(errors.ConfigurationError) as caught:
        Settings.load(store_schema="Bad Name")
    assert caught.value.context["variable"] == "INVENTORY_CORE_STORE_SCHEMA"
    assert Settings.load(store_schema="shop_7").store_schema == "shop_7"


def test_the_setting_selects_the_store(pg_url: str, monkeypatch: pytest.MonkeyPatch) -> None:
    """Without schema=, Database.open uses INVENTORY_CORE_STORE_SCHEMA."""
    monkeypatch.setenv("INVENTORY_CORE_STORE_SCHEMA", "shop_env")
    db = Database.open(pg_url)
    try:
        db.upgrade()
        assert db.schema == "shop_env"
    finally:
        db.close()
    assert _raw(pg_url, "SELECT version_num FROM shop_env.alembic_version")


def test_read_only_open_of_a_missing_store_creates_nothing(pg_url: str) -> None:
    """A read-only (or create=False) open of a store that does not exist leaves no schema."""
    for kwargs in ({"read_only": True}, {"create": False}):
        with pytest.raises(errors.NotMigratedError):
            Database.open(pg_url, settings=test_settings(), schema="ghost", **kwargs)
    assert "ghost" not in _schemas(pg_url)


def _alembic(url: str, *args: str) -> None:
    cmd = [sys.executable, "-m", "alembic", "-c", str(REPO / "alembic.ini"), "-x", f"url={url}"]
    done = subprocess.run([*cmd, *args], capture_output=True, text=True, check=False)
    assert done.returncode == 0, done.stderr


def test_alembic_migrates_one_store_or_every_store(pg_url: str) -> None:
    """``-x schema=`` migrates one store, ``-x all_stores=true`` all; each has its version."""
    _alembic(pg_url, "-x", "schema=shop_a", "upgrade", "head")
    _alembic(pg_url, "-x", "schema=shop_b", "upgrade", "0006_shop_operations")
    assert _raw(pg_url, "SELECT version_num FROM shop_b.alembic_version") == [
        ("0006_shop_operations",)
    ]
    _alembic(pg_url, "-x", "all_stores=true", "upgrade", "head")
    for schema in ("shop_a", "shop_b"):
        assert _raw(pg_url, f"SELECT version_num FROM {schema}.alembic_version") == [
            ("0008_legacy_order_ids",)
        ]
    assert not _raw(pg_url, _tables_in("public"))


def test_offline_sql_of_one_store_runs_in_its_schema(pg_url: str) -> None:
    """``alembic -x schema=... upgrade --sql`` writes a script that builds that store only."""
    cmd = [sys.executable, "-m", "alembic", "-c", str(REPO / "alembic.ini"), "-x", f"url={pg_url}"]
    script = subprocess.run(
        [*cmd, "-x", "schema=shop_sql", "upgrade", "0003_lot_draws", "--sql"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    head = script.split("CREATE TABLE", 1)[0]
    assert 'CREATE SCHEMA IF NOT EXISTS "shop_sql"' in head
    assert "SET LOCAL search_path TO shop_sql" in head
    assert "CREATE TABLE shop_sql.alembic_version" in script
    assert "shop_sql" not in _schemas(pg_url)  # offline: nothing ran


def test_upgrade_stores_migrates_every_store(pg_url: str) -> None:
    """``Database.upgrade_stores`` brings every known store to head and names each one."""
    _alembic(pg_url, "-x", "schema=shop_a", "upgrade", "0006_shop_operations")
    _alembic(pg_url, "-x", "schema=shop_b", "upgrade", "head")
    done = Database.upgrade_stores(pg_url, settings=test_settings())
    assert done == {"shop_a": "0008_legacy_order_ids", "shop_b": "0008_legacy_order_ids"}


def test_a_store_writes_while_another_holds_its_locks(
    two_stores: tuple[Database, Database],
) -> None:
    """A unit of work of one store holding its writer and audit locks never blocks another."""
    a, b = two_stores
    Inventory(b, user="x").add_sku("VINO", "vino", pack_size=1, moq=1, lead_time_days=1)
    finished = threading.Event()

    def write_b() -> None:
        Inventory(b, user="x").snapshot("VINO", 3, on=D1)
        finished.set()

    with a.unit_of_work() as uow:
        from inventory_core.audit.trail import Operation, append

        append(uow, Operation.MIGRATION, user="x", details={})  # takes shop_a's audit lock
        held = uow.scalars(
            text(
                "SELECT (classid::bigint << 32) | objid::bigint FROM pg_locks "
                "WHERE locktype = 'advisory' AND pid = pg_backend_pid()"
            ),
            {},
        )
        thread = threading.Thread(target=write_b)
        thread.start()
        thread.join(timeout=60)
        uow.rollback()
    assert finished.is_set()
    assert store_lock_key(PG_AUDIT_LOCK_KEY, "shop_a") in held
    assert store_lock_key(PG_AUDIT_LOCK_KEY, "shop_b") not in held
    assert store_lock_key(PG_AUDIT_LOCK_KEY, None) == PG_AUDIT_LOCK_KEY
    assert store_lock_key(PG_AUDIT_LOCK_KEY, "public") == PG_AUDIT_LOCK_KEY


@pytest.mark.skipif(shutil.which("pg_dump") is None, reason="needs pg_dump")
def test_backup_and_restore_touch_one_store(
    pg_url: str, tmp_path: Path, two_stores: tuple[Database, Database]
) -> None:
    """``pg_dump --schema`` holds one store, and restoring it leaves the other as it is."""
    a, b = two_stores
    _workload(a, "BIRRA", 100)
    _workload(b, "VINO", 5)
    service = BackupService(a, tmp_path / "a")
    backup = service.backup(reason="manual")
    listing = subprocess.run(
        ["pg_restore", "--list", str(backup)], capture_output=True, text=True, check=True
    ).stdout
    assert " shop_a " in listing and " shop_b " not in listing
    Inventory(a, user="x").sell("BIRRA", 7, on=D3)
    Inventory(b, user="x").sell("VINO", 2, on=D3)
    service.restore(backup)
    asof = date(2026, 2, 11)
    assert Inventory(a, user="x").stock("BIRRA", asof=asof).on_hand == 107
    assert Inventory(b, user="x").stock("VINO", asof=asof).on_hand == 10
    assert verify(b).ok and verify(a).ok
    assert backup.name.startswith(f"{a.url.database}.shop_a_")
    assert BackupService(b, tmp_path / "a").list() == []  # one folder, still apart


def test_csv_snapshot_moves_one_store_into_another(
    pg_url: str, tmp_path: Path, two_stores: tuple[Database, Database]
) -> None:
    """A store's CSV snapshot holds only its rows and loads into an empty store."""
    a, _b = two_stores
    _workload(a, "BIRRA", 100)
    folder = export_csv(a, tmp_path / "snap")
    c = _open(pg_url, "shop_c")
    try:
        counts = import_csv(c, folder)
        assert counts["transactions"] == 4
        assert Inventory(c, user="x").stock("BIRRA", asof=D3).on_hand == 107
        assert verify(c).ok
    finally:
        c.close()


def test_info_and_the_default_backup_folder_name_the_store(
    two_stores: tuple[Database, Database], monkeypatch: pytest.MonkeyPatch
) -> None:
    """``info`` shows the store's schema and each store's default backup folder is its own."""
    from inventory_core.opening.info import describe

    a, _b = two_stores
    assert describe(a)["store_schema"] == "shop_a"
    monkeypatch.delenv("INVENTORY_CORE_BACKUP_DIR")
    folders = []
    for schema in ("shop_a", "shop_b"):
        with Database.open(a.url, settings=test_settings(), schema=schema) as db:
            folders.append(db.backup_dir)
    assert folders[0] != folders[1] and folders[0].name.endswith("-shop_a")


def test_a_store_keeps_the_urls_own_session_options(pg_url: str) -> None:
    """libpq ``options`` in the URL (a statement timeout) still apply in a store's sessions,
    next to the store's ``search_path``."""
    sep = "&" if "?" in pg_url else "?"
    db = _open(f"{pg_url}{sep}options=-c%20statement_timeout%3D4321", "shop_opts")
    try:
        with db.engine.connect() as conn:
            timeout = conn.execute(text("SHOW statement_timeout")).scalar_one()
            path = conn.execute(text("SHOW search_path")).scalar_one()
        assert (timeout, path) == ("4321ms", "shop_opts")
        Inventory(db, user="x").add_sku("BIRRA", "Birra")
        assert _raw(pg_url, "SELECT sku FROM shop_opts.skus") == [("BIRRA",)]
    finally:
        db.close()
