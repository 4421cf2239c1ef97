"""Fixtures of the browser tests: a tiny finished run set, the viewer (`lcsim viz`) on a free port, and a
headless Chromium page (Debian's /usr/bin/chromium, driven by Playwright; tests/browser/run_tests.sh
installs it).  Every process started here is stopped by its own pid when the session ends."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
#: Where the screenshots are kept for the record.
SHOTS = REPO / "results" / "browser"
CHROMIUM = os.environ.get("LCSIM_CHROMIUM", "/usr/bin/chromium")
#: Chromium flags for a closed network and a root user in a container.
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--disable-quic",
    "--disable-dev-shm-usage",
]
#: Seconds to wait for the server and for the page (2 shared cores may be busy with other work).
START_TIMEOUT = 120
PAGE_TIMEOUT_MS = 60_000


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def stop(process: subprocess.Popen) -> None:
    """SIGTERM the server by its pid (it is Solara itself: `lcsim viz` execs it), SIGKILL if it lingers."""
    if process.poll() is not None:
        return
    process.send_signal(signal.SIGTERM)
    try:
        process.wait(timeout=20)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait(timeout=10)


@pytest.fixture(scope="session")
def results_folder(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A results folder with one finished run set: a 3 x 2 factorial sweep of the cheap linear test model,
    5 replicates per point, analysed (its ranking table) and with a discovered box for y >= 1.5 (x2 high):
    the run-set page browses all three."""
    from typer.testing import CliRunner

    from experiments.cli import app
    from experiments.execution.study import run_study
    from experiments.config.study import study_from_dict

    root = tmp_path_factory.mktemp("results")
    config = study_from_dict(
        {"name": "tiny_sweep", "description": "y = x1 + 2 x2 + noise", "seed": 5, "replicates": 5,
         "model": "linear_noise", "design": "factorial", "levels": {"x1": [0.0, 0.5, 1.0], "x2": [0.0, 1.0]},
         "parameters": {"noise_sd": 0.3}, "analysis": {"bootstrap": 100}},
        "sweep", source="tests/browser/conftest.py",
    )
    run_study(config, root / "tiny_sweep", backend="serial", analyse=True)
    found = CliRunner().invoke(app, ["discover", str(root / "tiny_sweep"), "--output", "y", "--above", "1.5"])
    assert found.exit_code == 0, found.output
    return root


@pytest.fixture(scope="session")
def viewer_url(results_folder: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """`lcsim viz` on a free port of 127.0.0.1, answering HTTP 200; stopped by pid afterwards."""
    port = free_port()
    lcsim = Path(sys.executable).with_name("lcsim")
    command = [str(lcsim), "viz", "--host", "127.0.0.1", "--port", str(port), "--results", str(results_folder)]
    log_path = tmp_path_factory.mktemp("viewer") / "server.log"
    log = open(log_path, "w")  # noqa: SIM115  (closed in the finaliser)
    process = subprocess.Popen(command, cwd=REPO, stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL)
    url = f"http://127.0.0.1:{port}/"
    try:
        deadline = time.monotonic() + START_TIMEOUT
        while True:
            if process.poll() is not None:
                pytest.fail(f"lcsim viz exited with {process.returncode}:\n{log_path.read_text()}")
            try:
                with urllib.request.urlopen(url, timeout=10) as response:
                    if response.status == 200:
                        break
            except (urllib.error.URLError, OSError):
                pass
            if time.monotonic() > deadline:
                pytest.fail(f"lcsim viz did not answer on {url} within {START_TIMEOUT} s:\n{log_path.read_text()}")
            time.sleep(0.5)
        yield url
    finally:
        stop(process)
        log.close()
        text = log_path.read_text()
        if "Traceback" in text or "ERROR" in text:
            print(f"--- lcsim viz log ---\n{text}", file=sys.stderr)


@pytest.fixture(scope="session")
def browser() -> Iterator[object]:
    if not Path(CHROMIUM).exists():
        pytest.fail(f"{CHROMIUM} is missing: run tests/browser/run_tests.sh (make test-browser), which installs "
                    "Debian's chromium")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True)
        try:
            yield chromium
        finally:
            chromium.close()


@pytest.fixture()
def page(browser) -> Iterator[object]:
    from playwright.sync_api import expect

    expect.set_options(timeout=PAGE_TIMEOUT_MS)  # Solara renders over a websocket: give it time
    context = browser.new_context(viewport={"width": 1500, "height": 1100})
    page = context.new_page()
    page.set_default_timeout(PAGE_TIMEOUT_MS)
    errors: list[str] = []
    console: list[str] = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    page.on("console", lambda message: console.append(f"{message.type}: {message.text}"))
    page.errors = errors  # type: ignore[attr-defined]
    try:
        yield page
    finally:
        print("--- browser console (last 40 lines) ---\n" + "\n".join(console[-40:]))  # shown on failure
        context.close()


@pytest.fixture(scope="session")
def shots() -> Path:
    SHOTS.mkdir(parents=True, exist_ok=True)
    return SHOTS
