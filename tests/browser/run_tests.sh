#!/usr/bin/env bash
# `make test-browser`: the viewer (`lcsim viz`) in Debian's Chromium, driven headless by Playwright.
#
# Installs Debian's chromium through apt-get when /usr/bin/chromium is missing (needs root; no browser is
# ever downloaded by Playwright), fills Solara's asset cache with the page's scripts from the npm registry
# (python -m experiments.viz.assets; needs npm), then runs the tests marked `browser` (excluded from the
# default `make test`).  They start `lcsim viz` on a free port on 127.0.0.1 and stop it by its pid.
# Screenshots go to results/browser/.  Exit code: pytest's, except that "no tests collected" (5) fails too.
set -euo pipefail

cd "$(dirname "$0")/../.."

PYTHON=${VENV_PY:-.venv/bin/python}
CHROMIUM=${CHROMIUM:-/usr/bin/chromium}
[ -x "$PYTHON" ] || { echo "run_tests.sh: $PYTHON is missing: run 'make install' first" >&2; exit 1; }

apt_install() {
    DEBIAN_FRONTEND=noninteractive apt-get install -y "$@" \
        || { DEBIAN_FRONTEND=noninteractive apt-get update && DEBIAN_FRONTEND=noninteractive apt-get install -y "$@"; }
}

if [ ! -x "$CHROMIUM" ]; then
    if [ "$(id -u)" -ne 0 ]; then
        echo "run_tests.sh: $CHROMIUM is missing and installing Debian's chromium needs root (apt-get install chromium)" >&2
        exit 1
    fi
    echo "run_tests.sh: installing Debian's chromium (apt-get)" >&2
    apt_install chromium || { echo "run_tests.sh: apt-get could not install chromium" >&2; exit 1; }
    [ -x "$CHROMIUM" ] || { echo "run_tests.sh: chromium installed but $CHROMIUM is still missing" >&2; exit 1; }
fi
"$CHROMIUM" --version 2>/dev/null || true

# The page's JavaScript (the Solara/Vuetify app, RequireJS, Font Awesome) comes from the npm registry.
if ! command -v npm >/dev/null 2>&1; then
    if [ "$(id -u)" -ne 0 ]; then
        echo "run_tests.sh: npm is missing and installing it needs root (apt-get install npm)" >&2
        exit 1
    fi
    echo "run_tests.sh: installing Debian's npm (apt-get)" >&2
    apt_install npm || { echo "run_tests.sh: apt-get could not install npm" >&2; exit 1; }
fi
"$PYTHON" -m experiments.viz.assets || { echo "run_tests.sh: the viewer's page assets could not be fetched" >&2; exit 1; }

status=0
LCSIM_CHROMIUM="$CHROMIUM" "$PYTHON" -m pytest -m browser -p no:cacheprovider tests/browser "$@" || status=$?
if [ "$status" -eq 5 ]; then
    echo "run_tests.sh: pytest collected no browser tests (exit 5) - treated as a failure" >&2
fi
exit "$status"
