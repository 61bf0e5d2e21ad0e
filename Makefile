# The two commands (see README.md): `make dev` runs the app on its local stack, `make test` runs every test.
.PHONY: dev test setup

dev: setup
	.venv/bin/python -m phr.stack

test: setup
	.venv/bin/python -m pytest $(PYTEST_ARGS)

setup:
	@bash scripts/setup.sh
