"""The viewer in a real browser: the live page renders its figures, a slider reaches the model through
Reset, stepping changes a displayed figure; the run-set page shows a design point's replicates, the study's
ranking table and the box scenario discovery found.

Run with tests/browser/run_tests.sh (make test-browser).  Screenshots: results/browser/.
"""

from __future__ import annotations

import re
import time
from pathlib import Path

import pytest

from experiments.viz.model import sliders

pytestmark = pytest.mark.browser

CHARTS = ("phases", "elements", "school", "network")
STEPS = 12


def month_of(text: str) -> int:
    match = re.match(r"month (\d+) of", text)
    assert match, f"readout without a month: {text!r}"
    return int(match.group(1))


def test_live_page_slider_reset_and_steps_change_the_figures(page, viewer_url: str, shots: Path):
    from playwright.sync_api import expect

    started = time.monotonic()
    page.goto(viewer_url)
    state = page.locator(".lcsim-readout-state")
    settings = page.locator(".lcsim-readout-settings")
    for kind in CHARTS:
        expect(page.locator(f"img.lcsim-chart-{kind}")).to_be_visible()
    expect(state).to_contain_text("month 0 of 120")
    expect(page.get_by_role("button", name="Live model")).to_be_disabled()  # you are here
    expect(page.get_by_role("button", name="Run sets")).to_be_enabled()

    # Move the management-turnover slider to its maximum with the keyboard (End), as a user would.
    turnover = next(s for s in sliders() if s.name == "management_turnover_rate")
    slider = page.locator(".v-input.v-slider").filter(has_text="Management turnover rate")
    expect(slider).to_have_count(1)
    thumb = slider.locator("[role=slider]")
    expect(thumb).to_have_attribute("aria-valuenow", f"{turnover.value:g}")
    expect(thumb).to_have_attribute("aria-valuemax", f"{turnover.high:g}")
    thumb.focus()
    thumb.press("End")
    expect(thumb).to_have_attribute("aria-valuenow", f"{turnover.high:g}")
    expect(settings).to_contain_text(f"management_turnover_rate = {turnover.value:g}")  # not before Reset

    # Reset rebuilds the model with the slider values.
    page.get_by_role("button", name="Reset").click()
    expect(settings).to_contain_text(f"management_turnover_rate = {turnover.high:g}")
    expect(state).to_contain_text("month 0 of 120")
    chart = page.locator("img.lcsim-chart-phases")
    before = chart.screenshot(path=str(shots / "viewer_phases_before.png"))
    before_network = page.locator("img.lcsim-chart-network").screenshot()

    # Step a school year, one month at a time.
    step = page.get_by_role("button", name="Step")
    for month in range(1, STEPS + 1):
        step.click()
        expect(state).to_contain_text(f"month {month} of 120")
    after = chart.screenshot(path=str(shots / "viewer_phases_after.png"))
    assert after != before, "the pilots-by-phase figure did not change after stepping"
    assert page.locator("img.lcsim-chart-network").screenshot() != before_network, "the tie network did not change"
    assert re.search(r"pilots \d+: ", state.inner_text()), state.inner_text()
    page.screenshot(path=str(shots / "viewer.png"), full_page=True)

    # Play runs on by itself; pause stops it.
    page.get_by_role("button", name="▶").click()
    expect(state).to_contain_text(re.compile(r"month (1[6-9]|[2-9]\d|1[01]\d|120) of 120"))
    page.get_by_role("button", name="❚❚").click()
    paused = month_of(state.inner_text())
    time.sleep(2.0)
    assert month_of(state.inner_text()) - paused <= 1, "the model kept running after pause"

    # The run survives a visit to the run-set page, and the sliders show what it was built with.
    page.get_by_role("button", name="Run sets").click()
    expect(page.locator(".lcsim-runset-info")).to_contain_text("tiny_sweep")
    page.get_by_role("button", name="Live model").click()
    expect(state).to_contain_text(re.compile(rf"month ({paused}|{paused + 1}) of 120"))
    expect(settings).to_contain_text(f"management_turnover_rate = {turnover.high:g}")
    thumb = page.locator(".v-input.v-slider").filter(has_text="Management turnover rate").locator("[role=slider]")
    expect(thumb).to_have_attribute("aria-valuenow", f"{turnover.high:g}")

    # A typo in the seed does not break the page: Reset says what is wrong and runs the default seed.
    seed = page.get_by_label("Seed (as lcsim run --seed)")
    seed.fill("abc")
    seed.press("Enter")
    page.get_by_role("button", name="Reset").click()
    expect(page.locator(".lcsim-input-error")).to_contain_text("seed 'abc': not an integer")
    expect(state).to_contain_text("month 0 of 120")
    seed.fill("42")
    seed.press("Enter")
    page.get_by_role("button", name="Reset").click()
    expect(settings).to_contain_text("seed 42, replicate 0")
    expect(page.locator(".lcsim-input-error")).to_have_count(0)
    assert not page.errors, page.errors  # no JavaScript error on the page
    print(f"live page test: {time.monotonic() - started:.1f} s")


def test_run_set_page_shows_the_replicates_of_a_design_point(page, viewer_url: str, results_folder: Path,
                                                               shots: Path):
    from playwright.sync_api import expect

    from experiments.viz.runsets import load_runset, point_factors

    data = load_runset(results_folder / "tiny_sweep")
    point = 4
    factors = point_factors(data, point)

    # A deep link (a click on "Run sets" right after the page loads can be undone by Solara's router when its
    # location sync mounts a moment later; the buttons are tested below, once the page has settled).
    page.goto(viewer_url + "runsets")
    expect(page.get_by_role("button", name="Run sets")).to_be_disabled()
    info = page.locator(".lcsim-runset-info")
    expect(info).to_contain_text("tiny_sweep")
    expect(info).to_contain_text("6 points x 5 replicates")
    view = page.locator(".lcsim-runset-point")
    expect(view).to_contain_text("Point 0")
    expect(page.locator("img.lcsim-chart-replicates")).to_be_visible()

    box = page.locator(".lcsim-point-input input")
    box.fill(str(point))
    box.press("Enter")
    expect(view).to_contain_text(f"Point {point}")
    table = view.locator("table.lcsim-factors")
    for name, value in factors.items():
        expect(table.locator("tr", has_text=name)).to_contain_text(f"{value:g}")
    expect(view).to_contain_text("y over the replicates")
    expect(view).to_contain_text("n = 5")
    expect(view.locator(".solara-data-table__viewport tbody tr")).to_have_count(5)  # one row per replicate
    page.screenshot(path=str(shots / "runsets.png"), full_page=True)

    # The study's ranking of the factors (x2 has twice x1's slope) and the box `lcsim discover` found for
    # y >= 1.5: x2 at its upper level, every case covered.
    ranking = page.locator(".lcsim-ranking")
    expect(ranking).to_contain_text("Ranking: y")
    expect(ranking.locator("tr", has_text="x2")).to_have_count(1)
    discovery = page.locator(".lcsim-discovery")
    expect(discovery).to_contain_text("Scenario discovery")
    expect(discovery.locator(".lcsim-discovery-limits tr", has_text="x2")).to_have_count(1)
    expect(discovery).to_contain_text("coverage 1.000, density 1.000")
    expect(page.locator("img.lcsim-discovery-chart").first).to_be_visible()

    page.get_by_role("button", name="Live model").click()
    expect(page.locator(".lcsim-readout-state")).to_contain_text("month 0 of 120")
    expect(page.get_by_role("button", name="Live model")).to_be_disabled()
    page.get_by_role("button", name="Run sets").click()
    expect(page.locator(".lcsim-runset-info")).to_contain_text("tiny_sweep")
    assert not page.errors, page.errors
