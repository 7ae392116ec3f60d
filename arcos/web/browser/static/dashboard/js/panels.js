// A visualization plugin's panel (the `pluginPanelSchema` document, arcos/plugins/panel.py)
// drawn with the dashboard's own SVG. Every kind the schema allows is drawn, with a legend
// naming each series and each value as text too (a hover <title>, a cell, a legend note), so
// colour is never the only signal. A panel is a plugin's data: it only ever becomes text
// nodes and attributes, never markup.

import { h, svg } from "./dom.js";
import { extent, sparkline } from "./plot.js";

const WIDTH = 420;
const HEIGHT = 220;
const PAD = { left: 52, right: 52, top: 18, bottom: 32 };
// Series colours are the classes s0…s7 in app.css; line series also differ by dash.
const TONES = 8;
const DASHES = [null, "6 3", "2 3", "8 3 2 3", "1 3", "10 4", "4 4", "12 2 2 2"];
const X_TICKS = 8;
const INSET = 6;
const HEAT_ROW = 26;
const HEAT_NAMES = 110;
// A panel may hold 20 series of 1,000 values: a series chart draws about one value per
// horizontal pixel (viewBox unit) of its plot, hover titles and line dots on at most MARKS
// points of a series, and a table or heatmap its first SHOWN labels, each saying so.
const PLOT_PX = WIDTH - PAD.left - PAD.right;
const MARKS = 200;
const SHOWN = 100;

const finite = (v) => typeof v === "number" && Number.isFinite(v);
const tone = (i) => `s${i % TONES}`;
const dash = (i) => DASHES[i % DASHES.length];
const sum = (values) => values.filter(finite).reduce((a, b) => a + b, 0);
const last = (values) => [...values].reverse().find(finite);

/** A number as the panel shows it: its unit after it, "—" for a gap. */
export function panelNumber(value, unit) {
  if (!finite(value)) return "—";
  const text = Number.isInteger(value) ? String(value)
    : value.toFixed(Math.abs(value) < 1 ? 3 : 2).replace(/\.?0+$/, "");
  return unit ? `${text} ${unit}` : text;
}

function labelsOf(panel) {
  const labels = panel.labels || [];
  const count = Math.max(labels.length, ...panel.series.map((s) => s.values.length));
  return Array.from({ length: count }, (_, i) => labels[i] ?? String(i + 1));
}

/** "Showing N of M …" under a panel cut to fit, or nothing. */
function shownNote(shown, total, what) {
  return shown < total ? h("p", { class: "muted panel-note" }, `Showing ${shown} of ${total} ${what}.`) : null;
}

/**
 * The panel with its labels cut into equal bins of at most PLOT_PX, each value the mean of
 * its bin's (a mean keeps stacked bars and areas exact; a spike is averaged in, and the
 * note says so), with the bins' first labels for the ticks.
 */
function binned(panel) {
  const labels = labelsOf(panel);
  const size = Math.ceil(labels.length / PLOT_PX);
  if (size <= 1) return { panel, ticks: labels, note: null };
  const bins = Array.from({ length: Math.ceil(labels.length / size) },
    (_, b) => [b * size, Math.min((b + 1) * size, labels.length)]);
  const mean = (values) => {
    const found = values.filter(finite);
    return found.length ? sum(found) / found.length : null;
  };
  return {
    panel: { ...panel, labels: bins.map(([a, b]) => (b - a > 1 ? `${labels[a]} – ${labels[b - 1]}` : labels[a])),
      series: panel.series.map((s) => ({ ...s, values: bins.map(([a, b]) => mean(s.values.slice(a, b))) })) },
    ticks: bins.map(([a]) => labels[a]),
    note: shownNote(bins.length, labels.length, `points, each the mean of up to ${size} values`),
  };
}

function axisOf(panel, name) {
  return (panel.axes && panel.axes[name]) || {};
}

function unitOf(panel, axis) {
  return axisOf(panel, axis).unit || panel.unit || "";
}

function frame(label, height = HEIGHT) {
  return svg("svg", { class: "plot panel-plot", viewBox: `0 0 ${WIDTH} ${height}`, role: "img",
    "aria-label": label });
}

function swatch(index, shape) {
  return svg("svg", { class: `swatch ${tone(index)}`, viewBox: "0 0 24 12", "aria-hidden": "true" },
    shape === "line"
      ? svg("line", { x1: 1, y1: 6, x2: 23, y2: 6, "stroke-dasharray": dash(index) })
      : svg("rect", { x: 4, y: 1, width: 16, height: 10 }));
}

/** The legend: [{ name, index, shape: "line" | "box", note }] as a list of text. */
function legend(entries) {
  return h("ul", { class: "legend" }, entries.map((e) => h("li", { "data-series": e.name },
    swatch(e.index, e.shape), e.name, e.note ? h("span", { class: "muted" }, ` ${e.note}`) : null)));
}

// Line, area, scatter, bar and combo: series over the labels, on a left and a right axis.
function seriesChart(full) {
  const { panel, ticks, note } = binned(full);
  const labels = labelsOf(panel);
  const n = Math.max(labels.length, 1);
  const members = panel.series.map((s, index) => ({
    s, index, axis: s.axis === "right" ? "right" : "left",
    kind: s.kind || (panel.kind === "combo" ? "line" : panel.kind),
  }));
  // Stacked bars and areas start where the series before them in their stack ended.
  const stacks = new Map();
  for (const m of members) {
    const stacked = m.s.stack && (m.kind === "bar" || m.kind === "area");
    const key = stacked ? `${m.kind}|${m.axis}|${m.s.stack}` : null;
    const bases = key ? stacks.get(key) || { up: [], down: [] } : { up: [], down: [] };
    if (key) stacks.set(key, bases);
    m.spans = labels.map((_, i) => {
      const v = m.s.values[i];
      if (!finite(v)) return null;
      const side = v >= 0 ? bases.up : bases.down;
      const from = side[i] || 0;
      side[i] = from + v;
      return [from, from + v];
    });
    m.slot = m.kind === "bar" ? (key || `own|${m.index}`) : null;
  }
  const scales = {};
  for (const axis of ["left", "right"]) {
    const on = members.filter((m) => m.axis === axis);
    if (!on.length) continue;
    // Bars and areas are drawn from a base (0, or the stack below), so it is in range too.
    const based = on.some((m) => m.kind === "bar" || m.kind === "area");
    const values = on.flatMap((m) => m.spans.filter(Boolean)
      .flatMap((span) => (m.kind === "bar" || m.kind === "area" ? span : [span[1]])));
    let [low, high] = values.length ? extent(values) : [0, 1];
    const given = axisOf(panel, axis);
    if (finite(given.min)) low = given.min;
    if (finite(given.max)) high = given.max;
    if (!(high > low)) high = low + 1;
    // Dots at the ends of the range stay clear of the frame; a base stays on the axis line.
    const bottom = HEIGHT - PAD.bottom - (based ? 0 : INSET);
    const top = PAD.top + INSET;
    scales[axis] = { low, high, unit: unitOf(panel, axis),
      y: (v) => bottom - ((Math.min(Math.max(v, low), high) - low) / (high - low)) * (bottom - top) };
  }
  const band = (WIDTH - PAD.left - PAD.right) / n;
  const x = (i) => PAD.left + band * (i + 0.5);
  const slots = [...new Set(members.map((m) => m.slot).filter(Boolean))];
  const slotWidth = (band * 0.8) / Math.max(slots.length, 1);
  const chart = frame(panel.title || `${panel.kind} panel`);
  chart.append(svg("line", { class: "axis", x1: PAD.left, y1: HEIGHT - PAD.bottom,
    x2: WIDTH - PAD.right, y2: HEIGHT - PAD.bottom }));
  for (const [axis, at, anchor] of [["left", PAD.left - 4, "end"], ["right", WIDTH - PAD.right + 4, "start"]]) {
    const scale = scales[axis];
    if (!scale) continue;
    chart.append(
      svg("text", { x: at, y: scale.y(scale.high) + 4, "text-anchor": anchor }, panelNumber(scale.high, scale.unit)),
      svg("text", { x: at, y: scale.y(scale.low), "text-anchor": anchor }, panelNumber(scale.low, scale.unit)));
    if (axisOf(panel, axis).label) {
      chart.append(svg("text", { class: "axis-label", x: axis === "left" ? 2 : WIDTH - 2, y: 10,
        "text-anchor": axis === "left" ? "start" : "end" }, axisOf(panel, axis).label));
    }
  }
  const step = Math.ceil(n / X_TICKS);
  ticks.forEach((label, i) => {
    if (i % step === 0) {
      chart.append(svg("text", { x: x(i), y: HEIGHT - PAD.bottom + 12, "text-anchor": "middle" }, label));
    }
  });
  if (axisOf(panel, "x").label) {
    chart.append(svg("text", { class: "axis-label", x: WIDTH / 2, y: HEIGHT - 4, "text-anchor": "middle" },
      axisOf(panel, "x").label));
  }
  for (const m of members) {
    const { y, unit } = scales[m.axis];
    const group = svg("g", { class: `series ${m.kind} ${tone(m.index)}`, "data-series": m.s.name });
    const marked = (i) => i % Math.ceil(n / MARKS) === 0;
    const hover = (i) => (marked(i)
      ? svg("title", {}, `${m.s.name} · ${labels[i]}: ${panelNumber(m.s.values[i], unit)}`) : null);
    if (m.kind === "bar") {
      const left = PAD.left + slots.indexOf(m.slot) * slotWidth + band * 0.1;
      m.spans.forEach((span, i) => {
        if (!span) return;
        const top = y(Math.max(...span));
        group.append(svg("rect", { class: "bar", x: left + band * i, y: top, width: Math.max(slotWidth - 1, 1),
          height: Math.max(y(Math.min(...span)) - top, 0.5) }, hover(i)));
      });
    } else {
      // Gaps (null) break a line or an area into runs.
      const runs = [[]];
      m.spans.forEach((span, i) => (span ? runs[runs.length - 1].push(i) : runs.push([])));
      for (const run of runs.filter((r) => r.length)) {
        const top = run.map((i) => `${x(i).toFixed(1)} ${y(m.spans[i][1]).toFixed(1)}`);
        if (m.kind === "area") {
          const base = [...run].reverse().map((i) => `${x(i).toFixed(1)} ${y(m.spans[i][0]).toFixed(1)}`);
          group.append(svg("path", { class: "area", d: `M${top.join(" L")} L${base.join(" L")} Z` }));
        }
        if (m.kind !== "scatter") {
          group.append(svg("path", { class: "line", d: `M${top.join(" L")}`, "stroke-dasharray": dash(m.index) }));
        }
      }
      m.spans.forEach((span, i) => {
        if (span && (m.kind === "scatter" || marked(i))) group.append(svg("circle", { class: "dot", cx: x(i), cy: y(span[1]), r: m.kind === "scatter" ? 3.5 : 2.5 }, hover(i)));
      });
    }
    chart.append(group);
  }
  return [chart, legend(members.map((m) => ({ name: m.s.name, index: m.index,
    shape: m.kind === "bar" ? "box" : "line",
    note: [m.s.stack ? `stack ${m.s.stack}` : "", m.axis === "right" ? "(right axis)" : ""].filter(Boolean).join(" ") }))),
  note];
}

function pieChart(panel) {
  const unit = panel.unit || "";
  const slices = (panel.series.length > 1
    ? panel.series.map((s, index) => ({ name: s.name, value: sum(s.values), index }))
    : labelsOf(panel).map((name, index) => ({ name, value: panel.series[0].values[index], index })))
    .filter((slice) => finite(slice.value) && slice.value > 0);
  const total = sum(slices.map((slice) => slice.value));
  const chart = frame(panel.title || "pie panel");
  const [cx, cy, r] = [WIDTH / 2, HEIGHT / 2, HEIGHT / 2 - 12];
  if (!total) {
    chart.append(svg("text", { x: cx, y: cy, "text-anchor": "middle" }, "no values"));
    return [chart];
  }
  let angle = -Math.PI / 2;
  const share = (value) => `${((value / total) * 100).toFixed(1)} %`;
  for (const slice of slices) {
    const turn = (slice.value / total) * 2 * Math.PI;
    const title = svg("title", {}, `${slice.name}: ${panelNumber(slice.value, unit)} (${share(slice.value)})`);
    const point = (a) => `${(cx + r * Math.cos(a)).toFixed(2)} ${(cy + r * Math.sin(a)).toFixed(2)}`;
    chart.append(slices.length === 1
      ? svg("circle", { class: `slice ${tone(slice.index)}`, cx, cy, r }, title)
      : svg("path", { class: `slice ${tone(slice.index)}`, "data-slice": slice.name,
        d: `M${cx} ${cy} L${point(angle)} A${r} ${r} 0 ${turn > Math.PI ? 1 : 0} 1 ${point(angle + turn)} Z` }, title));
    angle += turn;
  }
  return [chart, legend(slices.map((slice) => ({ name: slice.name, index: slice.index, shape: "box",
    note: `${panelNumber(slice.value, unit)} (${share(slice.value)})` })))];
}

function gaugeChart(panel) {
  const s = panel.series[0];
  const value = last(s.values);
  // Its range is the left axis's (or the x axis's, for a plugin that thinks of it so).
  const axis = { ...axisOf(panel, "x"), ...axisOf(panel, "left") };
  const low = finite(axis.min) ? axis.min : 0;
  let high = finite(axis.max) ? axis.max : Math.max(100, finite(value) ? value : 0);
  if (!(high > low)) high = low + 1;
  const unit = axis.unit || panel.unit || "";
  const fraction = finite(value) ? Math.min(Math.max((value - low) / (high - low), 0), 1) : 0;
  const [cx, cy, r] = [WIDTH / 2, HEIGHT - 40, 130];
  const end = `${(cx - r * Math.cos(fraction * Math.PI)).toFixed(2)} ${(cy - r * Math.sin(fraction * Math.PI)).toFixed(2)}`;
  const chart = frame(panel.title || "gauge panel");
  chart.append(
    svg("path", { class: "gauge-track", d: `M${cx - r} ${cy} A${r} ${r} 0 0 1 ${cx + r} ${cy}` }),
    svg("path", { class: `gauge-value ${tone(0)}`, d: `M${cx - r} ${cy} A${r} ${r} 0 0 1 ${end}` },
      svg("title", {}, `${s.name}: ${panelNumber(value, unit)} of ${panelNumber(low, unit)} to ${panelNumber(high, unit)}`)),
    svg("text", { class: "gauge-reading", x: cx, y: cy - 16, "text-anchor": "middle" }, panelNumber(value, unit)),
    svg("text", { x: cx - r, y: cy + 16, "text-anchor": "middle" }, panelNumber(low, unit)),
    svg("text", { x: cx + r, y: cy + 16, "text-anchor": "middle" }, panelNumber(high, unit)));
  return [chart, legend([{ name: s.name, index: 0, shape: "box",
    note: `${panelNumber(value, unit)} (${(fraction * 100).toFixed(0)} % of range)` }])];
}

function statPanel(panel) {
  return [h("div", { class: "stats" }, panel.series.map((s, i) => {
    const values = s.values.filter(finite);
    return h("div", { class: "stat", "data-series": s.name },
      h("span", { class: "stat-value" }, panelNumber(last(s.values), panel.unit)),
      h("span", { class: "stat-name" }, s.name),
      values.length > 1 ? h("span", { class: tone(i) }, sparkline(values, `${s.name} trend`)) : null);
  }))];
}

function tablePanel(panel) {
  const x = axisOf(panel, "x");
  const labels = labelsOf(panel);
  return [h("table", { class: "panel-table", "aria-label": panel.title || "table panel" },
    h("thead", {}, h("tr", {}, h("th", {}, x.label || ""), panel.series.map((s) => h("th", {}, s.name)))),
    h("tbody", {}, labels.slice(0, SHOWN).map((label, i) => h("tr", {}, h("th", { scope: "row" }, label),
      panel.series.map((s) => h("td", { class: "num" }, panelNumber(s.values[i], panel.unit))))))),
  shownNote(Math.min(labels.length, SHOWN), labels.length, "rows")];
}

function heatmapPanel(panel) {
  const all = labelsOf(panel);
  const labels = all.slice(0, SHOWN);
  const values = panel.series.flatMap((s) => s.values.slice(0, SHOWN).filter(finite));
  const [low, high] = values.length ? extent(values) : [0, 1];
  const height = PAD.top + panel.series.length * HEAT_ROW + PAD.bottom;
  const cell = (WIDTH - HEAT_NAMES - 8) / Math.max(labels.length, 1);
  const chart = frame(panel.title || "heatmap panel", height);
  panel.series.forEach((s, row) => {
    const top = PAD.top + row * HEAT_ROW;
    chart.append(svg("text", { x: HEAT_NAMES - 6, y: top + HEAT_ROW / 2 + 4, "text-anchor": "end" },
      s.name.length > 18 ? `${s.name.slice(0, 17)}…` : s.name, svg("title", {}, s.name)));
    labels.forEach((label, i) => {
      const v = s.values[i];
      const strength = finite(v) ? (v - low) / (high - low) : 0;
      const left = HEAT_NAMES + i * cell;
      chart.append(svg("g", { class: `heat-cell${finite(v) ? "" : " empty"}${strength > 0.55 ? " strong" : ""}`,
        "data-cell": `${s.name}|${label}` },
      svg("rect", { x: left, y: top, width: Math.max(cell - 1, 1), height: HEAT_ROW - 1,
        "fill-opacity": (0.08 + 0.92 * strength).toFixed(2) }),
      cell >= 18 ? svg("text", { x: left + cell / 2, y: top + HEAT_ROW / 2 + 4, "text-anchor": "middle" },
        panelNumber(v)) : null,
      svg("title", {}, `${s.name} · ${label}: ${panelNumber(v, panel.unit)}`)));
    });
  });
  const step = Math.ceil(labels.length / X_TICKS);
  labels.forEach((label, i) => {
    if (i % step === 0) {
      chart.append(svg("text", { x: HEAT_NAMES + (i + 0.5) * cell, y: height - PAD.bottom + 14,
        "text-anchor": "middle" }, label));
    }
  });
  return [chart, h("p", { class: "muted legend-scale" },
    `Darker is higher: ${panelNumber(low, panel.unit)} to ${panelNumber(high, panel.unit)}; each cell shows `
    + `its value${cell >= 18 ? "" : " on hover"}.`), shownNote(labels.length, all.length, "columns")];
}

const DRAW = { line: seriesChart, area: seriesChart, scatter: seriesChart, bar: seriesChart,
  combo: seriesChart, pie: pieChart, gauge: gaugeChart, stat: statPanel, table: tablePanel,
  heatmap: heatmapPanel };

/** A panel drawn as its kind says, or a sentence saying why it cannot be. */
export function drawPanel(panel) {
  const draw = panel && Array.isArray(panel.series) && panel.series.length && DRAW[panel.kind];
  if (!draw) return h("p", { class: "muted" }, "This panel cannot be drawn.");
  return h("div", { class: "panel-body", "data-kind": panel.kind }, draw(panel));
}

/**
 * `pluginPanels` answers as figures: each panel under its title, the plugin (its name as
 * its publisher wrote it, shown as text), version and when it was drawn.
 */
export function panelFigures(panels, when) {
  if (!panels.length) {
    return h("p", { class: "muted" }, "No visualization plugin has drawn a panel for this project.");
  }
  return panels.map((p) => h("figure", { class: "card panel", "data-panel": p.pluginId },
    h("figcaption", {}, h("strong", {}, p.title || p.pluginName || p.pluginId),
      h("span", { class: "muted" }, ` · ${p.pluginName ? `${p.pluginName} — ` : ""}`
        + `${p.pluginId}@${p.version} · ${when(p.createdAt)}`)),
    drawPanel(p.panel)));
}
