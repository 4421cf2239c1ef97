"""``python -m experiments.viz.serve --host H --port P``: Solara's ``solara run experiments.viz.app`` in
production mode, with a clean stop.

``lcsim viz`` checks its options and then replaces itself with this (``exec``), so the server has the pid
``lcsim viz`` had.  Ctrl-C or SIGTERM shut the server down (uvicorn closes the connections) and the
process exits 0 with one line, instead of Solara's "Aborted." and exit 1.
"""

from __future__ import annotations

import signal
import sys
import warnings

APP_MODULE = "experiments.viz.app"
#: Options passed to ``solara run`` after the host and port.
SOLARA_OPTIONS = ("--production", "--no-open", "--no-check-version", "--log-level", "warning")


def main(argv: list[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    # Solara warns once per page load that a plain-http localhost cannot take SameSite=None cookies: expected.
    warnings.filterwarnings("ignore", message="Cookies with samesite=none", category=UserWarning)
    import click
    from solara.__main__ import cli

    signal.signal(signal.SIGTERM, signal.default_int_handler)  # SIGTERM (kill PID) stops like Ctrl-C

    try:
        cli.main(args=["run", APP_MODULE, *argv, *SOLARA_OPTIONS], prog_name="lcsim viz", standalone_mode=False)
    except (KeyboardInterrupt, click.exceptions.Abort):  # Ctrl-C (uvicorn re-raises it after shutting down)
        pass
    print("lcsim viewer stopped", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
