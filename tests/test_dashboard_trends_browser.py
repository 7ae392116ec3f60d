"""The project page's metric plots in a real Chromium: a 90-day range shows 90 days (the
series is downsampled by qualityMetricSeries, not cut to the latest 100 values), dragging
across a plot zooms to that span at a finer resolution, and Reset zoom (from the keyboard)
returns to the range."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path
from urllib.parse import quote

import pytest
from browser_kit import chromium, graphql, open_page, post_evidence, sign_in

__all__ = ["chromium"]

pytestmark = pytest.mark.server

PROJECT = "github.com/acme/trends"
DAYS = 90
EVERY_HOURS = 6
BENCH = Path(__file__).resolve().parent / "benchmarks" / "bench_dashboard.py"
PLOT = '[data-plot="tests.pass_rate"] svg'
#: The plot's viewBox: 360 wide, its time axis from x = 48 to x = 348 (plot.js).
AXIS_LEFT, AXIS_WIDTH = 48, 300

READ_PLOT = """(selector) => {
  const plot = document.querySelector(selector);
  const dots = [...plot.querySelectorAll("circle")];
  return { t0: plot.querySelector(".t0").textContent, t1: plot.querySelector(".t1").textContent,
    xs: dots.map((d) => Number(d.getAttribute("cx"))),
    titles: dots.map((d) => d.querySelector("title").textContent) };
}"""


def seed_ninety_days(database_url: str) -> None:
    """One CI run's metrics every EVERY_HOURS over the last DAYS, with their times: the
    API stamps a metric with its upload's time, so the dashboard benchmark's seeder writes
    them with the models (in its own process: this one runs Playwright's event loop)."""
    done = subprocess.run(
        [sys.executable, str(BENCH), "seed-metrics", database_url, PROJECT, str(DAYS),
         str(EVERY_HOURS)],
        capture_output=True, text=True, check=False, timeout=300,
        env={**os.environ, "ARCOS_LOG_LEVEL": "warning"},
    )
    assert done.returncode == 0, done.stderr[-3000:]


def test_plots_span_the_range_and_zoom_by_dragging(live_server, chromium):
    watched, page = open_trends(live_server, chromium)
    month = page.evaluate(READ_PLOT, PLOT)

    page.select_option("#range", "90")
    page.wait_for_function("([s, t0]) => document.querySelector(s + ' .t0').textContent !== t0",
                           arg=[PLOT, month["t0"]])
    quarter = page.evaluate(READ_PLOT, PLOT)
    # Day 1 is plotted: the first point is within the first day of the 90-day axis (the
    # latest 100 values of a run every 6 h would start 65 days in).
    assert min(quarter["xs"]) < AXIS_LEFT + AXIS_WIDTH * 1.5 / DAYS, quarter["xs"][:3]
    assert max(quarter["xs"]) > AXIS_LEFT + AXIS_WIDTH * (DAYS - 1) / DAYS
    # Each bucket holds several runs: hovering says so with the bucket's range.
    assert all("values)" in title for title in quarter["titles"]), quarter["titles"][:3]
    page.hover(PLOT)
    assert "values)" in page.locator(f"{PLOT} .readout").text_content()
    assert page.locator("#reset-zoom").is_disabled()

    box = page.locator(PLOT).bounding_box()
    y = box["y"] + box["height"] / 2
    start, end = box["x"] + box["width"] * 0.4, box["x"] + box["width"] * 0.5
    page.mouse.move(start, y)
    page.mouse.down()
    page.mouse.move(end, y, steps=5)
    selection = page.locator(f"{PLOT} rect.selection")
    assert selection.get_attribute("visibility") == "visible"
    assert float(selection.get_attribute("width")) > 20
    watched.screenshot("dashboard-trends-selecting")
    page.mouse.up()
    page.wait_for_function("([s, t0]) => document.querySelector(s + ' .t0').textContent !== t0",
                           arg=[PLOT, quarter["t0"]])
    assert not page.locator("#reset-zoom").is_disabled()
    zoomed = page.evaluate(READ_PLOT, PLOT)
    assert zoomed["t1"] != quarter["t1"]
    # About 9 days of runs at a finer resolution: one run per point, no bucket ranges.
    assert 20 < len(zoomed["xs"]) < len(quarter["xs"]), (len(zoomed["xs"]), len(quarter["xs"]))
    assert not any("values)" in title for title in zoomed["titles"]), zoomed["titles"][:3]
    assert min(zoomed["xs"]) < AXIS_LEFT + 10 and max(zoomed["xs"]) > AXIS_LEFT + AXIS_WIDTH - 10
    watched.screenshot("dashboard-trends-zoomed")

    page.focus("#reset-zoom")
    page.keyboard.press("Enter")
    page.wait_for_function("([s, t0]) => document.querySelector(s + ' .t0').textContent === t0",
                           arg=[PLOT, quarter["t0"]])
    assert page.locator("#reset-zoom").is_disabled()
    back = page.evaluate(READ_PLOT, PLOT)
    assert len(back["xs"]) == len(quarter["xs"])
    watched.assert_clean()


TEST_REPORT = ("mutation($input: ArtifactInput!) { submitTestReport(input: $input) "
               "{ errors { message } } }")
PASS_RATE = '#latest-metrics dd[data-metric="tests.pass_rate"]'
NEXT_FRAMES = "() => new Promise((r) => requestAnimationFrame(() => requestAnimationFrame(r)))"


def send_pass_rate(server, page, passed: int, failed: int) -> str:
    """A JUnit report of `passed` and `failed` tests, uploaded as CI would: its pass rate
    reaches the open page live. Returns that rate as the page shows it, once it does."""
    cases = [f'<testcase classname="c" name="ok{n}"/>' for n in range(passed)]
    cases += [f'<testcase classname="c" name="bad{n}"><failure message="no"/></testcase>'
              for n in range(failed)]
    report = (f'<?xml version="1.0"?><testsuite name="s" tests="{passed + failed}" '
              f'failures="{failed}">{"".join(cases)}</testsuite>')
    done = graphql(server, TEST_REPORT, {"input": {"content": report, "project": PROJECT}})
    assert done["submitTestReport"]["errors"] == [], done
    shown = f"{100 * passed / (passed + failed):.1f} %"
    page.locator(PASS_RATE).get_by_text(shown, exact=True).wait_for()
    return shown


class HeldSeries:
    """Holds each qualityMetricSeries request of the page, its answer fetched from the
    server at once (so later uploads are not in it), until the test releases it."""

    def __init__(self, page) -> None:
        self.page = page
        self.held: list[list] = []  # [route, its fetched answer], in the page's order
        page.route("**/graphql", self._hold)

    def _hold(self, route) -> None:
        if "qualityMetricSeries" in (route.request.post_data or ""):
            held = [route, None]
            self.held.append(held)  # before fetching: a later request may be answered first
            held[1] = route.fetch()
        else:
            route.fallback()

    def wait(self, count: int) -> None:
        """Until `count` requests have been held and fetched."""
        for _ in range(600):
            if len(self.held) >= count and all(fetched for _, fetched in self.held):
                return
            self.page.wait_for_timeout(50)
        raise AssertionError(f"{len(self.held)} series requests held, expected {count}")

    def answer(self, index: int) -> None:
        route, fetched = self.held[index]
        route.fulfill(response=fetched)

    def fail(self, index: int, message: str) -> None:
        route, _ = self.held[index]
        route.fulfill(json={"data": None, "errors": [{"message": message}]})


def open_trends(live_server, chromium):
    post_evidence(live_server, type="build", source="ci", project=PROJECT, data={})
    seed_ninety_days(live_server.database_url)
    watched = open_page(chromium, live_server.http_url)
    page = watched.page
    sign_in(watched, live_server.token)
    page.goto(f"{live_server.http_url}/ui/#/project/{quote(PROJECT, safe='')}")
    page.locator(f"{PLOT} circle").first.wait_for(state="attached")
    page.locator("#live-state").get_by_text("live", exact=True).wait_for()
    return watched, page


def test_live_values_wait_for_a_drag_and_outlive_a_range_request(live_server, chromium):
    watched, page = open_trends(live_server, chromium)
    # A value arriving while a plot is dragged across leaves that plot (and its selection)
    # alone until the drag ends; then it is drawn.
    page.evaluate("(s) => { document.querySelector(s).dataset.mark = 'dragged'; }", PLOT)
    box = page.locator(PLOT).bounding_box()
    y = box["y"] + box["height"] / 2
    start = box["x"] + box["width"] * 0.4
    page.mouse.move(start, y)
    page.mouse.down()
    page.mouse.move(start + box["width"] * 0.1, y, steps=3)
    quarter = send_pass_rate(live_server, page, 1, 3)
    page.evaluate(NEXT_FRAMES)
    dragged = page.locator(f'{PLOT}[data-mark="dragged"] rect.selection')
    assert dragged.get_attribute("visibility") == "visible"
    page.mouse.move(start, y, steps=3)
    page.mouse.up()  # back where it started: no zoom
    page.wait_for_function("(s) => !document.querySelector(s).dataset.mark", arg=PLOT)
    assert quarter in page.evaluate(READ_PLOT, PLOT)["titles"][-1]

    # A value arriving while the 90-day series is being fetched is still plotted after it.
    held = HeldSeries(page)
    page.select_option("#range", "90")
    held.wait(1)
    three_quarters = send_pass_rate(live_server, page, 3, 1)
    held.answer(0)
    # Drawn with the answer: its first point is on the 90-day axis's first day.
    page.wait_for_function("([s, x]) => document.querySelector(s + ' circle').cx.baseVal.value < x",
                           arg=[PLOT, AXIS_LEFT + AXIS_WIDTH * 1.5 / DAYS])
    latest = page.evaluate(READ_PLOT, PLOT)["titles"][-1]
    assert three_quarters in latest and "values)" not in latest, latest
    watched.assert_clean()


def test_only_the_current_series_request_reports_a_failure(live_server, chromium):
    watched, page = open_trends(live_server, chromium)
    held = HeldSeries(page)
    alerts = page.locator("[role=alert]", has_text="metric series")
    month = page.evaluate(READ_PLOT, PLOT)
    page.select_option("#range", "90")
    page.select_option("#range", "7")
    held.wait(2)
    held.answer(1)
    page.wait_for_function("([s, t0]) => document.querySelector(s + ' .t0').textContent !== t0",
                           arg=[PLOT, month["t0"]])
    held.fail(0, "older request failed")  # the 90-day span is no longer asked for
    page.evaluate(NEXT_FRAMES)
    for number, message in enumerate(["first failure", "second failure"], start=2):
        page.select_option("#range", "30" if number == 2 else "90")
        held.wait(number + 1)
        assert alerts.count() == (0 if number == 2 else 1)  # none for the older request
        held.fail(number, message)
        alerts.filter(has_text=message).wait_for()
        # One alert, its text replaced: not one more per failure, none for the older one.
        assert alerts.all_text_contents() == [f"Could not load the metric series: {message}"]
    page.select_option("#range", "7")
    held.wait(5)
    held.answer(4)
    alerts.wait_for(state="hidden")  # a success clears it
    assert page.locator('section[aria-label="Trends"] [role=alert]').text_content() == ""
    watched.assert_clean()
