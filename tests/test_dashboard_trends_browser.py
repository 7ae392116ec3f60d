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
from browser_kit import chromium, open_page, post_evidence, sign_in

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
    post_evidence(live_server, type="build", source="ci", project=PROJECT, data={})
    seed_ninety_days(live_server.database_url)
    watched = open_page(chromium, live_server.http_url)
    page = watched.page
    sign_in(watched, live_server.token)
    page.goto(f"{live_server.http_url}/ui/#/project/{quote(PROJECT, safe='')}")
    page.locator(f"{PLOT} circle").first.wait_for(state="attached")
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
