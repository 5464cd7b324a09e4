# Every target sets itself up: a fresh clone needs only Python 3.11+ and the package registries.
PYTHON ?= python3
VENV := .venv
SAM_VENV := .venv-sam
BIN := $(VENV)/bin
SAM := $(CURDIR)/$(SAM_VENV)/bin/sam
CHECKOV_VENV := .venv-checkov
CHECKOV := $(CURDIR)/$(CHECKOV_VENV)/bin/checkov

.PHONY: help venv demo local-cloud test test-unit test-e2e lint format template sam-build checkov images bench bench-smoke clean

help:
	@echo "make demo         run the example workflow on the local cloud (no AWS account)"
	@echo "make test         lint, unit + end-to-end tests, template checks, checkov, sam build"
	@echo "make checkov      the translated template through checkov (skips carry their reason)"
	@echo "make local-cloud  keep a local cloud running and print how to point snakemake at it"
	@echo "make test-unit    the fast in-process suite only"
	@echo "make images       the job and coordinator images (docker/), from the project's wheel; needs a Docker engine"
	@echo "make bench        both plugins side by side on the local cloud -> bench/RESULTS.md, bench/results.png"
	@echo "make bench-smoke  a small version of the benchmark: prints figures, asserts nothing"
	@echo "make chaos        the fault scenarios at 1,000 jobs on the local cloud -> bench/RELIABILITY.md"
	@echo "make chaos-smoke  the same scenarios at 30 jobs (what make test runs): PASS/FAIL printed"

$(BIN)/.installed: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[dev]'
	touch $@

venv: $(BIN)/.installed

$(SAM_VENV)/.installed:
	# aws-sam-cli pins many packages: it lives in its own environment.
	$(PYTHON) -m venv $(SAM_VENV)
	$(SAM_VENV)/bin/pip install --quiet --upgrade pip
	$(SAM_VENV)/bin/pip install --quiet 'aws-sam-cli>=1.150,<2'
	touch $@

$(CHECKOV_VENV)/.installed:
	# checkov pins many packages too: its own environment.
	$(PYTHON) -m venv $(CHECKOV_VENV)
	$(CHECKOV_VENV)/bin/pip install --quiet --upgrade pip
	$(CHECKOV_VENV)/bin/pip install --quiet 'checkov>=3.2,<4'
	touch $@

demo: venv
	$(BIN)/python -m localcloud demo

local-cloud: venv
	$(BIN)/python -m localcloud up $(ARGS)

lint: venv
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy
	$(BIN)/hadolint docker/*.Dockerfile

format: venv
	$(BIN)/ruff format .
	$(BIN)/ruff check --fix .

template: venv
	$(BIN)/python -m tools.check_template

sam-build: venv $(SAM_VENV)/.installed
	SAM_CLI=$(SAM) $(BIN)/python -m tools.check_template --sam-build

checkov: venv $(CHECKOV_VENV)/.installed
	CHECKOV=$(CHECKOV) $(BIN)/python -m tools.check_template --checkov

test-unit: venv
	$(BIN)/pytest -m "not e2e" tests

test: venv $(SAM_VENV)/.installed $(CHECKOV_VENV)/.installed
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy
	$(BIN)/hadolint docker/*.Dockerfile
	SAM_CLI=$(SAM) CHECKOV=$(CHECKOV) $(BIN)/python -m tools.check_template --checkov --sam-build
	$(BIN)/pytest tests

# The images users push to ECR (docs/deploy-from-empty-account.md). The build context, build/images,
# holds the project's wheel and docker/constraints.txt, so any OCI builder can use it too. Without a
# Docker engine this fails (non-zero exit) after preparing that context: a later `docker push` must not
# find stale images, and a deploy script must not carry on as if they had been built.
DOCKER ?= docker
PLATFORM ?= linux/amd64
IMAGE_TAG ?= $(shell sed -n 's/^version = "\(.*\)"/\1/p' pyproject.toml)
JOB_IMAGE ?= aws-basic-batch-sls-job:$(IMAGE_TAG)
COORDINATOR_IMAGE ?= aws-basic-batch-sls-coordinator:$(IMAGE_TAG)

images: venv
	rm -rf build/images
	mkdir -p build/images/wheels
	$(BIN)/pip wheel --quiet --no-deps --wheel-dir build/images/wheels .
	cp docker/constraints.txt build/images/
	@if ! $(DOCKER) info >/dev/null 2>&1; then \
		echo "make images: no Docker engine answers ('$(DOCKER) info' failed), so no image was built." >&2; \
		echo "  The build context is ready in build/images: build docker/job.Dockerfile and" >&2; \
		echo "  docker/coordinator.Dockerfile (--build-arg PLUGIN_WHEEL=$$(ls build/images/wheels)) where an" >&2; \
		echo "  engine runs, or run 'make images DOCKER=podman' with another client." >&2; \
		exit 1; \
	fi
	$(DOCKER) build --platform $(PLATFORM) --file docker/job.Dockerfile --tag $(JOB_IMAGE) build/images
	$(DOCKER) build --platform $(PLATFORM) --file docker/coordinator.Dockerfile \
		--build-arg PLUGIN_WHEEL=$$(ls build/images/wheels) --tag $(COORDINATOR_IMAGE) build/images
	@echo "built $(JOB_IMAGE) and $(COORDINATOR_IMAGE) for $(PLATFORM)"

bench: venv
	$(BIN)/python -m bench

bench-smoke: venv
	$(BIN)/python -m bench --smoke

chaos: venv
	$(BIN)/python -m bench.chaos

chaos-smoke: venv
	$(BIN)/python -m bench.chaos --smoke

clean:
	rm -rf $(VENV) $(SAM_VENV) $(CHECKOV_VENV) .aws-sam build .pytest_cache .ruff_cache .mypy_cache
