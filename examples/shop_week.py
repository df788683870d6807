"""A week in a shop: evening counts instead of scanned sales, an order closed short.

A bakery counts its shelf every evening and lets the ledger derive the day's sales; the
supplier of flour delivers part of an order and then says the rest will never come, so the
order is closed short. At the end: the stock, the on-order pipeline by date, the inventory
position over the lead time, and the lots as they stood mid-week and expiring soon.
The database URL comes from INVENTORY_CORE_DATABASE_URL (a new SQLite file by default).
"""

from __future__ import annotations

from datetime import date, timedelta

from inventory_core import Database, Inventory, ReceiptLine

MONDAY = date(2026, 3, 2)


def week(inv: Inventory) -> None:
    """Seven days of counts, deliveries and one order closed short."""
    inv.add_sku("PANE", "Pane casereccio", shelf_life_days=3, category="Forno")
    inv.add_sku("FARINA", "Farina 00 25kg", lead_time_days=4, reorder_point=4, max_stock=12)
    inv.snapshot("FARINA", 5, on=MONDAY)
    flour = inv.order("FARINA", 10, on=MONDAY, expected=MONDAY + timedelta(days=3))
    counted = [31, 28, 35, 30, 26, 40, 33]
    for offset, left in enumerate(counted):
        today = MONDAY + timedelta(days=offset)
        inv.receive(f"FORNO-{today:%m%d}", [ReceiptLine("PANE", 60)], on=today)
        if offset == 3:
            inv.receive("DDT-77", [ReceiptLine("FARINA", 4, order_id=flour)], on=today)
        if offset == 4:
            inv.close_order(flour, reason="the mill stopped making it", on=today)
        inv.count_end_of_day_many({"PANE": left, "FARINA": 8 - offset // 2}, on=today)


def main() -> None:
    """Record the week (once) and print what the ledger says about it."""
    with Database.open() as db:
        db.upgrade()
        inv = Inventory(db, user="panettiere")
        if inv.list_skus(search="PANE").items:
            print("the week is already recorded; showing it")
        else:
            week(inv)
        sunday = MONDAY + timedelta(days=7)
        for sku, stock in inv.stock_all(asof=sunday).items():
            print(f"{sku:8} on_hand {stock.on_hand:4}  on_order {stock.on_order:3}")
        for history in inv.history("PANE")[-3:]:
            print(f"  {history.date}  {history.event.value:8} {history.qty:4}")
        thursday = MONDAY + timedelta(days=3)
        pipe = inv.on_order_by_date("FARINA", asof=thursday)
        print("FARINA pipeline on", thursday, [(p.expected, p.qty) for p in pipe.dated])
        print("FARINA pipeline at the weekend", inv.on_order_by_date("FARINA", asof=sunday).total)
        position = inv.position("FARINA", asof=sunday)
        print(f"FARINA position over its lead time (to {position.horizon}): {position.position}")
        lots = inv.lots("PANE", asof=thursday)
        print("PANE lots on", thursday, [(lot.expiry_date, lot.qty_remaining) for lot in lots])
        soon = inv.expiring(1, asof=sunday)
        print(
            "expiring by Monday:", [(lot.sku, lot.expiry_date, lot.qty_remaining) for lot in soon]
        )


if __name__ == "__main__":
    main()
