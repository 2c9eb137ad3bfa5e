# The two commands a newcomer needs: `make run` and `make test`. Both bootstrap first.
.PHONY: run test bootstrap bench compose-check clean

run: bootstrap
	.venv/bin/devstack run

test: bootstrap
	.venv/bin/pytest $(PYTEST_ARGS)

bootstrap:
	@scripts/bootstrap.sh

bench: bootstrap
	.venv/bin/python bench/run.py $(BENCH_ARGS)

clean:
	rm -rf .run
