"""Quickstart: a month of a small shop selling a beer and a sparkling water.

An initial count, weekly orders, deliveries with lots, daily sales and some breakage;
then the stock as of several dates, the lots, and the last audit records.
Run with ``make demo``; the database URL comes from INVENTORY_CORE_DATABASE_URL.
"""

from __future__ import annotations

import random
from datetime import date, timedelta

from inventory_core import Database, Inventory, ReceiptLine, audit
from inventory_core.errors import InsufficientStockError

START = date(2026, 2, 1)
SKUS = {"BIRRA-05": ("Birra Lager 0.5L", 24), "ACQUA-FRIZ": ("Acqua frizzante 1L", 6)}


def month_of_trading(inv: Inventory) -> None:
    """Record a month: count on day 1, order every Monday, receive on Thursday, sell daily."""
    rng = random.Random(2026)
    inv.snapshot("BIRRA-05", 96, on=START)
    inv.snapshot("ACQUA-FRIZ", 60, on=START)
    orders: dict[str, int] = {}
    for offset in range(28):
        today = START + timedelta(days=offset)
        if today.weekday() == 0:
            orders = {
                sku: inv.order(sku, 48, on=today, expected=today + timedelta(days=3))
                for sku in SKUS
            }
        if today.weekday() == 3 and orders:
            inv.receive(
                f"DDT-{today:%m%d}",
                [
                    ReceiptLine(sku, 48, order_id=order_id, expiry=today + timedelta(days=120))
                    for sku, order_id in orders.items()
                ],
                on=today,
            )
            orders = {}
        for sku in SKUS:
            wanted = rng.randint(3, 12)
            on_hand = inv.stock(sku, asof=today + timedelta(days=1)).on_hand
            sold = min(wanted, on_hand)
            if sold:
                inv.sell(sku, sold, on=today)
            if wanted > sold:
                inv.unfulfilled(sku, wanted - sold, on=today)
        if offset % 9 == 4:
            try:
                inv.waste("BIRRA-05", 2, on=today, note="broken bottles")
            except InsufficientStockError as exc:
                print(f"  breakage not recorded: {exc}")


def main() -> None:
    """Create the shop, trade for a month, and print what the ledger says."""
    with Database.open() as db:
        db.upgrade()
        inv = Inventory(db, user="shop_owner")
        known = inv.stock_all()
        if all(sku in known for sku in SKUS):
            # Running the demo again must not record the month twice: show it instead.
            print(f"The month is already recorded in {db.display_url}; showing it again.\n")
        else:
            with audit.run(user="shop_owner") as run_id:
                for sku, (description, pack) in SKUS.items():
                    if sku not in known:
                        inv.add_sku(sku, description, pack_size=pack, moq=pack)
                month_of_trading(inv)
            print(f"Recorded a month of trading in run {run_id}\n")
        print(f"{'as of':<12}{'sku':<12}{'on hand':>9}{'on order':>10}{'unfulfilled':>13}")
        for asof in (START + timedelta(days=d) for d in (1, 3, 10, 17, 24, 28)):
            for stock in inv.stock_all(asof=asof).values():
                print(
                    f"{asof!s:<12}{stock.sku:<12}{stock.on_hand:>9}{stock.on_order:>10}"
                    f"{stock.unfulfilled:>13}"
                )
        print("\nLots, first expiry first:")
        for sku in SKUS:
            for lot in inv.lots(sku):
                print(
                    f"  {sku:<12} lot {lot.lot_id:<4} expires {lot.expiry_date}  "
                    f"{lot.qty_remaining}/{lot.qty_received} left"
                )
        print("\nLast audit records:")
        for entry in audit.tail(db, 5):
            print(
                f"  #{entry.audit_id:<5} {entry.operation:<12} {entry.sku or '-':<12} "
                f"{entry.user:<12} run {entry.run_id}"
            )


if __name__ == "__main__":
    main()
