"""The floor plan holds: every import goes down a floor, and no modules import in a loop."""

from __future__ import annotations

import ast
import json
import subprocess
import sys
from pathlib import Path

from tests import layers_support as layers


def test_every_unit_of_the_package_has_a_floor() -> None:
    """A new top-level package or module must be given its floor before it can land."""
    units = {layers.unit(module) for module in layers.checked_graph()}
    placed = {name for floor in layers.LAYERS for name in floor}
    assert units - placed == set(), "add the new unit to tests/layers_support.LAYERS"


def test_the_ground_floors_import_nothing_above_them() -> None:
    """db/, models/, errors, config and obs/ import only floors below their own."""
    found = [edge for edge in layers.upward() if layers.unit(edge.split(":")[0]) in layers.GROUND]
    assert found == []


def test_every_import_goes_down_a_floor() -> None:
    """No unit imports a unit on its own floor or above (lazy and TYPE_CHECKING imports too)."""
    assert layers.upward() == []


def test_no_modules_import_each_other_in_a_loop() -> None:
    """The module import graph has no cycle, of any size, lazy imports included."""
    assert layers.cycles(layers.checked_graph()) == []


def test_the_checker_sees_an_upward_import_inside_a_function(tmp_path: Path) -> None:
    """A lazy import in db/ of backup/ is reported as upward, and a loop as a cycle."""
    root = tmp_path / "inventory_core"
    (root / "db").mkdir(parents=True)
    (root / "backup").mkdir()
    (root / "__init__.py").write_text("")
    (root / "db" / "__init__.py").write_text("")
    (root / "backup" / "__init__.py").write_text("from inventory_core.db import engine\n")
    (root / "db" / "engine.py").write_text(
        "def f():\n    from inventory_core.backup import service\n"
    )
    (root / "backup" / "service.py").write_text("import inventory_core.db.engine\n")
    assert layers.upward(root) == ["inventory_core.db.engine:2 -> inventory_core.backup.service"]
    assert layers.cycles(layers.imports(root)) == [
        ["inventory_core.backup.service", "inventory_core.db.engine"]
    ]


def test_statements_whose_rows_are_read_run_one_way() -> None:
    """Outside db/, rows are read only through UnitOfWork.fetch and its short forms."""
    assert layers.stray_statements() == []


def test_the_statement_checker_sees_a_second_way(tmp_path: Path) -> None:
    """Reading uow.execute(...)'s rows or a connection's execute is reported; a write is not."""
    root = tmp_path / "inventory_core"
    (root / "ledger").mkdir(parents=True)
    (root / "__init__.py").write_text("")
    (root / "ledger" / "__init__.py").write_text("")
    (root / "ledger" / "reads.py").write_text(
        "def f(uow, stmt):\n"
        "    uow.execute(stmt)\n"
        "    n = uow.execute(stmt).scalar()\n"
        "    return uow.connection.execute(stmt), n\n"
    )
    assert layers.stray_statements(root) == [
        "inventory_core.ledger.reads:3 reads uow.execute(...)",
        "inventory_core.ledger.reads:4 uow.connection.execute",
    ]


def test_every_module_of_the_package_is_under_400_lines() -> None:
    """A module that grows to 400 lines is split by what its parts do (docs/architecture.md)."""
    sizes = {
        module: len(path.read_text(encoding="utf-8").splitlines())
        for module, path in layers.modules().items()
    }
    assert {module: n for module, n in sizes.items() if n >= 400} == {}


def test_each_deprecated_alias_warns_and_is_its_new_module() -> None:
    """Importing an old module name warns DeprecationWarning and gives the moved module."""
    script = (
        "import importlib, json, sys, warnings\n"
        "out = {}\n"
        "for old, new in json.loads(sys.argv[1]).items():\n"
        "    with warnings.catch_warnings(record=True) as caught:\n"
        "        warnings.simplefilter('always')\n"
        "        module = importlib.import_module(old)\n"
        "    out[old] = [module is importlib.import_module(new),\n"
        "                [w.category.__name__ for w in caught if old in str(w.message)]]\n"
        "print(json.dumps(out))\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", script, json.dumps(layers.ALIASES)],
        capture_output=True,
        text=True,
        check=True,
    )
    result = json.loads(done.stdout)
    assert result == {old: [True, ["DeprecationWarning"]] for old in layers.ALIASES}


def test_each_deprecated_alias_imports_only_its_new_home() -> None:
    """An alias module is a pointer: it imports the module it names and nothing else."""
    graph = layers.imports()
    assert {old: set(graph[old]) for old in layers.ALIASES} == {
        old: {new} for old, new in layers.ALIASES.items()
    }


def test_the_architecture_page_shows_the_current_import_graph() -> None:
    """docs/architecture.md carries the picture the code draws (python -m tests.layers_support)."""
    assert layers.doc_block() in layers.DOC.read_text(encoding="utf-8")


def test_tests_import_their_helpers_one_way() -> None:
    """Every test module imports helpers as ``tests.<name>``, never ``conftest`` or a bare name."""
    tests = Path(__file__).parent
    helpers = {p.stem for p in tests.glob("*.py")} | {"conftest"}
    found = []
    for path in sorted(tests.glob("*.py")):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            names = []
            if isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
                names = [node.module]
            elif isinstance(node, ast.Import):
                names = [alias.name for alias in node.names]
            found += [f"{path.name}:{node.lineno} {n}" for n in names if n in helpers]
    assert found == []
