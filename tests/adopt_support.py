"""Legacy stores for the adopt tests: a generator of data folders and ``app.db`` files with
every case LEGACY.md describes, and the legacy application's fold written from LEGACY.md's
rules (not from the library's code)."""

from __future__ import annotations

import csv
import json
import random
import sqlite3
from dataclasses import dataclass, field
from datetime import date, timedelta
from pathlib import Path

SKU_COLUMNS = (
    "sku",
    "description",
    "ean",
    "moq",
    "pack_size",
    "lead_time_days",
    "review_period",
    "safety_stock",
    "shelf_life_days",
    "min_shelf_life_days",
    "max_stock",
    "reorder_point",
    "category",
    "department",
    "in_assortment",
    "has_expiry_label",
)
TX_COLUMNS = ("date", "sku", "event", "qty", "receipt_date", "note")
SALES_COLUMNS = ("date", "sku", "qty_sold")
PROMO_COLUMNS = ("sku", "start_date", "end_date", "store_id", "promo_flag")
ORDER_LOG_COLUMNS = (
    "order_id",
    "date",
    "sku",
    "qty_ordered",
    "qty_received",
    "status",
    "receipt_date",
)
RECEIVING_COLUMNS = (
    "document_id",
    "receipt_id",
    "date",
    "sku",
    "qty_received",
    "receipt_date",
    "order_ids",
)
LOT_COLUMNS = ("lot_id", "sku", "expiry_date", "qty_on_hand", "receipt_id", "receipt_date")
PRIORITY = {
    "SNAPSHOT": 0,
    "ORDER": 1,
    "RECEIPT": 1,
    "SALE": 2,
    "WASTE": 2,
    "ADJUST": 2,
    "UNFULFILLED": 3,
}
START = date(2026, 1, 5)


@dataclass
class LegacyStore:
    """The rows of a legacy store, written as a folder or an app.db."""

    skus: list[dict[str, str]] = field(default_factory=list)
    transactions: list[dict[str, str]] = field(default_factory=list)
    sales: list[dict[str, str]] = field(default_factory=list)
    promos: list[dict[str, str]] = field(default_factory=list)
    order_logs: list[dict[str, str]] = field(default_factory=list)
    receiving_logs: list[dict[str, str]] = field(default_factory=list)
    lots: list[dict[str, str]] = field(default_factory=list)
    settings: object = None
    holidays: object = field(default_factory=lambda: {"holidays": []})

    def write_folder(self, folder: Path) -> Path:
        """The store as a data folder (plus a backup copy that must be ignored)."""
        folder.mkdir(parents=True, exist_ok=True)
        for name, columns, rows in self._tables():
            with (folder / f"{name}.csv").open("w", newline="", encoding="utf-8") as out:
                writer = csv.DictWriter(out, fieldnames=columns)
                writer.writeheader()
                writer.writerows(rows)
        (folder / "skus_backup.csv").write_text("sku\nOLD\n", encoding="utf-8")
        (folder / "audit_log.csv").write_text(
            "timestamp,operation,sku,details,user\n"
            "2026-01-05T10:00:00,SKU_EDIT,LATTE,description changed,mario\n",
            encoding="utf-8",
        )
        for name in ("settings", "holidays"):
            document = getattr(self, name)
            if document is not None:
                (folder / f"{name}.json").write_text(json.dumps(document), encoding="utf-8")
        return folder

    def write_db(self, path: Path, version: int = 7) -> Path:
        """The store as an app.db at schema ``version``."""
        connection = sqlite3.connect(path)
        with connection:
            columns = (
                SKU_COLUMNS
                if version >= 3
                else tuple(c for c in SKU_COLUMNS if c != "has_expiry_label")
            )
            connection.execute(f"CREATE TABLE skus ({', '.join(columns)})")
            connection.execute(
                "CREATE TABLE transactions (transaction_id INTEGER PRIMARY KEY AUTOINCREMENT, "
                "date, sku, event, qty, receipt_date, note, created_at)"
            )
            connection.execute("CREATE TABLE sales (date, sku, qty_sold, PRIMARY KEY (date, sku))")
            for name, cols in (
                ("promo_calendar", PROMO_COLUMNS),
                ("order_logs", ORDER_LOG_COLUMNS),
                ("receiving_logs", RECEIVING_COLUMNS),
                ("lots", LOT_COLUMNS),
            ):
                connection.execute(f"CREATE TABLE {name} ({', '.join(cols)})")
            for name in ("settings", "holidays"):
                document = getattr(self, name)
                if document is not None:
                    connection.execute(f"CREATE TABLE {name} (id INTEGER PRIMARY KEY, data TEXT)")
                    connection.execute(f"INSERT INTO {name} VALUES (1, ?)", (json.dumps(document),))
            connection.execute(
                "CREATE TABLE schema_version (version, applied_at, description, checksum)"
            )
            for v in range(1, version + 1):
                connection.execute(
                    "INSERT INTO schema_version VALUES (?, '2026-01-01', '', '')", (v,)
                )
            for name, cols, rows in self._tables():
                cols = columns if name == "skus" else cols
                marks = ", ".join("?" for _ in cols)
                connection.executemany(
                    f"INSERT INTO {name} ({', '.join(cols)}) VALUES ({marks})",
                    [tuple(r.get(c, "") for c in cols) for r in rows],
                )
        connection.close()
        return path

    def _tables(self) -> list[tuple[str, tuple[str, ...], list[dict[str, str]]]]:
        return [
            ("skus", SKU_COLUMNS, self.skus),
            ("transactions", TX_COLUMNS, self.transactions),
            ("sales", SALES_COLUMNS, self.sales),
            ("promo_calendar", PROMO_COLUMNS, self.promos),
            ("order_logs", ORDER_LOG_COLUMNS, self.order_logs),
            ("receiving_logs", RECEIVING_COLUMNS, self.receiving_logs),
            ("lots", LOT_COLUMNS, self.lots),
        ]


def legacy_fold(store: LegacyStore, sku: str, as_of: date) -> int:
    """On hand of ``sku`` as of ``as_of`` (events dated before it), by LEGACY.md's rules."""
    events = []
    explicit = set()
    for n, row in enumerate(store.transactions):
        if row["sku"] == sku and row["event"] in PRIORITY:
            events.append((row["date"], PRIORITY[row["event"]], n, row["event"], int(row["qty"])))
            if row["event"] == "SALE":
                explicit.add(row["date"])
    for n, row in enumerate(store.sales, start=len(store.transactions)):
        if row["sku"] == sku and row["date"] not in explicit:
            events.append((row["date"], 2, n, "SALE", int(row["qty_sold"])))
    on_hand = 0
    for day, _p, _n, kind, qty in sorted(events):
        if day >= as_of.isoformat():
            break
        if kind == "SNAPSHOT":
            on_hand = qty
        elif kind == "RECEIPT":
            on_hand += qty
        elif kind in ("SALE", "WASTE"):
            on_hand = max(0, on_hand - qty)
        elif kind == "ADJUST":
            on_hand = max(0, qty)
    return on_hand


def legacy_on_order(store: LegacyStore, sku: str, as_of: date) -> int:
    """On order of ``sku`` as of ``as_of``, by LEGACY.md's rules (a SNAPSHOT sets it to 0)."""
    events = sorted(
        (row["date"], PRIORITY[row["event"]], n, row["event"], int(row["qty"]))
        for n, row in enumerate(store.transactions)
        if row["sku"] == sku and row["event"] in ("SNAPSHOT", "ORDER", "RECEIPT")
    )
    on_order = 0
    for day, _p, _n, kind, qty in events:
        if day >= as_of.isoformat():
            break
        if kind == "SNAPSHOT":
            on_order = 0
        elif kind == "ORDER":
            on_order += qty
        else:
            on_order = max(0, on_order - qty)
    return on_order


def orders_and_lots() -> LegacyStore:
    """A store with order_logs, receiving_logs, orders named in notes, a SNAPSHOT over
    open orders, lots that do not match the ledger, settings and holidays."""
    store = LegacyStore()
    store.skus = [_sku("BIRRA", ""), _sku("ACQUA", ""), _sku("VINO", "")]
    day = [(START + timedelta(days=i)).isoformat() for i in range(12)]
    note = "Ordine ORD-20260105-ACQUA"
    store.transactions = [
        _tx(day[0], "BIRRA", "SNAPSHOT", 50),
        _tx(day[0], "BIRRA", "ORDER", 24, receipt=day[5]),
        _tx(day[1], "BIRRA", "ORDER", 12, receipt=day[8]),
        _tx(day[3], "BIRRA", "RECEIPT", 10),
        _tx(day[4], "BIRRA", "SALE", 5),
        _tx(day[0], "ACQUA", "SNAPSHOT", 5),
        _tx(day[0], "ACQUA", "ORDER", 20, note, receipt=day[4]),
        _tx(day[2], "ACQUA", "RECEIPT", 8, note),
        _tx(day[6], "ACQUA", "SNAPSHOT", 7),  # closes the rest of the ACQUA order
        _tx(day[7], "ACQUA", "ORDER", 6, receipt=day[10]),
        _tx(day[0], "VINO", "SNAPSHOT", 10),
    ]
    store.order_logs = [
        _order_log("ORD-B1", day[0], "BIRRA", 24, 10, "PARTIAL", day[5]),
        _order_log("ORD-B2", day[1], "BIRRA", 12, 0, "PENDING", day[8]),
    ]
    store.receiving_logs = [
        {
            "document_id": "DDT-7",
            "receipt_id": "R1",
            "date": day[3],
            "sku": "BIRRA",
            "qty_received": "10",
            "receipt_date": day[3],
            "order_ids": '["ORD-B1"]',
        }
    ]
    store.lots = [
        _lot("L1", "VINO", day[10], 8, day[0]),
        _lot("L2", "VINO", "2026-03-01", 6, day[0]),
        _lot("L3", "BIRRA", "2026-04-01", 20, day[3]),
        _lot("L4", "NOBODY", "2026-04-01", 3, day[3]),
    ]
    store.settings = {"reorder": {"default_csl": 0.95}, "shop": "Bar Sport"}
    store.holidays = {
        "holidays": [
            {
                "name": "Natale",
                "scope": "all",
                "effect": "closed",
                "type": "fixed",
                "params": {"month": 12, "day": 25},
            }
        ]
    }
    return store


def _order_log(
    order_id: str, day: str, sku: str, qty: int, received: int, status: str, expected: str
) -> dict[str, str]:
    return {
        "order_id": order_id,
        "date": day,
        "sku": sku,
        "qty_ordered": str(qty),
        "qty_received": str(received),
        "status": status,
        "receipt_date": expected,
    }


def _lot(lot_id: str, sku: str, expiry: str, qty: int, received: str) -> dict[str, str]:
    return {
        "lot_id": lot_id,
        "sku": sku,
        "expiry_date": expiry,
        "qty_on_hand": str(qty),
        "receipt_id": "",
        "receipt_date": received,
    }


def every_case() -> LegacyStore:
    """A small store holding every case of LEGACY.md."""
    store = LegacyStore()
    store.skus = [
        _sku("BIRRA", "8001234567897"),  # a valid EAN-13
        _sku("PANE", "800123456789"),  # 12 digits
        _sku("LATTE", ""),
    ]
    d = START.isoformat
    day = [(START + timedelta(days=i)).isoformat() for i in range(10)]
    store.transactions = [
        _tx(day[0], "BIRRA", "SNAPSHOT", 10),
        _tx(day[0], "BIRRA", "ORDER", 24, "Ordine ORD-20260105-BIRRA", receipt=day[3]),
        _tx(day[1], "BIRRA", "SALE", 15),  # clamped at 10
        _tx(day[2], "BIRRA", "SNAPSHOT", 5),  # zeroes the open order
        _tx(day[3], "BIRRA", "RECEIPT", 24, "Ordine ORD-20260105-BIRRA"),
        _tx(day[4], "BIRRA", "ADJUST", 20, "Conteggio ciclo inventario"),  # absolute
        _tx(day[5], "PANE", "SNAPSHOT", 3),
        _tx(day[6], "PANE", "SALE", -23),  # negative: adds 23
        _tx(day[6], "PANE", "WASTE", 40),  # clamped
        _tx(day[7], "LATTE", "SKU_EDIT", 0, "description"),
        _tx(day[7], "GHOST", "SNAPSHOT", 4),  # unknown SKU
        _tx(day[8], "LATTE", "UNFULFILLED", 2),
    ]
    store.sales = [
        {"date": day[6], "sku": "PANE", "qty_sold": "23"},  # counted by the explicit SALE
        {"date": day[8], "sku": "BIRRA", "qty_sold": "7"},
        {"date": day[9], "sku": "BIRRA", "qty_sold": "30"},  # clamped
    ]
    store.promos = [
        {
            "sku": "BIRRA",
            "start_date": day[2],
            "end_date": day[5],
            "store_id": "1",
            "promo_flag": "1",
        },
        {
            "sku": "NOBODY",
            "start_date": day[2],
            "end_date": day[5],
            "store_id": "1",
            "promo_flag": "1",
        },
    ]
    del d
    return store


def random_store(seed: int, skus: int = 3, days: int = 20) -> LegacyStore:
    """A random legacy history of ``skus`` SKUs over ``days`` days."""
    rng = random.Random(seed)
    store = LegacyStore()
    codes = [f"SKU{i}" for i in range(skus)]
    store.skus = [_sku(code, "") for code in codes]
    kinds = ["SNAPSHOT", "ORDER", "RECEIPT", "SALE", "WASTE", "ADJUST", "UNFULFILLED"]
    for i in range(days):
        day = (START + timedelta(days=i)).isoformat()
        for code in codes:
            for _ in range(rng.randint(0, 3)):
                kind = rng.choice(kinds)
                qty = rng.randint(-5, 40) if kind in ("SALE", "ADJUST") else rng.randint(0, 40)
                due = START + timedelta(days=i + rng.randint(0, 5))
                receipt = due.isoformat() if kind == "ORDER" else ""
                store.transactions.append(_tx(day, code, kind, qty, receipt=receipt))
            if rng.random() < 0.7:
                store.sales.append({"date": day, "sku": code, "qty_sold": str(rng.randint(0, 20))})
    return store


def _sku(code: str, ean: str) -> dict[str, str]:
    return {
        "sku": code,
        "description": f"{code} desc",
        "ean": ean,
        "moq": "6",
        "pack_size": "6",
        "lead_time_days": "2",
        "review_period": "7",
        "safety_stock": "4",
        "shelf_life_days": "30",
        "min_shelf_life_days": "10",
        "max_stock": "200",
        "reorder_point": "12",
        "category": "FOOD",
        "department": "A",
        "in_assortment": "true",
        "has_expiry_label": "1",
    }


def _tx(
    day: str, sku: str, event: str, qty: int, note: str = "", receipt: str = ""
) -> dict[str, str]:
    return {
        "date": day,
        "sku": sku,
        "event": event,
        "qty": str(qty),
        "receipt_date": receipt,
        "note": note,
    }


def read_folder(folder: Path) -> LegacyStore:
    """A data folder read back into a :class:`LegacyStore` (for the round trip)."""
    store = LegacyStore()
    for name in ("skus", "transactions", "sales", "order_logs", "receiving_logs"):
        if (folder / f"{name}.csv").is_file():
            with (folder / f"{name}.csv").open(encoding="utf-8", newline="") as src:
                setattr(store, name, list(csv.DictReader(src)))
    return store
