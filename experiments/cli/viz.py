"""``lcsim viz``: the interactive viewer (Mesa's SolaraViz and a run-set browser) on a local web server.

Registered on the ``lcsim`` Typer app by :mod:`experiments.cli.app` through :func:`register`.
The options are checked first (host, port free, results folder); a mistake ends with exit code 2 and
a message naming the option, the value and what is allowed.  Then this process *becomes* the Solara
server (``solara run experiments.viz.app`` via :mod:`experiments.viz.serve`, by ``exec``), so its pid is
the server's pid and Ctrl-C or SIGTERM stop the server directly (exit 0).
"""

from __future__ import annotations

import errno
import os
import socket
import subprocess
import sys
from pathlib import Path
from typing import Annotated

import typer

from experiments.cli.options import fail

RESULTS_ENV = "LCSIM_VIZ_RESULTS"  # read by experiments.viz.app
DEFAULT_HOST = "127.0.0.1"
DEFAULT_PORT = 8765
PORT_RANGE = (1, 65535)


def parse_port(text: str) -> int:
    """A TCP port from the option text; exit 2 with the value and the allowed range otherwise."""
    low, high = PORT_RANGE
    try:
        port = int(str(text).strip())
    except ValueError:
        raise fail(f"--port {text}: not an integer; allowed: a port number from {low} to {high}") from None
    if not low <= port <= high:
        raise fail(f"--port {port}: out of range; allowed: a port number from {low} to {high}")
    return port


def check_address(host: str, port: int) -> None:
    """Refuse a host that does not resolve to a local address, or a port something else listens on."""
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except socket.gaierror as exc:
        raise fail(f"--host {host}: cannot be resolved ({exc.strerror}); allowed: a local host name or "
                   "address, e.g. 127.0.0.1") from None
    family, kind, proto, _, address = infos[0]
    with socket.socket(family, kind, proto) as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)  # as uvicorn does
        try:
            probe.bind(address)
        except OSError as exc:
            if exc.errno == errno.EADDRINUSE:
                raise fail(f"--port {port}: already in use on {host}; allowed: a free port "
                           "(stop the other server or pick another --port)") from None
            raise fail(f"--host {host} --port {port}: cannot listen there ({exc.strerror}); allowed: an address "
                       "of this machine and a port you may open") from None


def check_results(results: Path | None) -> Path:
    """The folder the run-set page searches; an explicit one must be an existing folder."""
    if results is None:
        return Path("results").resolve()
    if not results.exists():
        raise fail(f"--results {results}: no such folder; allowed: a folder holding run sets (e.g. results/)")
    if not results.is_dir():
        raise fail(f"--results {results}: not a folder; allowed: a folder holding run sets (e.g. results/)")
    return results.resolve()


def solara_command(host: str, port: int) -> list[str]:
    """The server command: ``solara run experiments.viz.app`` in production mode, no browser, no version check
    over the network, a clean stop (experiments.viz.serve)."""
    return [sys.executable, "-m", "experiments.viz.serve", "--host", host, "--port", str(port)]


def server_environment(results: Path) -> dict[str, str]:
    env = dict(os.environ)
    env[RESULTS_ENV] = str(results)
    env["SOLARA_TELEMETRY_MIXPANEL_ENABLE"] = "False"  # no usage reports from a local viewer
    env.setdefault("MPLBACKEND", "Agg")
    return env


def _ensure_assets() -> None:
    """Fetch the page's scripts from the npm registry if Solara's cache lacks them (a warning if that fails:
    the server then tries the public CDN itself)."""
    from experiments.viz.assets import AssetError, ensure_assets

    try:
        ensure_assets(say=lambda text: typer.echo(text, err=True))
    except AssetError as exc:
        typer.echo(f"warning: {exc}; the server will try the public CDN instead, and without it the page "
                   "stays blank", err=True)


def opening_message(url: str, folder: Path) -> str:
    """What ``lcsim viz`` says before the server starts: where, and that the page needs a real browser."""
    return (f"lcsim viewer: open {url} in a web browser with JavaScript (Firefox, Chromium, Safari, Edge).\n"
            "  The page is drawn by JavaScript: curl or a plain screenshot tool only sees 'Loading app'\n"
            "  (for a screenshot, drive a headless browser, e.g. Playwright, and wait for the page).\n"
            f"  On a remote machine: ssh -L PORT:localhost:PORT to it, then open the URL locally.\n"
            f"  Run sets are read from {folder}.  Ctrl-C stops the server.")


def viz(
    host: Annotated[str, typer.Option(metavar="HOST", help="Address to listen on (local only by default).")] = (
        DEFAULT_HOST),
    # The port is taken as text and checked by hand so that errors can name the bad value.
    port: Annotated[str, typer.Option(metavar="PORT", help=f"Port, {PORT_RANGE[0]} to {PORT_RANGE[1]}.")] = (
        str(DEFAULT_PORT)),
    results: Annotated[Path | None, typer.Option(metavar="DIR", help="Folder with run sets for the run-set page "
                                                 "(default: results/).", show_default=False)] = None,
) -> None:
    """Serve the interactive viewer (open it in a web browser with JavaScript): the live model, and run sets.

    The live page runs the model with sliders for the main success factors; the run-set page browses a
    finished sweep or sensitivity run set (design points by number or by factor values)."""
    number = parse_port(port)
    check_address(host, number)
    folder = check_results(results)
    _ensure_assets()
    shown_host = f"[{host}]" if ":" in host else host
    typer.echo(opening_message(f"http://{shown_host}:{number}/", folder), err=True)
    command = solara_command(host, number)
    env = server_environment(folder)
    sys.stdout.flush()
    sys.stderr.flush()
    if os.name == "posix":
        os.execve(sys.executable, command, env)  # does not return: this process is the server now
    try:  # elsewhere: run it as a child and wait
        code = subprocess.call(command, env=env)
    except KeyboardInterrupt:
        code = 0
    raise typer.Exit(code)


def register(app: typer.Typer) -> None:
    """Add ``viz`` to the ``lcsim`` app."""
    app.command()(viz)
