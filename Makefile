# Two entry points for a fresh machine: `make demo` and `make test`.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
EXTRAS ?= dev,pandas,pdf,docx,dask,plot,notebook

.PHONY: install demo test lint bench clean

$(BIN)/.installed: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e ".[$(EXTRAS)]"
	touch $@ $(BIN)/.compiled

# The install compiles the hot modules with mypyc (hatch_build.py); once a source
# of the package changes, compile again (the package uses its sources until then).
COMPILED_SOURCES := hatch_build.py $(wildcard policy_topics/*.py)
$(BIN)/.compiled: $(BIN)/.installed $(COMPILED_SOURCES)
	$(BIN)/python -m pip install --quiet --no-deps -e .
	touch $@

install: $(BIN)/.installed $(BIN)/.compiled

demo: install
	$(BIN)/policy-topics extract examples/sample-policy-paper.txt --format table

lint: install
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy --strict policy_topics bench hatch_build.py conftest.py

# One pytest worker per CPU: most of the suite's time is spent in subprocesses
# (the command line, worker pools, the benchmark's small runs) that use one core.
test: lint
	$(BIN)/python -m pytest -n logical

bench: install
	$(BIN)/python bench/run.py

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache .hypothesis
