# Two commands a newcomer needs: `make run` and `make test`.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
RUNTIME := $(VENV)/.installed
DEV := $(VENV)/.installed-dev

# Each is empty when all is well. A .venv made by an older Python, or left half-built, is made
# again; a new one needs Python 3.11 or newer with its venv module.
venv_unusable = $(shell $(BIN)/python -c 'import sys, pip; sys.exit(sys.version_info < (3, 11))' >/dev/null 2>&1 || echo yes)
python_unusable = $(shell $(PYTHON) -c 'import sys, venv, ensurepip; sys.exit(sys.version_info < (3, 11))' >/dev/null 2>&1 || echo yes)
python_found = $(shell command -v $(PYTHON) >/dev/null 2>&1 && $(PYTHON) -V 2>&1 || echo "not found")
PYTHON_NEEDED = Cohort needs Python 3.11 or newer with its venv module, and $(PYTHON) is $(python_found): install one (Debian/Ubuntu: apt install python3.11 python3.11-venv) and run make $(or $(MAKECMDGOALS),run) PYTHON=python3.11

.PHONY: run test test-fast lint bench check install clean

# Runtime dependencies only: what `make run` needs.
$(RUNTIME): pyproject.toml
	$(if $(venv_unusable),$(if $(python_unusable),$(error $(PYTHON_NEEDED))))
	$(if $(venv_unusable),rm -rf $(VENV) && $(PYTHON) -m venv $(VENV) && $(BIN)/python -m pip install --quiet --upgrade pip)
	$(BIN)/python -m pip install --quiet -e .
	touch $@

# The test and lint tools on top.
$(DEV): $(RUNTIME)
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	touch $@

install: $(DEV)

run: $(RUNTIME)
	$(BIN)/python -m bot

check: $(RUNTIME)
	$(BIN)/python -m bot check

test: $(DEV)
	$(BIN)/python -m pytest
	$(MAKE) --no-print-directory lint

# The inner loop: pure rules, use-cases and repositories on SQLite (no Discord, no PostgreSQL).
test-fast: $(DEV)
	COHORT_TEST_POSTGRES_URL= $(BIN)/python -m pytest -q tests/domain tests/services tests/db \
		tests/test_architecture.py tests/test_formatting.py

lint: $(DEV)
	$(BIN)/ruff check bot cogs db discord_emulator tests benchmarks
	$(BIN)/mypy bot cogs db discord_emulator benchmarks

# See it before you invite it: the real bot on a local Discord, with a web page to use it.
.PHONY: sandbox
sandbox: $(STAMP)
	$(BIN)/python -m bot sandbox

bench: $(DEV)
	$(BIN)/python -m benchmarks

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache
