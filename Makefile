# loopline: every entry point. `make run` and `make test` work on a fresh machine (they install first).
SHELL := /bin/bash
.DEFAULT_GOAL := help

PYTHON ?= python3.11
UV_VERSION := 0.13.9
# uv from PATH, else bootstrapped with pip into .tools/ (pip's own resolver fails on the TFDV tree).
# (`uv --version` rather than `command -v`: a pyenv shim can exist for a uv that is gone.)
UV := $(or $(shell uv --version >/dev/null 2>&1 && command -v uv),$(CURDIR)/.tools/bin/uv)
export UV_PYTHON_DOWNLOADS := never
export TF_CPP_MIN_LOG_LEVEL := 2

PIPELINE_LOCK := requirements/pipeline.lock
SERVING_LOCK := kserve/requirements.lock
PIPELINE_STAMP := .venv/.loopline-stamp
SERVING_STAMP := .venv-serving/.loopline-stamp
LOOPLINE := .venv/bin/loopline
PYTEST_ARGS ?=
# Images (make images, make compile): REGISTRY and TAG default to components/_image.py's
# (ghcr.io/loopline, the package version); IMAGE / SERVING_IMAGE override whole names.
REGISTRY ?=
TAG ?=
IMAGE ?=
SERVING_IMAGE ?=
PUSH ?= 1
IMAGE_SETTINGS = LOOPLINE_REGISTRY=$(REGISTRY) LOOPLINE_TAG=$(TAG) LOOPLINE_PIPELINE_IMAGE=$(IMAGE) LOOPLINE_SERVING_IMAGE=$(SERVING_IMAGE)
# Compile-time cluster settings: a GPU for train, the default pipeline root (gs://...), the output folder.
GPU ?=
GPU_COUNT ?=
PIPELINE_ROOT ?=
CACHING ?=
OUT ?=

.PHONY: help install tools lock run serve compile images lint test test-fast bench bench-validate bench-pipeline bench-serve bench-monitor bench-body-limit soak clean

help:  ## list the targets
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | sed -E 's/:.*## /\t/'

$(CURDIR)/.tools/bin/uv:
	$(PYTHON) -m venv .tools
	.tools/bin/pip install --quiet uv==$(UV_VERSION)

# The stamps are keyed on the lock files: install re-syncs only when a lock (or pyproject) changed.
$(PIPELINE_STAMP): $(PIPELINE_LOCK) pyproject.toml | $(UV)
	@test -x .venv/bin/python || $(UV) venv --quiet --python $(PYTHON) .venv
	VIRTUAL_ENV=.venv $(UV) pip sync --quiet --compile-bytecode $(PIPELINE_LOCK)
	VIRTUAL_ENV=.venv $(UV) pip install --quiet --no-deps -e .
	@touch $@

# The serving env also holds this project (for components.lib.bundle/uri) and the predictor package.
$(SERVING_STAMP): $(SERVING_LOCK) pyproject.toml kserve/pyproject.toml | $(UV)
	@test -x .venv-serving/bin/python || $(UV) venv --quiet --python $(PYTHON) .venv-serving
	VIRTUAL_ENV=.venv-serving $(UV) pip sync --quiet --compile-bytecode $(SERVING_LOCK)
	VIRTUAL_ENV=.venv-serving $(UV) pip install --quiet --no-deps -e . -e kserve
	@touch $@

install: $(PIPELINE_STAMP) $(SERVING_STAMP)  ## create/refresh .venv and .venv-serving from the lock files

lock: | $(UV)  ## re-resolve both lock files from their .in files
	$(UV) pip compile --quiet --python-version 3.11 --python-platform x86_64-manylinux_2_36 requirements/pipeline.in -o $(PIPELINE_LOCK)
	$(UV) pip compile --quiet --python-version 3.11 --python-platform x86_64-manylinux_2_36 kserve/requirements.in -o $(SERVING_LOCK)

INTENDED_USE = Demo: tells Adelie, Chinstrap and Gentoo penguins apart from bill, flipper and body measurements \
  (Palmer Archipelago, 2007-2009). Not for other species, other regions or juveniles; a teaching model, not a field tool.

run: install  ## the whole lifecycle on the bundled data: train, deploy, serve, monitor, drift, retrain, redeploy
	$(LOOPLINE) run training --floor min_accuracy=0.9 --intended-use "$(INTENDED_USE)"
	$(LOOPLINE) serve --smoke
	$(LOOPLINE) lifecycle

serve: install  ## the local predictor in the foreground on out/models (the deployed production models)
	$(LOOPLINE) serve

compile: install  ## compile every pipeline to pipelines/compiled/ (REGISTRY TAG IMAGE GPU GPU_COUNT PIPELINE_ROOT CACHING=off OUT)
	$(IMAGE_SETTINGS) LOOPLINE_TRAIN_ACCELERATOR=$(GPU) LOOPLINE_TRAIN_ACCELERATOR_COUNT=$(GPU_COUNT) \
	  LOOPLINE_PIPELINE_ROOT=$(PIPELINE_ROOT) LOOPLINE_CACHING=$(CACHING) $(LOOPLINE) compile $(if $(OUT),--out-dir $(OUT))

# The names come from components/_image.py (the same the components and compiled YAML use).
images:  ## build both images with docker and push them (PUSH=0: build only); REGISTRY=... TAG=...
	@command -v docker >/dev/null || { echo "make images: no container engine here: docker is not installed. Build where docker runs: components/Dockerfile and kserve/Dockerfile, from the repository root." >&2; exit 1; }
	@docker info >/dev/null 2>&1 || { echo "make images: no container engine here: the docker daemon does not answer (docker info failed). Build where docker runs: components/Dockerfile and kserve/Dockerfile, from the repository root." >&2; exit 1; }
	@eval "$$($(IMAGE_SETTINGS) $(PYTHON) -m components._image)" && set -ex && \
	  docker build --build-arg VERSION=$$VERSION -f components/Dockerfile -t $$PIPELINE_IMAGE . && \
	  docker build --build-arg VERSION=$$VERSION -f kserve/Dockerfile -t $$SERVING_IMAGE . && \
	  if [ "$(PUSH)" = 1 ]; then docker push $$PIPELINE_IMAGE && docker push $$SERVING_IMAGE; fi

lint: install  ## ruff: style and import order (pyproject.toml [tool.ruff])
	.venv/bin/ruff check .

# pytest's exit 5 (no tests collected) is a failure, said in a line.
PYTEST = status=0; .venv/bin/python -m pytest $(1) $(PYTEST_ARGS) || status=$$?; \
	  if [ $$status -eq 5 ]; then echo "make $@: pytest collected no tests: a failure, not a pass" >&2; fi; \
	  exit $$status

# The binaries the tests run: promtool (Debian `prometheus`, for the alert-rule unit tests) and the
# Pushgateway (Debian `prometheus-pushgateway`, started by a session fixture). Installed when missing
# (CI runs as root). Under systemd the packages also start both services (ports 9090, 9091); in a
# container without an init they start nothing. The tests use free ports of their own either way.
tools:  ## the test binaries promtool, prometheus-pushgateway, curl and chromium (apt-get, when missing)
	@command -v promtool >/dev/null && command -v prometheus-pushgateway >/dev/null && command -v curl >/dev/null && \
	  command -v chromium >/dev/null || \
	  (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends \
	    prometheus prometheus-pushgateway curl chromium)

test: install tools  ## every test (starts the GCS emulator itself); "no tests collected" fails
	@$(call PYTEST,)

test-fast: install tools  ## the tests that need neither a kfp.local pipeline run nor the serving server, on 2 workers (~50 s)
	@$(call PYTEST,-n 2 -m "not slow and not serving")

bench: bench-validate bench-pipeline bench-serve bench-monitor bench-body-limit  ## every benchmark

bench-validate: install  ## validate throughput and memory at 100k, 1M, 5M rows
	cd bench && ../.venv/bin/python bench_validate.py

bench-pipeline: install  ## the local training pipeline on penguins, 200k, 1M and 10M rows (fused trainer; keras at penguins and 200k as the baseline)
	cd bench && ../.venv/bin/python bench_pipeline.py

bench-body-limit: install  ## oversized request bodies: the predictor's memory with its body limit on and off
	cd bench && ../.venv/bin/python bench_body_limit.py

bench-serve: install  ## the served endpoint vs a typical KServe predictor, with wrk (installed when missing)
	@command -v wrk >/dev/null || (apt-get update -qq && apt-get install -y -qq wrk)
	cd bench && ../.venv/bin/python bench_serve.py

soak: install  ## the predictor under 64 connections for 10 minutes, hot reloaded every minute: RSS, errors, logged rows (MINUTES=...; wrk installed when missing)
	@command -v wrk >/dev/null || (apt-get update -qq && apt-get install -y -qq wrk)
	cd bench && ../.venv/bin/python bench_soak.py $(if $(MINUTES),--minutes $(MINUTES))

# Evidently gets its own venv (out/bench/monitor/, from bench/requirements-evidently.txt), made with $(UV).
bench-monitor: install  ## monitor on 100k, 1M, 5M logged rows vs Evidently's PSI report and a pyarrow JSON read (ROWS=...)
	cd bench && ../.venv/bin/python bench_monitor.py --uv $(UV) $(if $(ROWS),--rows $(ROWS))

clean:  ## remove environments and outputs
	rm -rf .venv .venv-serving .tools out bench/out
