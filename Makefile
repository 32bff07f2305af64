# The two commands a newcomer needs: `make demo` (run the hub with realistic work) and `make test`.
# Both install what they need: uv (from PyPI), the Python workspace, and the Kafka and
# mongo-java-server jars (Maven Central). Caches live in .cache/ (ignored by git).

SHELL := /bin/bash
.DEFAULT_GOAL := help
export UV_CACHE_DIR ?= $(CURDIR)/.cache/uv
export UV_PROJECT_ENVIRONMENT ?= $(CURDIR)/.venv
UV := python3 -m uv
# Python's compiled bytecode, pytest's rewritten test modules among it, kept under .cache/pycache and reused by every
# later process: without it (PYTHONDONTWRITEBYTECODE=1, as this machine's environment sets) each of the hundreds of
# Python processes a test run starts compiles every module it imports again; collecting the unit tests took 14.6
# CPU-seconds instead of 5.1, importing a service 2.8 instead of 1.4 (docs/testing.md).
export PYTHONPYCACHEPREFIX ?= $(CURDIR)/.cache/pycache
unexport PYTHONDONTWRITEBYTECODE
PY := $(CURDIR)/.venv/bin/python
# pytest-xdist workers for the tests on the real stack: they mostly wait on processes and the broker, so more
# workers than cores pays; a module (or a package sharing a hub) stays on one worker (--dist loadscope, tests/conftest.py).
HUB_WORKERS ?= 3
# The unit tests `make test-unit` runs; `make test` runs the chart's (which wait for helm's build) in its second step.
UNIT_TESTS ?= unit
# Where each pytest run collects: the markers choose the tests, these folders only spare each process importing
# the modules its marker would deselect (collecting the whole tree cost a process 11.8 CPU-s, the fault suite's
# folder 4.6; step 2 runs seven such processes). tests/unit/test_make_targets_collect_every_test.py checks that
# every test folder is collected by one of them.
UNIT_PATHS := tests/unit
STACK_PATHS := tests/integration tests/e2e tests/browser
FAULT_PATHS := tests/faults
CHART_PATHS := tests/unit/deploy
# The stack's addresses and topic replication, as `infra/stack.sh env` prints them for its shape (one broker,
# or every broker of `make up BROKERS=3`), exported for the command that follows.
STACK_ENV := exports="$$(bash infra/stack.sh env)" && eval "$$exports" &&

.PHONY: help install up down status demo test test-unit test-stack test-faults test-chart asyncapi browser lint schemas bench clean

help: ## List the targets
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  make %-10s %s\n", $$1, $$2}'

install: ## Install uv, the Python workspace (locked versions), the workspace's GOV.UK Frontend assets (npm); start the chart tools' install (background)
	@python3 -m uv --version >/dev/null 2>&1 || python3 -m pip install --quiet --disable-pip-version-check uv
	@$(UV) sync --frozen --quiet
	@bash infra/assets.sh
	@bash infra/asyncapi/validate.sh --install
	@bash infra/k8s-tools.sh --background

up: ## Start Kafka and mongo-java-server natively on 127.0.0.1 (fetches their jars once); BROKERS=3 for a cluster
	@$(if $(BROKERS),MASH_KAFKA_BROKERS=$(BROKERS) )bash infra/stack.sh up

down: ## Stop what `up` started (by pid), and the fault suite's own stacks if a run left them; PURGE=1 also deletes their data
	@bash infra/stack.sh down $(if $(PURGE),--purge,)
	@for own in cluster faults-broker; do \
	  if [ -d .cache/$$own/run ]; then MASH_CACHE_DIR=$(CURDIR)/.cache/$$own bash infra/stack.sh down $(if $(PURGE),--purge,) >/dev/null 2>&1; fi; \
	done

status: ## Show whether Kafka and mongo-java-server are running
	@bash infra/stack.sh status

demo: install up ## Run the hub (services, agencies, identity provider, workspace), carry the scenarios, print outcomes and sign-ins
	@$(STACK_ENV) $(PY) -m demo

test: ## Lint, type-check, check import boundaries and run every test (unit, integration, end-to-end, browser, faults) on the real stack
	@$(MAKE) --no-print-directory -j 5 --output-sync=target up lint asyncapi browser test-unit UNIT_TESTS="unit and not chart"
	@$(MAKE) --no-print-directory -j 3 --output-sync=target test-stack test-faults test-chart

test-unit: install ## Only the fast in-memory tests (no servers), on every core (pytest-xdist)
	@$(PY) -m pytest -m "$(UNIT_TESTS)" -n auto $(PYTEST_ARGS) $(UNIT_PATHS)

# `make test`'s second step runs these three at once (docs/testing.md): none of them stops what another uses.
test-stack: install up ## The integration, end-to-end and browser tests on the running stack (HUB_WORKERS workers)
	@$(STACK_ENV) $(PY) -m pytest -n $(HUB_WORKERS) --dist loadscope -m "not unit and not faults" $(PYTEST_ARGS) $(STACK_PATHS)

test-faults: install up ## The fault suite: its broker-stopping tests on stacks of their own, the rest on the running stack (a worker per module)
	@$(STACK_ENV) $(PY) -m pytest -n 3 --dist loadfile -m faults $(PYTEST_ARGS) $(FAULT_PATHS)

test-chart: install ## The Helm chart's tests (they wait for the background build of helm and kubeconform)
	@$(PY) -m pytest -m chart $(PYTEST_ARGS) $(CHART_PATHS)

asyncapi: install ## Validate schemas/json/asyncapi.json with the AsyncAPI CLI
	@bash infra/asyncapi/validate.sh

browser: install ## Find (or install) the Chromium the browser tests drive
	@bash infra/browser.sh >/dev/null

lint: install ## ruff, mypy --strict and the import boundaries (import-linter contracts in pyproject.toml)
	@$(UV) run --frozen --quiet ruff check .
	@$(UV) run --frozen --quiet mypy
	@$(UV) run --frozen --quiet lint-imports

schemas: install ## Regenerate schemas/json from the contract models
	@$(PY) -m mash_schemas.generate

bench: install up ## The whole hub measured against the bare transport; figures and PNGs in docs/benchmark (BENCH_ARGS=--help)
	@$(STACK_ENV) $(PY) -m bench $(BENCH_ARGS)

clean: down ## Stop the stack and delete caches, data and the virtualenv
	rm -rf .cache .venv
