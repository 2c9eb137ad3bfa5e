# The two commands a newcomer needs: `make run` and `make test`. Both bootstrap first.
.PHONY: run test test-fast lint bootstrap bench stats-rebuild compose-check clean

run: bootstrap
	.venv/bin/devstack run

test: bootstrap
	.venv/bin/pytest $(PYTEST_ARGS)

# The inner loop: every test but the end-to-end suite (no stack to start; rules on real PostgreSQL, config checks).
test-fast: bootstrap
	.venv/bin/pytest -m "not e2e" $(PYTEST_ARGS)

# Lint, format check and types, with the settings in pyproject.toml (CI runs it before `make test`).
lint: bootstrap
	.venv/bin/ruff check .
	.venv/bin/ruff format --check .
	.venv/bin/mypy

bootstrap:
	@scripts/bootstrap.sh

bench: bootstrap
	.venv/bin/python bench/run.py $(BENCH_ARGS)

# Recount every rollup of make run's databases from the facts (after a bulk load); a no-op when they agree.
stats-rebuild: bootstrap
	.venv/bin/devstack stats-rebuild

clean:
	rm -rf .run
