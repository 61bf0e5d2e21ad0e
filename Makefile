# The two commands (see README.md): `make dev` runs the app on its local stack, `make test` runs every test.
.PHONY: dev test test-fast lint sweep setup

dev: setup
	.venv/bin/python -m phr.stack

test: setup lint
	.venv/bin/python -m pytest $(PYTEST_ARGS)

# ruff's lint rules and import-linter's layering contracts (config in pyproject.toml); part of make test, so CI runs it.
lint: setup
	.venv/bin/ruff check phr tests bench scripts migrations
	.venv/bin/lint-imports

# The daily lane: everything but the chain/object-store stack, the browser, PostgreSQL and load (markers: tests/conftest.py).
test-fast: setup lint
	.venv/bin/python -m pytest -m "not stack and not browser and not postgres and not load" $(PYTEST_ARGS)

# Hostile input, injected faults, load and reproduced attacks, with a summary table
# (inputs tried / faults injected / records lost / attacks stopped). The sweep marker is set in tests/conftest.py.
sweep: setup
	.venv/bin/python -m pytest -m sweep $(PYTEST_ARGS)

setup:
	@bash scripts/setup.sh
