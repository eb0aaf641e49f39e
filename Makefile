# Two commands: `make run` and `make test`. Everything else is a helper for them.
PYTHON ?= python3.11
VENV   ?= .venv
BIN    := $(VENV)/bin
PORT   ?= 8501
ADDRESS ?= localhost

.PHONY: run test install install-test bench bench-env clean-venv

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

# Re-install only when the dependency pins change.
$(VENV)/.installed: $(BIN)/python pyproject.toml constraints.txt
	$(BIN)/python -m pip install --quiet -c constraints.txt -e .
	touch $@

$(VENV)/.installed-test: $(VENV)/.installed
	$(BIN)/python -m pip install --quiet -c constraints.txt -e ".[test]"
	touch $@

install: $(VENV)/.installed
install-test: $(VENV)/.installed-test

run: install
	$(BIN)/assay seed-demo
	$(BIN)/streamlit run app.py --server.port $(PORT) --server.address $(ADDRESS)

test: install-test
	$(BIN)/python -m pytest $(PYTEST_ARGS)

# Benchmarks run in their own environment: it adds the peers they compare against
# (skrub, FLAML, LightGBM), which the app never installs.
BENCH_VENV ?= .venv-bench
$(BENCH_VENV)/.installed: pyproject.toml constraints.txt bench/requirements.txt
	$(PYTHON) -m venv $(BENCH_VENV)
	$(BENCH_VENV)/bin/python -m pip install --quiet --upgrade pip
	$(BENCH_VENV)/bin/python -m pip install --quiet -c constraints.txt -e ".[test]" -r bench/requirements.txt
	touch $@

bench-env: $(BENCH_VENV)/.installed

bench: bench-env
	for b in bench/[a-z]*.py; do echo "== $$b"; $(BENCH_VENV)/bin/python $$b || exit 1; done

clean-venv:
	rm -rf $(VENV)
