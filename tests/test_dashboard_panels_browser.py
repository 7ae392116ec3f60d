"""Visualization plugins' panels on the dashboard's project page, in a real headless Chromium:
real plugins are registered and executed in the sandbox for a project, one per panel kind,
and the page draws each of them — series over labels, stacks, slices, a gauge, a stat, a
table, a heatmap — with a legend naming the series and the values as text. A hostile plugin
name stays text; the page logs no console error. Screenshot: dashboard-plugin-panels."""

from __future__ import annotations

import pytest
from browser_kit import XSS_FLAG, chromium, graphql, open_page, post_evidence, sign_in

__all__ = ["chromium"]

pytestmark = pytest.mark.server

PROJECT = "github.com/acme/panels"
EMPTY_PROJECT = "github.com/acme/no-panels"
PAYLOAD = f"<img src=x onerror=\"window.{XSS_FLAG}=1;alert(1)\">"
#: The schema forbids < and > in a panel's text; quotes and ampersands are still text.
TITLE = "Build \"time\" & 'onerror=alert(1)'"

#: Draws the panel its input carries, so one source serves every kind.
DRAW_CODE = "def draw(data):\n    return data[\"panel\"]\n"

PANELS = {
    "line": {"kind": "line", "title": TITLE, "unit": "s", "labels": ["mon", "tue", "wed"],
             "axes": {"left": {"label": "median"}, "right": {"label": "p95"}},
             "series": [{"name": "build seconds", "values": [30, None, 42]},
                        {"name": "p95 seconds", "values": [50, 55, 61], "axis": "right"}]},
    "bar": {"kind": "bar", "title": "Findings by week", "labels": ["w1", "w2"],
            "series": [{"name": "high", "values": [2, 1], "stack": "severity"},
                       {"name": "low", "values": [5, 3], "stack": "severity"}]},
    "area": {"kind": "area", "title": "Open findings", "labels": ["a", "b", "c"],
             "series": [{"name": "open", "values": [4, 6, 5]}]},
    "scatter": {"kind": "scatter", "title": "Size against time", "labels": ["1", "2", "3"],
                "series": [{"name": "builds", "values": [3, 9, 4]}]},
    "combo": {"kind": "combo", "title": "Runs and pass rate", "labels": ["mon", "tue"],
              "series": [{"name": "runs", "kind": "bar", "values": [10, 12]},
                         {"name": "pass rate", "values": [0.9, 0.95], "axis": "right"}]},
    "pie": {"kind": "pie", "title": "Test outcomes", "labels": ["pass", "fail", "skip"],
            "series": [{"name": "tests", "values": [40, 3, 2]}]},
    "gauge": {"kind": "gauge", "title": "Coverage", "unit": "%",
              "axes": {"left": {"min": 0, "max": 100}},
              "series": [{"name": "line coverage", "values": [72]}]},
    "stat": {"kind": "stat", "title": "Latency", "unit": "ms",
             "series": [{"name": "p50 latency", "values": [120, 118, 97]}]},
    "table": {"kind": "table", "title": "Tests per service", "labels": ["api", "web"],
              "series": [{"name": "tests", "values": [120, 80]},
                         {"name": "failures", "values": [1, 0]}]},
    "heatmap": {"kind": "heatmap", "title": "Failures by day", "labels": ["mon", "tue"],
                "series": [{"name": "api", "values": [1, 7]}, {"name": "web", "values": [0, 3]}]},
}

REGISTER = """mutation($input: RegisterPluginInput!) {
  registerPlugin(input: $input) { plugin { pluginId } errors { message } problems { message } }
}"""
EXECUTE = """mutation($input: ExecutePluginInput!) {
  executePlugin(input: $input) { execution { status } panel errors { message } }
}"""


def draw_panel(server, plugin_id: str, name: str, panel: dict) -> None:
    """Register a visualization plugin drawing `panel` and execute it for PROJECT."""
    manifest = {"id": plugin_id, "name": name, "version": "1.0.0", "type": "visualization",
                "description": "draws", "author": "acme", "permissions": [],
                "entry_point": "draw"}
    registered = graphql(server, REGISTER, {"input": {"manifest": manifest, "code": DRAW_CODE}})
    assert registered["registerPlugin"]["errors"] == [], registered
    executed = graphql(server, EXECUTE, {"input": {
        "plugin": plugin_id, "input": {"panel": panel}, "project": PROJECT}})["executePlugin"]
    assert executed["errors"] == [] and executed["panel"] == panel, executed


def draw_every_kind(server) -> list[str]:
    """Register a visualization plugin per kind and execute each for PROJECT; their ids in
    the order they drew."""
    drawn = []
    for kind, panel in PANELS.items():
        plugin_id = f"acme.panel_{kind}"
        draw_panel(server, plugin_id, PAYLOAD if kind == "line" else f"{kind} drawer", panel)
        drawn.append(plugin_id)
    return drawn


def test_the_project_page_draws_each_plugin_panel(live_server, chromium):
    post_evidence(live_server, type="custom", source="ci", project=PROJECT, data={"n": 1})
    post_evidence(live_server, type="custom", source="ci", project=EMPTY_PROJECT, data={"n": 1})
    drawn = draw_every_kind(live_server)
    watched = open_page(chromium, live_server.http_url)
    page = watched.page
    sign_in(watched, live_server.token)
    page.goto(f"{live_server.http_url}/ui/#/project/{PROJECT.replace('/', '%2F')}")
    figures = page.locator("#plugin-panels figure[data-panel]")
    figures.first.wait_for()
    assert figures.evaluate_all("all => all.map(f => f.dataset.panel)") == drawn[::-1]

    def panel(kind: str):
        return page.locator(f'[data-panel="acme.panel_{kind}"]')

    line = panel("line")
    caption = line.locator("figcaption").inner_text()
    assert TITLE in caption and PAYLOAD in caption and "acme.panel_line@1.0.0" in caption
    assert line.locator(".legend li").all_text_contents() == ["build seconds", "p95 seconds (right axis)"]
    assert line.locator('g[data-series="build seconds"] circle').count() == 2  # the gap is no dot
    assert line.locator('g[data-series="build seconds"] circle title').first.text_content() \
        == "build seconds · mon: 30 s"
    assert {"median", "p95"} <= set(line.locator("svg text.axis-label").all_text_contents())
    # Each axis spans its own series (a line is not drawn from 0): 30-42 s left, 50-61 s right.
    assert {"30 s", "42 s", "50 s", "61 s"} <= set(line.locator("svg text").all_text_contents())

    high = panel("bar").locator('g[data-series="high"] rect.bar').first
    low = panel("bar").locator('g[data-series="low"] rect.bar').first
    assert high.get_attribute("x") == low.get_attribute("x")  # one stack, one slot
    assert float(low.get_attribute("y")) + float(low.get_attribute("height")) \
        == pytest.approx(float(high.get_attribute("y")), abs=0.01)  # low sits on high
    assert panel("bar").locator(".legend li").first.text_content() == "high stack severity"

    assert panel("area").locator("path.area").count() == 1
    assert panel("scatter").locator("circle.dot").count() == 3
    assert panel("scatter").locator("path.line").count() == 0
    combo = panel("combo")
    assert combo.locator('g[data-series="runs"] rect.bar').count() == 2
    assert combo.locator('g[data-series="pass rate"] path.line').count() == 1

    pie = panel("pie")
    assert pie.locator("path.slice").count() == 3
    assert pie.locator(".legend li").all_text_contents() == [
        "pass 40 (88.9 %)", "fail 3 (6.7 %)", "skip 2 (4.4 %)"]
    gauge = panel("gauge")
    assert gauge.locator("text.gauge-reading").text_content() == "72 %"
    assert "72 % (72 % of range)" in gauge.locator(".legend").inner_text()
    stat = panel("stat").locator('[data-series="p50 latency"]')
    assert stat.locator(".stat-value").inner_text() == "97 ms"
    assert stat.locator(".spark polyline").count() == 1
    rows = panel("table").locator("tbody tr").all_inner_texts()
    assert [row.split("\t") for row in rows] == [["api", "120", "1"], ["web", "80", "0"]]
    cell = panel("heatmap").locator('[data-cell="api|tue"]')
    assert cell.locator("text").text_content() == "7"
    assert cell.locator("title").text_content() == "api · tue: 7"
    assert "each cell shows its value" in panel("heatmap").inner_text()

    page.locator("#plugin-panels").scroll_into_view_if_needed()
    watched.screenshot("dashboard-plugin-panels")
    assert page.locator("main img").count() == 0
    assert not watched.xss_fired()

    page.goto(f"{live_server.http_url}/ui/#/project/{EMPTY_PROJECT.replace('/', '%2F')}")
    page.locator("#plugin-panels").get_by_text(
        "No visualization plugin has drawn a panel for this project.").wait_for()
    watched.assert_clean()


#: The most a panel may hold (arcos/plugins/panel.py): 20 series of 1,000 values.
LONG, SERIES = 1000, 20
#: A series chart draws about one value per unit of its 316-unit-wide plot (panels.js):
#: 1,000 values in bins of 4, so 250 bars a series, a hover title on every other one.
BINS, TITLED = 250, 125
#: Rows of a table and columns of a heatmap shown (SHOWN in panels.js).
SHOWN = 100


def long_panel(kind: str, series: int) -> dict:
    return {"kind": kind, "title": f"long {kind}", "labels": [f"run {n}" for n in range(LONG)],
            "series": [{"name": f"s{k}", "values": [(n * (k + 1)) % 97 for n in range(LONG)]}
                       for k in range(series)]}


def test_the_largest_panels_draw_a_bounded_number_of_elements(live_server, chromium):
    post_evidence(live_server, type="custom", source="ci", project=PROJECT, data={"n": 1})
    for kind, series in [("bar", SERIES), ("line", SERIES), ("table", 2), ("heatmap", 2)]:
        draw_panel(live_server, f"acme.long_{kind}", f"long {kind}", long_panel(kind, series))
    watched = open_page(chromium, live_server.http_url)
    page = watched.page
    sign_in(watched, live_server.token)
    page.goto(f"{live_server.http_url}/ui/#/project/{PROJECT.replace('/', '%2F')}")
    page.locator('[data-panel="acme.long_bar"] svg').first.wait_for()

    def panel(kind: str):
        return page.locator(f'[data-panel="acme.long_{kind}"]')

    points_note = f"Showing {BINS} of {LONG} points, each the mean of up to 4 values."
    bar = panel("bar")
    assert bar.locator("rect.bar").count() == SERIES * BINS
    assert bar.locator("rect.bar title").count() == SERIES * TITLED
    assert bar.locator(".panel-note").inner_text() == points_note
    # The first bar is the mean of runs 0-3 of s0 (0, 1, 2, 3), its hover says which.
    assert bar.locator('g[data-series="s0"] title').first.text_content() \
        == "s0 · run 0 \u2013 run 3: 1.5"
    line = panel("line")
    assert line.locator("circle.dot").count() == SERIES * TITLED
    assert line.locator(".panel-note").inner_text() == points_note
    table = panel("table")
    assert table.locator("tbody tr").count() == SHOWN
    assert table.locator(".panel-note").inner_text() == f"Showing {SHOWN} of {LONG} rows."
    heatmap = panel("heatmap")
    assert heatmap.locator("[data-cell]").count() == 2 * SHOWN
    assert heatmap.locator(".panel-note").inner_text() == f"Showing {SHOWN} of {LONG} columns."
    assert "each cell shows its value on hover" in heatmap.inner_text()
    # Every node of the four panels: under 14,000, against some 90,000 one per value.
    assert page.locator("#plugin-panels *").count() < 15_000
    page.locator("#plugin-panels").scroll_into_view_if_needed()
    watched.screenshot("dashboard-plugin-panels-long")
    watched.assert_clean()
