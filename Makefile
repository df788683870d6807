# inventory_core — the two commands of the README, plus lint and benchmarks.
PYTHON ?= python3
VENV ?= .venv
PY := $(VENV)/bin/python
PIP := $(PY) -m pip --disable-pip-version-check
DB_URL ?= sqlite:///data/inventory.db

.PHONY: demo test lint bench bench-pg bench-full install install-dev clean messages

$(PY):
	$(PYTHON) -m venv $(VENV)

$(VENV)/.installed: pyproject.toml | $(PY)
	$(PIP) install -q -e .
	@touch $@

$(VENV)/.installed-dev: pyproject.toml | $(PY)
	$(PIP) install -q -e '.[dev]'
	@touch $@ $(VENV)/.installed

install: $(VENV)/.installed

install-dev: $(VENV)/.installed-dev

demo: install  ## create .venv, migrate data/inventory.db, run the quickstart
	@mkdir -p data
	$(VENV)/bin/inventory-core --db $(DB_URL) init
	INVENTORY_CORE_DATABASE_URL=$(DB_URL) $(PY) examples/quickstart.py

lint: install-dev
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	$(VENV)/bin/mypy --strict inventory_core

test: install-dev lint  ## install the dev extras and run the whole test suite
	$(VENV)/bin/pytest

bench: install-dev
	$(PY) benchmarks/run.py

bench-pg: install-dev
	$(PY) benchmarks/pg_scale.py --out benchmarks/results/pg_scale.json

bench-full: install-dev
	$(PY) benchmarks/run.py --full --out benchmarks/results/full

clean:
	rm -rf $(VENV) data .pytest_cache .mypy_cache .ruff_cache build dist

# --- message catalogues (docs/translations.md) --------------------------------------------
LOCALE := inventory_core/locale
POT := $(LOCALE)/inventory_core.pot

messages: install-dev  ## re-extract the English msgids, merge them into every .po, compile .mo
	$(VENV)/bin/pybabel extract -F babel.cfg -k Text -k N_ --add-location=file --sort-output \
		--no-wrap --project=inventory-core --copyright-holder="inventory_core authors" \
		-o $(POT) .
	$(VENV)/bin/pybabel update -i $(POT) -d $(LOCALE) -D inventory_core --no-wrap \
		--ignore-obsolete --no-fuzzy-matching
	$(VENV)/bin/pybabel compile -d $(LOCALE) -D inventory_core --statistics
