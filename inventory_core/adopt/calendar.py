"""The legacy store's calendars and documents: ``promo_calendar`` rows as promotions, and
``settings.json`` / ``holidays.json`` (the ``settings`` / ``holidays`` rows of ``app.db``)
kept as they stood.

The library has no use yet for the old application's settings or holiday rules (their
``type`` of fixed, range and other patterns has no counterpart in ``holidays``), so both
documents are kept whole: as rows of the ``settings`` table (keys :data:`DOCUMENT_KEYS`,
the JSON text as it was read) and in the import's audit record.
"""

from __future__ import annotations

from inventory_core.adopt.findings import Finding, Translation, date_cell, invalid, row_text
from inventory_core.adopt.source import LegacySource
from inventory_core.errors.adopt import AdoptInputError
from inventory_core.errors.i18n import gettext as _

DOCUMENT_KEYS = {"settings": "legacy.settings", "holidays": "legacy.holidays"}
"""The legacy JSON documents and the ``settings`` key each is kept under."""


def documents(source: LegacySource, out: Translation, skip_invalid: bool) -> None:
    """Read ``settings`` and ``holidays`` into ``out.documents`` (a finding each)."""
    for name in DOCUMENT_KEYS:
        try:
            document = source.document(name)
        except AdoptInputError as exc:
            if not skip_invalid:
                raise
            where = exc.context.get("file", f"{name}.json")
            skipped = _("skipped: {detail}").format(detail=exc.detail)
            out.findings.append(Finding("invalid", str(where), 0, "", name, _("unknown"), skipped))
            continue
        if document is None:
            continue
        out.documents[name] = document
        out.findings.append(
            Finding(
                "document kept",
                f"{name}.json" if source.kind == "folder" else name,
                0,
                "",
                name,
                _("a document of the old application"),
                _("kept as it stood (settings['{key}'], the audit record)").format(
                    key=DOCUMENT_KEYS[name]
                ),
            )
        )


def promotions(source: LegacySource, out: Translation, known: set[str], skip_invalid: bool) -> None:
    """``promo_calendar`` rows of known SKUs with ``promo_flag`` set -> our promo calendar."""
    for row in source.rows("promo_calendar"):
        if row.get("promo_flag").lower() in ("0", "false", "no"):
            continue
        try:
            start, end = date_cell(row, "start_date"), date_cell(row, "end_date")
        except AdoptInputError as exc:
            invalid(out, row, exc, skip_invalid)
            continue
        sku = row.get("sku")
        if sku not in known or end < start:
            why = _("SKU not in skus") if sku not in known else _("ends before it starts")
            out.findings.append(
                Finding(
                    "promotion left out",
                    row.file,
                    row.line,
                    sku,
                    row_text(row),
                    _("promotion"),
                    _("nothing ({why})").format(why=why),
                )
            )
            continue
        store = row.get("store_id")
        out.promotions.append(
            {
                "sku": sku,
                "start_date": start,
                "end_date": end,
                "description": f"legacy store {store}" if store else "legacy",
            }
        )


__all__ = ["DOCUMENT_KEYS", "documents", "promotions"]
