# returnflow — the two commands a new machine needs: `make demo` and `make test`.
SHELL := /bin/bash
PYTHON ?= python3
VENV ?= .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed-$(shell cat pyproject.toml constraints.txt | sha1sum | cut -c1-12)

.PHONY: demo stack test lint typecheck format schema venv clean bench-carriers bench-marketplace histories bench-actions \
	chromium compose-tool prometheus postgresql bench-gateway bench-telemetry bench-flood bench-codec bench-returns bench-plots fuzz-workflow fuzz-api mutation mutation-stages

# Create the virtual environment (or refresh it when the dependencies change).
$(STAMP): pyproject.toml constraints.txt
	@test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	@# The build backend's notes about editable installs are not for our users.
	PYTHONWARNINGS=ignore $(PY) -m pip install --quiet -c constraints.txt -e '.[dev]'
	@rm -f $(VENV)/.installed-*
	@touch $@

venv: $(STAMP)

## make demo [DEMO_EXIT=1]: the dev stack, the sample returns end to end, a table of the results.
demo: $(STAMP)
	$(PY) -m devstack.demo $(if $(DEMO_EXIT),--exit)

## make stack: the dev stack alone (Temporal dev server + Web UI, worker, gateway, carrier and
## marketplace sandboxes, SMTP sink).
stack: $(STAMP)
	$(PY) -m devstack up

## make test [TEST_PROCESSES=2]: lint, types, then the whole test suite (Debian's chromium,
## docker-compose, prometheus and postgresql installed if missing), its files shared between
## TEST_PROCESSES processes, each with its own servers.
TEST_PROCESSES ?= 2
test: lint typecheck chromium compose-tool prometheus postgresql
	$(PY) -m pytest --numprocesses $(TEST_PROCESSES) --dist loadfile

# $(call debian_package,COMMAND,PACKAGE,WHY): install PACKAGE with apt when COMMAND is missing
# and we run as root; otherwise say what to install.
define debian_package
	@if [ -x $(1) ]; then exit 0; fi; \
	if [ "$$(id -u)" != 0 ]; then \
		echo "$(1) is missing: $(3) needs Debian's $(2)." >&2; \
		echo "Install it as root: apt-get install --no-install-recommends $(2)" >&2; \
		echo "(or run 'make $@' as root)." >&2; \
		exit 1; \
	fi; \
	echo "Installing Debian's $(2) for $(3)"; \
	export DEBIAN_FRONTEND=noninteractive; \
	apt-get update -qq && apt-get install -y -qq --no-install-recommends $(2)
endef

## make chromium: Debian's chromium, which the Web UI browser test drives (tests/webui/).
CHROMIUM := /usr/bin/chromium
chromium:
	$(call debian_package,$(CHROMIUM),chromium,the Web UI browser test)

## make compose-tool: Debian's docker-compose, which checks docker-compose.yml (tests/deploy/);
## no Docker engine is needed to check it.
DOCKER_COMPOSE := /usr/bin/docker-compose
compose-tool:
	$(call debian_package,$(DOCKER_COMPOSE),docker-compose,the docker-compose.yml check)

## make prometheus: Debian's prometheus, whose promtool checks and tests the alert rules
## (tests/monitoring/) and which the dev stack runs to scrape every service.
PROMETHEUS := /usr/bin/prometheus
prometheus:
	$(call debian_package,$(PROMETHEUS),prometheus,the alert rules' tests and the dev stack's metrics)

## make postgresql: Debian's PostgreSQL server, which the tests of the product's store on
## PostgreSQL start on a port of their own (tests/postgres.py); no cluster is set up or started.
POSTGRES := $(firstword $(wildcard /usr/lib/postgresql/*/bin/postgres) /usr/lib/postgresql/15/bin/postgres)
postgresql:
	$(call debian_package,$(POSTGRES),postgresql,the tests of the store on PostgreSQL)

# Each benchmark's JSON says when, how and where it was measured: BENCH_COMMAND is the how
# (benchmarks/record.py).
## make bench-carriers: 50 returns through a carrier failing on purpose (see benchmarks/).
bench-carriers: $(STAMP)
	BENCH_COMMAND='make $@' $(PY) -m benchmarks.carrier_faults

## make bench-marketplace: 100 returns against a marketplace failing 20 % and slowing 20 % of its
## answers on every endpoint: exactly one refund each, every event feed complete and in sequence.
bench-marketplace: $(STAMP)
	BENCH_COMMAND='make $@' $(PY) -m benchmarks.marketplace_faults

## make bench-gateway: 1,000 signed order events (10 % redeliveries) through the gateway (see benchmarks/).
bench-gateway: $(STAMP)
	BENCH_COMMAND='make $@' $(PY) -m benchmarks.gateway_load

## make bench-telemetry [ROUNDS=3]: the gateway load with metrics and traces off, metrics on,
## and both on, ROUNDS times each (docs/telemetry.md#what-it-costs).
bench-telemetry: $(STAMP)
	BENCH_COMMAND='make $@$(if $(ROUNDS), ROUNDS=$(ROUNDS))' \
		$(PY) -m benchmarks.telemetry_cost $(if $(ROUNDS),--rounds $(ROUNDS))

## make bench-flood: 10,000 unsigned 256 KiB POSTs from a stranger while signed events flow.
bench-flood: $(STAMP)
	BENCH_COMMAND='make $@' $(PY) -m benchmarks.gateway_flood

## make bench-codec: what payload encryption costs, in process and through the codec server.
bench-codec: $(STAMP)
	BENCH_COMMAND='make $@' $(PY) -m benchmarks.codec

## make bench-returns [MODE=throughput|in-flight|crash] [RETURNS=300]: happy-path returns end
## to end through the gateway against a bare workflow of the same shape; with MODE=in-flight,
## 10,000 more left waiting; with MODE=crash, the worker killed 5 times mid-batch.
bench-returns: $(STAMP)
	BENCH_COMMAND='make $@$(if $(MODE), MODE=$(MODE))$(if $(RETURNS), RETURNS=$(RETURNS))' \
		$(PY) -m benchmarks.returns_load \
		$(if $(MODE),--mode $(MODE)) $(if $(RETURNS),--returns $(RETURNS))

## make histories [SCENARIOS="name ..."]: record the history of every workflow path (replay tests);
## without SCENARIOS, the withdrawal function's paths and the event feed's own too.
histories: $(STAMP)
	$(PY) -m tests.histories.record $(SCENARIOS)
	$(if $(SCENARIOS),,$(PY) -m tests.histories.record_withdrawals)
	$(if $(SCENARIOS),,$(PY) -m tests.histories.record_feeds)

## make fuzz-workflow [SEQUENCES=5000] [SEED=n]: random message sequences and time jumps against
## the workflow, every invariant checked after every step (make test plays 300).
SEQUENCES ?= 5000
SEED ?= 20261204
fuzz-workflow: $(STAMP)
	FUZZ_SEQUENCES=$(SEQUENCES) FUZZ_SEED=$(SEED) $(PY) -m pytest -q tests/workflows/fuzz_test.py

## make fuzz-api [EXAMPLES=500]: Schemathesis against the OpenAPI descriptions of the gateway
## (on the dev server) and the codec server, EXAMPLES requests per operation, every answer checked
## against the description (make test plays 12).
EXAMPLES ?= 500
fuzz-api: $(STAMP)
	FUZZ_API_EXAMPLES=$(EXAMPLES) $(PY) -m pytest -q -p no:randomly \
		tests/gateway/api_fuzz_test.py tests/codec_server/api_fuzz_test.py

## make mutation: deliberate bugs in the domain rules and the stage logic (mutmut), and the share
## of them the fast tests kill, per group (a few minutes; see docs/testing.md).
mutation: $(STAMP)
	nice -n 19 $(PY) -m mutation

## make mutation-stages [SAMPLE=80] [SEED=n] [JOBS=2]: a random sample of the mutants of
## the stage steps only a workflow runs, judged by the workflow tests (about an hour; resumes
## where it stopped; see docs/testing.md).
SAMPLE ?= 80
JOBS ?= 2
mutation-stages: $(STAMP)
	nice -n 19 $(PY) -m mutation.stages --sample $(SAMPLE) --seed $(SEED) --jobs $(JOBS)

## make bench-actions: events and Temporal Cloud billable actions of each recorded path.
bench-actions: $(STAMP)
	BENCH_COMMAND='make $@' $(PY) -m benchmarks.actions

## make bench-plots: the benchmarks' JSON under var/bench/ copied to docs/benchmarks/data/, and
## one SVG per benchmark drawn from it (docs/benchmarks/<name>.svg).
bench-plots: $(STAMP)
	$(PY) -m benchmarks.plots

lint: $(STAMP)
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .

typecheck: $(STAMP)
	$(VENV)/bin/mypy .

format: $(STAMP)
	$(VENV)/bin/ruff check --fix .
	$(VENV)/bin/ruff format .

schema: $(STAMP)
	$(PY) starter.py schema

clean:
	rm -rf var mutants .mypy_cache .ruff_cache .pytest_cache
