# Every target installs what it needs: a pinned uv in .tools, the locked venv in .venv.
SHELL := /bin/bash
UV_VERSION := 0.13.8
TOOLS := .tools
UV := $(TOOLS)/bin/uv
VENV := .venv
BIN := $(VENV)/bin
PYTHON ?= python3

.PHONY: setup kafka apicurio apiserver inspector lint format test test-fast demo lab bench crds e2e clean dist krew image

setup: $(VENV)/.synced

$(UV):
	$(PYTHON) -m venv $(TOOLS)
	$(TOOLS)/bin/pip install --quiet --disable-pip-version-check uv==$(UV_VERSION)

$(VENV)/.synced: pyproject.toml uv.lock | $(UV)
	UV_PYTHON=$(PYTHON) $(UV) sync --frozen --all-extras
	touch $@

# Apache Kafka's broker jars from Maven Central into ~/.m2, for the suites that run on it.
# Without Java or Maven the tests say so in one line and skip those suites (CI requires them).
kafka: setup
	@if command -v java >/dev/null && command -v mvn >/dev/null; then \
		$(BIN)/python -m kcr.embedded.kraft && $(BIN)/python -m kcr.embedded.connect \
			&& $(BIN)/python -m kcr.embedded.jmx \
			&& $(BIN)/python -m kcr.embedded.config_command; \
	else \
		echo "make kafka: no java or mvn on PATH: the Apache Kafka suites will be skipped"; \
	fi

# Apicurio Registry (a schema registry) for the lab's schema scenario and the schema tests:
# Maven builds it once from Maven Central into ~/.cache/kcr. Without Java or Maven the
# tests say so in one line and skip it, and the lab skips its schema scenario.
apicurio: setup
	@if command -v java >/dev/null && command -v mvn >/dev/null; then \
		$(BIN)/python -m kcr.embedded.apicurio; \
	else \
		echo "make apicurio: no java or mvn on PATH: the schema registry suites will be skipped"; \
	fi

# The MCP Inspector (an MCP client kcr did not write), pinned by tests/inspector's lockfile.
# Without npm the tests say so in one line and skip it (CI requires it).
INSPECTOR := tests/inspector/node_modules/.installed
inspector: $(INSPECTOR)

$(INSPECTOR): tests/inspector/package.json tests/inspector/package-lock.json
	@if command -v npm >/dev/null; then \
		cd tests/inspector && npm ci --no-audit --no-fund --loglevel=error && touch node_modules/.installed; \
	else \
		echo "make inspector: no npm on PATH: the MCP Inspector check will be skipped"; \
	fi

lint: setup
	$(BIN)/ruff check operator tests
	$(BIN)/ruff format --check operator tests
	$(BIN)/mypy
	$(BIN)/lint-imports

format: setup
	$(BIN)/ruff format operator tests
	$(BIN)/ruff check --fix operator tests

test: lint kafka apicurio apiserver inspector
	$(BIN)/pytest

# etcd and kube-apiserver for tests/apiserver, built once from the Go module proxy.
apiserver:
	bash tests/apiserver/build.sh

test-fast: setup
	$(BIN)/pytest tests/unit -q

demo: setup
	$(BIN)/kcr demo

# The lab on three Apache Kafka brokers and Apicurio Registry: exits 1 when any scenario's
# verdict fails.
lab: kafka apicurio
	$(BIN)/kcr lab --report kcr-lab.html

bench: setup
	$(BIN)/python tests/bench/run.py

crds: setup
	$(BIN)/kcr crds --output crds

e2e: setup
	bash tests/e2e/run.sh

# The wheel and sdist (for pip, uvx and the MCP registry's PyPI package) and krew's archive.
dist: | $(UV)
	$(UV) build --out-dir dist

krew: dist
	$(PYTHON) manifests/install/krew_archive.py dist

# The one image for the operator and the MCP server, with podman or docker where either
# can build; without one it says so in one line.
IMAGE ?= localhost/kcr:$(shell sed -n 's/^version = "\(.*\)"/\1/p' pyproject.toml)
image:
	@if command -v podman >/dev/null && podman info >/dev/null 2>&1; then engine=podman; \
	elif command -v docker >/dev/null && docker info >/dev/null 2>&1; then engine=docker; \
	else echo "make image: no container engine (podman, or docker with a running daemon): $(IMAGE) not built" >&2; exit 1; fi; \
	$$engine build -f manifests/image/Containerfile -t $(IMAGE) . && echo "built $(IMAGE) with $$engine"

clean:
	rm -rf $(VENV) $(TOOLS) .pytest_cache .mypy_cache .ruff_cache dist tests/inspector/node_modules
