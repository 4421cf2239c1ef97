#!/usr/bin/env bash
# `make test-slurm`: a real single-node SLURM cluster (Debian's slurmctld, slurmd, slurm-client and munge,
# installed through apt-get when missing -- needs root) and sweeps whose Dask workers are SLURM jobs.
#
# The tests (tests/slurm/test_*.py, marker `slurm`, excluded from the default `make test`) start the
# cluster under a temporary directory with tests/slurm/cluster.sh and stop every daemon they started.
# Exit code: pytest's, except that "no tests collected" (5) is a failure too.
set -euo pipefail

cd "$(dirname "$0")/../.."

PYTHON=${VENV_PY:-.venv/bin/python}
[ -x "$PYTHON" ] || { echo "run_tests.sh: $PYTHON is missing: run 'make install' first" >&2; exit 1; }

if [ "$(id -u)" -ne 0 ]; then
    echo "run_tests.sh: the single-node SLURM cluster needs root (slurmd runs jobs as their user)" >&2
    exit 1
fi

# Installs slurmctld, slurmd, slurm-client and munge through apt-get when they are missing; fails loudly.
bash tests/slurm/cluster.sh install

# The cluster's directory; the session fixture starts the cluster there.  Should pytest die before its
# finalizer stopped the cluster (SIGKILL, a crash), the trap stops it: cluster.sh renames DIR/pids on stop.
SLURM_TEST_DIR=$(mktemp -d /tmp/lcsim-slurm-XXXXXX)
export SLURM_TEST_DIR
cleanup() {
    if [ -f "$SLURM_TEST_DIR/pids" ]; then
        echo "run_tests.sh: the SLURM cluster in $SLURM_TEST_DIR is still running: stopping it" >&2
        bash tests/slurm/cluster.sh stop "$SLURM_TEST_DIR" || true
    fi
    rmdir "$SLURM_TEST_DIR" 2>/dev/null || true  # only if empty: a failed run's logs are kept
}
trap cleanup EXIT

status=0
"$PYTHON" -m pytest -m slurm -p no:cacheprovider tests/slurm "$@" || status=$?
if [ "$status" -eq 5 ]; then
    echo "run_tests.sh: pytest collected no SLURM tests (exit 5) - treated as a failure" >&2
fi
exit "$status"
