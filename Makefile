# Two commands: `make run` (the horde, embedded defaults) and `make test` (every test, lint, contracts).
PY ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: run test lint bench fuzz clean

$(STAMP): pyproject.toml
	$(PY) -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip
	$(BIN)/pip install -q -e '.[dev]'
	touch $(STAMP)

run: $(STAMP)
	$(BIN)/python main.py $(ARGS)

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/lint-imports

test: lint
	$(BIN)/python -m pytest $(PYTEST_ARGS)

# Schemathesis over /api/swagger.json against a real `python main.py` (FUZZ_SECONDS, default 150): no 5xx.
fuzz: $(STAMP)
	$(BIN)/python tests/fuzz_api.py

bench: $(STAMP)
	$(BIN)/python bench/broker.py

clean:
	rm -rf $(VENV) data
