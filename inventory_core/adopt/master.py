"""The legacy SKU master: first-class fields where the library has them, the rest kept.

Columns of the legacy ``skus`` table that are fields here (:data:`SKU_FIELDS`) become
those fields; every other column, and any value that does not fit its field (an EAN that
is not an EAN-13, a negative pack size), is kept as it stood in the SKU's ``attributes``.
"""

from __future__ import annotations

from typing import Any

from inventory_core.adopt.findings import Finding, Translation, int_cell, invalid
from inventory_core.adopt.source import LegacyRow, LegacySource
from inventory_core.errors.adopt import AdoptInputError
from inventory_core.errors.i18n import gettext as _
from inventory_core.ledger.inputs import ean13_check_digit

SKU_FIELDS = {
    "description": "description",
    "ean": "ean",
    "moq": "moq",
    "pack_size": "pack_size",
    "lead_time_days": "lead_time_days",
    "category": "category",
    "shelf_life_days": "shelf_life_days",
    "reorder_point": "reorder_point",
    "safety_stock": "safety_stock",
    "max_stock": "max_stock",
}
"""Legacy ``skus`` columns that are first-class fields here; every other column goes into
the SKU's ``attributes`` as it stood."""


def skus(source: LegacySource, out: Translation, skip_invalid: bool) -> set[str]:
    known: set[str] = set()
    for row in source.rows("skus"):
        code = row.get("sku")
        if not code:
            invalid(
                out,
                row,
                AdoptInputError(_("empty SKU code"), file=row.file, line=row.line, column="sku"),
                skip_invalid,
            )
            continue
        if code in known:
            invalid(
                out,
                row,
                AdoptInputError(
                    _("duplicate SKU {sku!r}").format(sku=code),
                    file=row.file,
                    line=row.line,
                    column="sku",
                ),
                skip_invalid,
            )
            continue
        known.add(code)
        out.skus.append(sku_values(row, out))
    return known


def sku_values(row: LegacyRow, out: Translation) -> dict[str, Any]:
    data: dict[str, Any] = {"sku": row.get("sku"), "description": row.get("description")}
    attributes: dict[str, str] = {}
    for column, value in row.values.items():
        if column == "sku":
            continue
        target = SKU_FIELDS.get(column)
        if target is None or target == "description":
            if target is None and value is not None and str(value).strip() != "":
                attributes[column] = str(value).strip()
            continue
        text = row.get(column)
        if not text:
            continue
        if target in ("ean", "category"):
            data[target] = text
            continue
        try:
            number = int_cell(row, column)
        except AdoptInputError:
            attributes[column] = text
            continue
        data[target] = number
    ean = data.get("ean")
    if ean is not None and not _valid_ean13(ean):
        out.findings.append(
            Finding(
                "EAN not an EAN-13",
                row.file,
                row.line,
                data["sku"],
                str(ean),
                _("kept as it stood"),
                _("kept in attributes['legacy_ean'], no EAN"),
            )
        )
        attributes["legacy_ean"] = str(ean)
        del data["ean"]
    if data.get("pack_size") is not None and data["pack_size"] < 1:
        attributes["legacy_pack_size"] = str(data.pop("pack_size"))
    for name in (
        "moq",
        "lead_time_days",
        "shelf_life_days",
        "reorder_point",
        "safety_stock",
        "max_stock",
    ):
        if data.get(name) is not None and data[name] < 0:
            attributes[f"legacy_{name}"] = str(data.pop(name))
    if attributes:
        data["attributes"] = attributes
    return data


def _valid_ean13(ean: str) -> bool:
    return len(ean) == 13 and ean.isdigit() and ean13_check_digit(ean[:12]) == int(ean[12])


__all__ = ["SKU_FIELDS", "sku_values", "skus"]
