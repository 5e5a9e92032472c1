# seedgraph — common tasks. `make demo` and `make test` work from a fresh clone.
PYTHON ?= python3
VENV   ?= .venv
BIN     = $(VENV)/bin
STAMP   = $(VENV)/.installed-stamp

.PHONY: install demo test lint typecheck pytest bench bench-load clean-demo mutate

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[dev]'
	touch $(STAMP)

install: $(STAMP)

## Seed the bundled home-security pack into ./seedgraph.db and print the summary.
demo: install
	$(BIN)/seedgraph run --seed 42 --as-of 2026-01-15T00:00:00
	$(BIN)/seedgraph verify

## Lint, type-check and run the whole test suite (starts its own PostgreSQL).
test: install lint typecheck pytest

lint: install
	$(BIN)/ruff check seedgraph tasks tests bench

typecheck: install
	$(BIN)/mypy

## pytest on 2 workers (one module per worker), under coverage; prints the coverage table.
pytest: install
	rm -f .coverage .coverage.*
	$(BIN)/coverage run -m pytest -q -n 2 --dist loadfile
	$(BIN)/coverage combine -q
	$(BIN)/coverage report

## Retail benchmark: pgbench -i -s 10 vs seedgraph seeding >= 1M sales_daily rows.
bench: install
	$(BIN)/python bench/retail.py

## Raw load speed of the engine: one 1M-row table, PostgreSQL and SQLite.
bench-load: install
	$(BIN)/python bench/load_speed.py

clean-demo:
	rm -f seedgraph.db seedgraph.db-wal seedgraph.db-shm seedgraph.db.lock

## Mutation testing of the core and the guarantees (slow; not in CI). See docs/testing.md.
## Narrow it with MUTANTS, e.g. make mutate MUTANTS='seedgraph.graph*'
mutate: install
	$(BIN)/python tests/mutate.py $(MUTANTS)
