# Two commands do all set-up on a fresh machine (Python 3.11+ and make):
#   make demo   -- create .venv, install, run `leadscore demo` on the embedded sample world
#   make test   -- create .venv, install with test extras, run the whole test suite
PYTHON ?= python3
VENV   ?= .venv
BIN     = $(VENV)/bin
STAMP   = $(VENV)/.installed

.PHONY: demo test lint install clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade pip

$(STAMP): pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install -q -e ".[test,spark]"
	touch $(STAMP)

install: $(STAMP)

demo: $(STAMP)
	$(BIN)/leadscore demo

# Two workers, one test file each (module fixtures built once): the e2e tests spend most of their time in
# single-threaded CLI subprocesses, so the 2-core machine runs the suite in ~8 instead of ~13 minutes.
test: $(STAMP)
	$(BIN)/python -m pytest -q -n 2 --dist loadfile

lint: $(STAMP)
	$(BIN)/ruff check .

clean:
	rm -rf $(VENV) demo mlflow.db mlartifacts
