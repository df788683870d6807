"""The legacy ``lots`` (``lot_id, sku, expiry_date, qty_on_hand, receipt_id, receipt_date``)
as this library's lots, reconciled with the ledger.

Here a SKU's lots never hold more than its on hand (a decrease takes them first expiry
first out), while the old application kept ``lots.csv`` apart from its ledger, and real
stores hold lots that do not match it. So, per SKU, the lots are taken as they stood and,
when they add up to more than the on hand the import leaves, trimmed first expiry first
down to it, as a count here would trim them. Each trimmed lot, each lot left out (unknown
SKU, no quantity) and each SKU whose lots do not add up to its on hand is a finding.
"""

from __future__ import annotations

from collections import defaultdict
from datetime import date

from inventory_core.adopt.findings import (
    Finding,
    PlannedLot,
    Translation,
    date_cell,
    int_cell,
    invalid,
    row_text,
)
from inventory_core.adopt.source import LegacySource
from inventory_core.errors.adopt import AdoptInputError
from inventory_core.errors.i18n import gettext as _


def plan(source: LegacySource, out: Translation, skip_invalid: bool) -> None:
    """Read the legacy lots into ``out.lots``, trimmed to each SKU's final on hand."""
    per_sku: dict[str, list[tuple[PlannedLot, str, int]]] = defaultdict(list)
    for row in source.rows("lots"):
        try:
            qty = int_cell(row, "qty_on_hand")
            expiry = date_cell(row, "expiry_date") if row.get("expiry_date") else None
            received = date_cell(row, "receipt_date") if row.get("receipt_date") else None
        except AdoptInputError as exc:
            invalid(out, row, exc, skip_invalid)
            continue
        sku = row.get("sku")
        why = None
        if sku not in out.our_stock:
            why = _("SKU without stock events")
        elif qty <= 0:
            why = _("no quantity")
        if why is not None:
            out.findings.append(
                Finding(
                    "lot left out",
                    row.file,
                    row.line,
                    sku,
                    row_text(row),
                    _("lot of {qty}").format(qty=qty),
                    _("nothing ({why})").format(why=why),
                )
            )
            continue
        document = (row.get("receipt_id") or row.get("lot_id"))[:64] or None
        lot = PlannedLot(sku, row.get("lot_id"), received or date.min, expiry, qty, qty, document)
        per_sku[sku].append((lot, row.file, row.line))
    for sku in sorted(per_sku):
        _reconcile(sku, per_sku[sku], out)


def _reconcile(sku: str, held: list[tuple[PlannedLot, str, int]], out: Translation) -> None:
    on_hand = out.our_stock[sku]
    total = sum(lot.qty for lot, _, _ in held)
    excess = max(0, total - on_hand)
    fefo = sorted(held, key=lambda h: (h[0].expiry is None, h[0].expiry or date.min))
    for lot, file, line in fefo:
        take = min(excess, lot.kept)
        excess -= take
        lot.kept -= take
        if take:
            out.findings.append(
                Finding(
                    "lot trimmed to on hand",
                    file,
                    line,
                    sku,
                    f"lot_id={lot.legacy_id},sku={sku},expiry_date={lot.expiry or ''},"
                    f"qty_on_hand={lot.qty}",
                    _("lot of {qty}").format(qty=lot.qty),
                    _("lot of {qty}").format(qty=lot.kept)
                    if lot.kept
                    else _("nothing (lot used up)"),
                )
            )
        if lot.kept:
            out.lots.append(lot)
    if total != on_hand:
        first = held[0]
        out.findings.append(
            Finding(
                "lots differ from on hand",
                first[1],
                first[2],
                sku,
                f"lots of {sku}: {total}",
                _("lots {lots}, on hand {on_hand}").format(lots=total, on_hand=on_hand),
                _("lots {lots}; {units} units without a lot").format(
                    lots=min(total, on_hand), units=max(0, on_hand - total)
                ),
            )
        )


__all__ = ["plan"]
