# The two everyday commands: `make run` (the baseline scenario) and `make test`.
# Both create the virtual environment .venv on first use and reinstall only when pyproject.toml changes.
# `make run` (and viz, params, bench) installs only what running needs (`pip install -e .`); `make test`
# (and test-slurm, test-browser) adds the test extras (`.[dev]`: pytest, hypothesis, playwright, ...).
# Two stamps record which install is current; the dev install satisfies both.

PYTHON ?= python3
VENV := .venv
VENV_PY := $(VENV)/bin/python
RUN_STAMP := $(VENV)/.installed-run-stamp
DEV_STAMP := $(VENV)/.installed-dev-stamp

CONFIG ?= configs/scenarios/baseline.toml
REPLICATES ?= 100
SEED ?= 7
OUT ?= results/baseline
PYTEST_ARGS ?=

.PHONY: run test test-slow test-slurm test-browser viz params bench install clean

run: $(RUN_STAMP)
	$(VENV)/bin/lcsim run $(CONFIG) --replicates $(REPLICATES) --seed $(SEED) --out $(OUT) --force

# pytest's own exit code is kept (5 = no tests collected fails too); .ci/run may ask for it in a file.
test: $(DEV_STAMP)
	@status=0; $(VENV_PY) -m pytest $(PYTEST_ARGS) || status=$$?; \
	if [ -n "$$PYTEST_EXIT_FILE" ]; then echo $$status > "$$PYTEST_EXIT_FILE"; fi; \
	if [ $$status -eq 5 ]; then echo "make test: pytest collected no tests (exit 5) - treated as a failure" >&2; fi; \
	exit $$status

# The slower statistical and end-to-end checks (pytest marker `slow`: the notebooks, real processes killed and
# resumed, a batch cluster that never starts); CI runs them after `make test`.
test-slow: $(DEV_STAMP)
	$(VENV_PY) -m pytest -m slow $(PYTEST_ARGS)

# A single-node SLURM cluster (Debian's slurm-wlm and munge, needs root to install) and a sweep through it.
test-slurm: $(DEV_STAMP)
	bash tests/slurm/run_tests.sh

# The viewer in headless Chromium (Debian's package, installed through apt when missing; needs root then).
test-browser: $(DEV_STAMP)
	bash tests/browser/run_tests.sh

# The interactive viewer on http://127.0.0.1:8765 (Ctrl-C stops it).
viz: $(RUN_STAMP)
	$(VENV)/bin/lcsim viz

params: $(RUN_STAMP)
	$(VENV)/bin/lcsim params

bench: $(RUN_STAMP)
	@set -e; found=0; for script in benchmarks/*.py; do \
		[ -e "$$script" ] || continue; found=1; echo "== $$script"; $(VENV_PY) "$$script"; \
	done; [ $$found -eq 1 ] || echo "no benchmarks/*.py found"

install: $(RUN_STAMP)

$(VENV_PY):
	$(PYTHON) -m venv $(VENV)

$(RUN_STAMP): pyproject.toml | $(VENV_PY)
	$(VENV_PY) -m pip install -e .
	touch $(RUN_STAMP)

# The dev install includes the run install, so it refreshes both stamps (a later `make run` installs nothing).
$(DEV_STAMP): pyproject.toml | $(VENV_PY)
	$(VENV_PY) -m pip install -e '.[dev]'
	touch $(RUN_STAMP) $(DEV_STAMP)

# Removes caches and build leftovers; keeps .venv and results/ (delete those by hand if you mean it).
clean:
	rm -rf build dist *.egg-info .pytest_cache .hypothesis .benchmarks $(RUN_STAMP) $(DEV_STAMP)
	find . -path ./$(VENV) -prune -o -type d -name __pycache__ -exec rm -rf {} +
