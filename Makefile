# The two everyday commands: `make run` (the baseline scenario) and `make test`.
# Both create the virtual environment .venv on first use and reinstall only when pyproject.toml changes.

PYTHON ?= python3
VENV := .venv
VENV_PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed-stamp

CONFIG ?= configs/scenarios/baseline.toml
REPLICATES ?= 100
SEED ?= 7
OUT ?= results/baseline
PYTEST_ARGS ?=

.PHONY: run test test-slurm test-browser viz params bench install clean

run: $(STAMP)
	$(VENV)/bin/lcsim run $(CONFIG) --replicates $(REPLICATES) --seed $(SEED) --out $(OUT) --force

# pytest's own exit code is kept (5 = no tests collected fails too); .ci/run may ask for it in a file.
test: $(STAMP)
	@status=0; $(VENV_PY) -m pytest $(PYTEST_ARGS) || status=$$?; \
	if [ -n "$$PYTEST_EXIT_FILE" ]; then echo $$status > "$$PYTEST_EXIT_FILE"; fi; \
	if [ $$status -eq 5 ]; then echo "make test: pytest collected no tests (exit 5) - treated as a failure" >&2; fi; \
	exit $$status

# A single-node SLURM cluster (Debian's slurm-wlm and munge, needs root to install) and a sweep through it.
test-slurm: $(STAMP)
	bash tests/slurm/run_tests.sh

# The viewer in headless Chromium (Debian's package, installed through apt when missing; needs root then).
test-browser: $(STAMP)
	bash tests/browser/run_tests.sh

# The interactive viewer on http://127.0.0.1:8765 (Ctrl-C stops it).
viz: $(STAMP)
	$(VENV)/bin/lcsim viz

params: $(STAMP)
	$(VENV)/bin/lcsim params

bench: $(STAMP)
	@set -e; found=0; for script in benchmarks/*.py; do \
		[ -e "$$script" ] || continue; found=1; echo "== $$script"; $(VENV_PY) "$$script"; \
	done; [ $$found -eq 1 ] || echo "no benchmarks/*.py found"

install: $(STAMP)

$(VENV_PY):
	$(PYTHON) -m venv $(VENV)

$(STAMP): pyproject.toml | $(VENV_PY)
	$(VENV_PY) -m pip install -e '.[dev]'
	touch $(STAMP)

# Removes caches and build leftovers; keeps .venv and results/ (delete those by hand if you mean it).
clean:
	rm -rf build dist *.egg-info .pytest_cache .hypothesis .benchmarks $(STAMP)
	find . -path ./$(VENV) -prune -o -type d -name __pycache__ -exec rm -rf {} +
