# Two entry points on a fresh machine: `make audit` (install + the main job) and `make test`.
PY ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
AUDIT_ARGS ?=

.PHONY: install audit audit-quick test test-fast bench clean

install: $(VENV)/.installed

$(VENV)/.installed: pyproject.toml
	$(PY) -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip wheel
	# torch first and pinned: anything unpinned would pull a multi-GB CUDA build
	$(BIN)/pip install -q torch==2.13.0
	$(BIN)/pip install -q -e '.[all]'
	touch $@

audit: install
	$(BIN)/homogeny audit --out homogeny-report $(AUDIT_ARGS)

audit-quick: install
	$(BIN)/homogeny audit --quick --out homogeny-report $(AUDIT_ARGS)

test: install
	$(BIN)/python -m pytest -q

test-fast: install
	$(BIN)/python -m pytest -q -m "not slow and not browser and not server and not ray"

bench: install
	$(BIN)/python benchmarks/generation.py
	$(BIN)/python benchmarks/metrics.py --quick

clean:
	rm -rf $(VENV) homogeny-report *.duckdb
