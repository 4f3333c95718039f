# Two commands are the contract: `make run` and `make test`.
PY ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: run test test-fast bench install clean

$(BIN)/python:
	$(PY) -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade pip

$(STAMP): pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install -q -e ".[test]"
	touch $(STAMP)

install: $(STAMP)

## Start the dashboard on http://localhost:8501 with the sample data ready (serve.py: app.py
## behind the password gate, which asks for RNNLAB_PASSWORD when it is set).
run: $(STAMP)
	$(BIN)/streamlit run serve.py --server.port 8501

## Run the whole suite: unit, app, slow (real training) and e2e (real browser).
test: $(STAMP)
	$(BIN)/python -m pytest -q -ra

## Only the fast tests (no training, no browser).
test-fast: $(STAMP)
	$(BIN)/python -m pytest -q -m "not slow and not e2e"

## Benchmarks: print figures and update bench/RESULTS.md.
bench: $(STAMP)
	$(BIN)/python bench/run_all.py

clean:
	rm -rf $(VENV) .pytest_cache .hypothesis
