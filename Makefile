# Two commands on a fresh machine: `make serve` and `make test`.
# Each bootstraps its own virtual environment in .venv.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed

.PHONY: serve test lint bench clean e2e-deps

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[dev]'
	touch $(STAMP)

serve: $(STAMP)
	$(BIN)/stockade serve

# The pinned harness CLIs the end-to-end tests drive (tests/e2e/node/package-lock.json).
# Install scripts are skipped, then the one that matters runs by hand: Claude Code's
# copies its native binary (from an optional dependency, no download) over a stub.
E2E_NODE := tests/e2e/node
E2E_STAMP := $(E2E_NODE)/node_modules/.installed

$(E2E_STAMP): $(E2E_NODE)/package-lock.json
	npm ci --prefix $(E2E_NODE) --ignore-scripts --no-audit --no-fund --loglevel=error
	cd $(E2E_NODE) && node node_modules/@anthropic-ai/claude-code/install.cjs
	touch $(E2E_STAMP)

e2e-deps: $(E2E_STAMP)

test: $(STAMP) $(E2E_STAMP)
	$(BIN)/pytest

lint: $(STAMP)
	$(BIN)/ruff check src tests bench
	$(BIN)/ruff format --check src tests bench
	$(BIN)/mypy
	$(BIN)/mypy tests bench

bench: $(STAMP)
	$(BIN)/python -m bench

clean:
	rm -rf $(VENV) build *.egg-info src/*.egg-info $(E2E_NODE)/node_modules
