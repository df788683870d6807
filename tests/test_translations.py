"""The message catalogues: the errors package's names, the .po/.mo files, a third language, and
Italian that is Italian from the first word to the last."""

from __future__ import annotations

import ast
import gettext
import re
import string
from collections.abc import Callable, Iterator
from datetime import date
from pathlib import Path
from typing import Any

import pytest
from babel.messages.catalog import Catalog
from babel.messages.extract import extract_from_dir
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po
from typer.testing import CliRunner

from inventory_core import Database, Inventory, Settings, audit, errors
from inventory_core.backup import export_csv, import_csv
from inventory_core.cli import app
from inventory_core.errors import i18n
from tests.audit_support import tamper

ROOT = Path(__file__).resolve().parents[1]
LOCALE = ROOT / "inventory_core" / "locale"
POT = LOCALE / "inventory_core.pot"
IT_PO = LOCALE / "it" / "LC_MESSAGES" / "inventory_core.po"
IT_MO = LOCALE / "it" / "LC_MESSAGES" / "inventory_core.mo"

OLD_MODULE_NAMES = (
    *(cls.__name__ for cls in errors.catalogue()),
    *("LANGUAGES", "current_language", "catalogue", "translate", "is_driver_error"),
    *("translate_db_errors", "is_retryable"),
)
"""What the single-module ``inventory_core/errors.py`` offered besides private names."""


def _po(path: Path) -> Catalog:
    with path.open("rb") as stream:
        return read_po(stream, locale="it" if "it" in path.parts else None)


def _names_used_in_the_repo() -> set[str]:
    """Every name imported from inventory_core.errors, or read as ``errors.X``, in the repo."""
    names: set[str] = set()
    sources = [*ROOT.glob("inventory_core/**/*.py"), *ROOT.glob("tests/**/*.py")]
    sources += [*ROOT.glob("examples/**/*.py"), *ROOT.glob("benchmarks/**/*.py")]
    for path in sources:
        tree = ast.parse(path.read_text(encoding="utf-8"))
        imports_errors = False
        for node in ast.walk(tree):
            if isinstance(node, ast.ImportFrom) and node.module == "inventory_core.errors":
                names.update(alias.name for alias in node.names)
            if isinstance(node, ast.ImportFrom) and node.module == "inventory_core":
                imports_errors |= any(alias.name == "errors" for alias in node.names)
        if imports_errors:
            for node in ast.walk(tree):
                if (
                    isinstance(node, ast.Attribute)
                    and isinstance(node.value, ast.Name)
                    and node.value.id == "errors"
                ):
                    names.add(node.attr)
    for page in [ROOT / "README.md", *ROOT.glob("docs/*.md")]:
        text = page.read_text(encoding="utf-8")
        for group in re.findall(r"from inventory_core\.errors import \(?([\w, \n]+)\)?", text):
            names.update(n.strip() for n in group.replace("\n", ",").split(",") if n.strip())
        names.update(re.findall(r"\berrors\.([A-Z]\w+)", text))
    return names


def test_every_name_of_the_old_module_used_anywhere_still_imports() -> None:
    """Each name the old errors module offered, or the repo uses from it, still imports."""
    names = _names_used_in_the_repo() | set(OLD_MODULE_NAMES)
    assert len(names) > 60
    missing = sorted(name for name in names if not hasattr(errors, name))
    assert missing == []
    namespace: dict[str, Any] = {}
    exec(f"from inventory_core.errors import {', '.join(sorted(names))}", namespace)
    assert namespace["InventoryError"] is errors.InventoryError


def test_the_errors_package_imports_nothing_else_from_inventory_core() -> None:
    """errors/ is the ground floor: its modules import only each other from inventory_core."""
    for path in (ROOT / "inventory_core" / "errors").glob("*.py"):
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for node in ast.walk(tree):
            if isinstance(node, ast.ImportFrom) and (node.module or "").startswith("inventory_"):
                assert (node.module or "").startswith("inventory_core.errors"), (path, node.module)
            if isinstance(node, ast.Import | ast.ImportFrom):
                modules = [a.name for a in node.names] if isinstance(node, ast.Import) else []
                assert "babel" not in [
                    *modules,
                    node.module if isinstance(node, ast.ImportFrom) else "",
                ]


def test_every_module_of_the_package_is_well_under_400_lines() -> None:
    """The split keeps each module of the errors package under 300 lines."""
    sizes = {
        p.name: len(p.read_text(encoding="utf-8").splitlines())
        for p in (ROOT / "inventory_core" / "errors").glob("*.py")
    }
    assert len(sizes) >= 10 and max(sizes.values()) < 300, sizes


def test_the_committed_mo_is_the_compiled_po() -> None:
    """The shipped .mo holds exactly the translations of the .po (run `make messages` if not)."""
    with IT_MO.open("rb") as stream:
        compiled = gettext.GNUTranslations(stream)
    for message in _po(IT_PO):
        if not message.id:
            continue
        if isinstance(message.id, tuple):
            singular, plural = message.id
            forms = [compiled.ngettext(singular, plural, n) for n in (1, 2)]
            assert forms == [message.string[0], message.string[-1]], message.id
        else:
            assert compiled.gettext(message.id) == message.string, message.id


def test_the_template_is_in_step_with_the_code() -> None:
    """pybabel's extraction from the code today gives the msgids of the committed .pot."""
    keywords = {"_": None, "gettext": None, "ngettext": (1, 2), "N_": None, "Text": None}
    method_map = [("inventory_core/**.py", "python")]
    extracted = {
        message[2] if isinstance(message[2], str) else message[2][0]
        for message in extract_from_dir(str(ROOT), method_map, keywords=keywords)
        if message[0].startswith("inventory_core")
    }
    committed = {m.id if isinstance(m.id, str) else m.id[0] for m in _po(POT) if m.id}
    assert extracted == committed


def _placeholders(text: str) -> set[str]:
    return {name for _, name, _, _ in string.Formatter().parse(text) if name is not None}


def test_the_italian_catalogue_is_complete_and_keeps_every_placeholder() -> None:
    """Every msgid has an Italian text, none fuzzy, with the same {placeholders}."""
    template = {m.id if isinstance(m.id, str) else m.id[0] for m in _po(POT) if m.id}
    count = 0
    for message in _po(IT_PO):
        if not message.id:
            continue
        count += 1
        ids = message.id if isinstance(message.id, tuple) else (message.id,)
        texts = message.string if isinstance(message.string, tuple) else (message.string,)
        assert all(texts) and not message.fuzzy, message.id
        for text in texts:
            assert _placeholders(text) == _placeholders(ids[-1]), message.id
        template.discard(ids[0])
    assert template == set() and count > 350


def test_a_third_language_is_one_more_po_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A tiny `xx` catalogue in INVENTORY_CORE_LOCALE_DIR renders an error in that language."""
    catalog = Catalog(locale="de", domain=i18n.DOMAIN)
    catalog.add("{entity} '{key}' does not exist.", "{entity} '{key}' existiert nicht.")
    catalog.add("Transaction", "Buchung")
    catalog.add("Check the spelling of '{key}'.", "Prüfe die Schreibweise von '{key}'.")
    folder = tmp_path / "locale" / "xx" / "LC_MESSAGES"
    folder.mkdir(parents=True)
    with (folder / "inventory_core.mo").open("wb") as stream:
        write_mo(stream, catalog)
    monkeypatch.setenv("INVENTORY_CORE_LOCALE_DIR", str(tmp_path / "locale"))
    monkeypatch.setenv("INVENTORY_CORE_LANG", "xx")
    error = errors.NotFoundError(entity="Transaction", key="9999")
    assert errors.current_language() == "xx"
    assert str(error) == "[REPO_001] Buchung '9999' existiert nicht."
    assert error.recovery_steps[0] == "Prüfe die Schreibweise von '9999'."
    assert error.recovery_steps[1] == "List what exists with 'inventory-core skus --search TEXT'."
    assert Settings.load().lang == "xx"
    monkeypatch.setenv("INVENTORY_CORE_LANG", "it")
    assert str(error) == "[REPO_001] Transazione '9999' non esiste."


def test_an_unknown_language_falls_back_to_english(monkeypatch: pytest.MonkeyPatch) -> None:
    """A language without a catalogue reads English rather than failing."""
    monkeypatch.setenv("INVENTORY_CORE_LANG", "zz_ZZ.UTF-8")
    assert errors.current_language() == "en"
    assert str(errors.NotFoundError(entity="SKU", key="A")) == "[REPO_001] SKU 'A' does not exist."
    monkeypatch.setenv("INVENTORY_CORE_LANG", "it_IT.UTF-8")
    assert errors.current_language() == "it"


# --- Italian from the first word to the last -----------------------------------------------

ENGLISH = frozenset(
    {
        "the",
        "needs",
        "need",
        "already",
        "exists",
        "exist",
        "rows",
        "row",
        "not",
        "must",
        "found",
        "missing",
        "option",
        "options",
        "argument",
        "arguments",
        "usage",
        "try",
        "help",
        "such",
        "invalid",
        "should",
        "does",
        "was",
        "were",
        "is",
        "are",
        "and",
        "of",
        "with",
        "without",
        "cannot",
        "for",
        "got",
        "unexpected",
        "or",
        "has",
        "have",
        "been",
        "there",
        "this",
        "which",
        "when",
        "nothing",
        "written",
        "differs",
        "first",
        "then",
        "your",
        "you",
        "value",
        "input",
        "required",
        "extra",
        "command",
        "error",
    }
)
"""Common English words that are not Italian words too (so "file", "backup", "database",
"no", "come" and "in" are left out)."""

_QUOTED = re.compile(r"'[^']*'|\"[^\"]*\"|`[^`]*`")
_TECHNICAL = re.compile(r"\S*[_./=:+()\[\]<>]\S*|--?\w[\w-]*|\b[A-Z0-9][A-Z0-9-]+\b|\bU\+\w+")


def english_words(text: str) -> set[str]:
    """The English words of ``text``, leaving out quoted values, identifiers, codes, paths."""
    prose = _TECHNICAL.sub(" ", _QUOTED.sub(" ", text))
    return {word for word in re.findall(r"[A-Za-z]+", prose.lower()) if word in ENGLISH}


def _typical_context(cls: type[errors.InventoryError]) -> dict[str, Any]:
    texts = [cls.template["en"], *cls.steps["en"]]
    names = {name for text in texts for name in _placeholders(text)} - {"detail"}
    return {name: 42 for name in names}


def _rendered(error: errors.InventoryError) -> list[str]:
    return [error.message, *error.recovery_steps]


def _raised(call: Callable[[], object]) -> errors.InventoryError:
    with pytest.raises(errors.InventoryError) as caught:
        call()
    return caught.value


@pytest.fixture
def shop(tmp_path: Path) -> Iterator[Inventory]:
    """A migrated SQLite shop with one SKU and a count, opened in Italian."""
    db = Database.open(tmp_path / "shop.db", create=True)
    db.upgrade()
    inv = Inventory(db, user="tester")
    inv.add_sku("A", "Articolo A", pack_size=1)
    inv.snapshot("A", 10, on=date(2026, 1, 1))
    yield inv
    db.close()


def _real_failures(inv: Inventory, tmp_path: Path) -> list[errors.InventoryError]:
    day = date(2026, 2, 1)
    calls: list[Callable[[], object]] = [
        lambda: inv.sell("A", 0, on=day),
        lambda: inv.adjust("A", 0, on=day),
        lambda: inv.snapshot("A", -1, on=day),
        lambda: inv.add_sku("A", "again"),
        lambda: inv.add_sku("", "empty"),
        lambda: inv.add_sku("B\u200b", "invisible"),
        lambda: inv.add_sku("A ", "spaces"),
        lambda: inv.sell("NOPE", 1, on=day),
        lambda: inv.sell("A", 1, on="2026-02-01"),  # type: ignore[arg-type]
        lambda: inv.sell("A", "x", on=day),  # type: ignore[arg-type]
        lambda: inv.sell("A", 1000, on=day),
        lambda: inv.revert(9999, reason="wrong"),
        lambda: inv.get_sku("NOPE"),
        lambda: import_csv(inv.db, export_csv(inv.db, tmp_path / "snap")),
        lambda: import_csv(inv.db, tmp_path / "nowhere"),
        lambda: _verify_after_an_edit(inv),
    ]
    return [_raised(call) for call in calls]


def _verify_after_an_edit(inv: Inventory) -> None:
    """Edit an audit row behind the library's back, then verify the chain (last: it breaks)."""
    tamper(inv.db, "UPDATE audit_log SET details = '{}' WHERE audit_id = 1")
    audit.verify(inv.db).raise_if_broken()


PROG = "inventory-core"
USAGE_ERRORS = (
    ["--bogus"],
    ["chek"],
    ["info", "extra"],
    ["check", "--verbose=3"],
    ["restore"],
    ["audit", "tail", "-n", "x"],
    ["audit", "tail", "-n", "0"],
    ["audit", "tail", "-n"],
    ["audit", "tail", "--since", "x"],
    ["generate"],
    ["report", "stock", "A", "--from", "2026-13-01"],
)


def test_italian_messages_are_whole(
    shop: Inventory, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Every error class, real failing calls and CLI usage errors read in Italian only."""
    monkeypatch.setenv("INVENTORY_CORE_LANG", "it")
    texts: list[tuple[str, str]] = []
    for cls in errors.catalogue():
        error = cls(errors.gettext("must not be empty"), **_typical_context(cls))
        texts += [(cls.code, text) for text in _rendered(error)]
    for error in _real_failures(shop, tmp_path):
        texts += [(error.code, text) for text in _rendered(error)]
    runner = CliRunner()
    for args in USAGE_ERRORS:
        result = runner.invoke(app, ["--db", str(tmp_path / "shop.db"), *args], prog_name=PROG)
        assert result.exit_code == 2, (args, result.output)
        texts.append((" ".join(args), result.output))
    leaks = [(where, text, english_words(text)) for where, text in texts if english_words(text)]
    assert leaks == []
    assert len(texts) > 250


def test_the_english_text_is_unchanged(shop: Inventory, tmp_path: Path) -> None:
    """In English the same calls read as they always did (the msgids are the old text)."""
    sold = _raised(lambda: shop.sell("A", 0, on=date(2026, 2, 1)))
    assert str(sold) == "[VAL_001] Invalid value for 'qty': a SALE needs qty > 0"
    dup = _raised(lambda: shop.add_sku("A", "again"))
    assert str(dup) == "[REPO_002] A row with the same key already exists: SKU 'A' already exists"
    missing = _raised(lambda: shop.revert(9999, reason="wrong"))
    assert str(missing) == "[REPO_001] Transaction '9999' does not exist."
    busy = _raised(lambda: import_csv(shop.db, export_csv(shop.db, tmp_path / "snap")))
    assert "skus: 1 row, audit_log: 2 rows" in busy.message
    assert english_words(str(sold)) == {"invalid", "value", "for", "needs"}


def test_the_cli_speaks_italian_for_usage_errors(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Unknown options and missing arguments are reported in Italian, usage line included."""
    monkeypatch.setenv("INVENTORY_CORE_LANG", "it")
    runner = CliRunner()
    result = runner.invoke(app, ["--db", str(tmp_path / "x.db"), "restore"], prog_name=PROG)
    assert result.exit_code == 2
    assert "Uso: inventory-core restore [OPZIONI]" in result.output
    assert "Per l'aiuto prova 'inventory-core restore --help'." in result.output
    assert "Manca l'argomento 'PATH'." in result.output
    result = runner.invoke(app, ["--bogus"], prog_name=PROG)
    assert result.exit_code == 2 and "Opzione inesistente: --bogus" in result.output
    monkeypatch.setenv("INVENTORY_CORE_LANG", "en")
    result = runner.invoke(app, ["--bogus"], prog_name=PROG)
    assert result.exit_code == 2 and "No such option: --bogus" in result.output
