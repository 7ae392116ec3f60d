// The dashboard's own small SVG plots: a sparkline and a time-series line plot with hover
// values and drag-to-zoom. Values are placed with attributes and shown as text nodes, never
// markup.

import { svg } from "./dom.js";

/** The [low, high] range of `values`, widened when they are all equal (a flat line). */
export function extent(values) {
  let low = Math.min(...values);
  let high = Math.max(...values);
  if (low === high) {
    low -= 1;
    high += 1;
  }
  return [low, high];
}

/** A small trend line of `values` (oldest first). */
export function sparkline(values, label) {
  const width = 90;
  const height = 24;
  const chart = svg("svg", { class: "spark", viewBox: `0 0 ${width} ${height}`, role: "img",
    "aria-label": label });
  if (values.length < 2) return chart;
  const [low, high] = extent(values);
  const points = values.map((value, i) => {
    const x = (i / (values.length - 1)) * (width - 2) + 1;
    const y = height - 1 - ((value - low) / (high - low)) * (height - 2);
    return `${x.toFixed(1)},${y.toFixed(1)}`;
  });
  chart.append(svg("polyline", { points: points.join(" ") }));
  return chart;
}

// Drags narrower than this (viewBox units) are clicks, not zooms.
const MIN_DRAG = 4;
const DAY_MS = 86400000;

function timeLabel(time, span) {
  const date = new Date(time);
  return span >= 2 * DAY_MS ? date.toLocaleDateString()
    : date.toLocaleString([], { dateStyle: "short", timeStyle: "short" });
}

/** What hovering a point says: its time and mean, then the bucket's spread when it holds more. */
function describe(p, format) {
  const when = p.time.toLocaleString([], { dateStyle: "short", timeStyle: "short" });
  return [`${when}: ${format(p.value)}`,
    p.count > 1 ? `(${format(p.min)}–${format(p.max)}, ${p.count} values)` : ""];
}

/**
 * A line plot of `points` ([{ time: Date, value, min?, max?, count? }], oldest first: a
 * value, or a bucket's mean with its min, max and count) over `domain` ([t0, t1] in ms;
 * the points' own span without it), with the span and value range as labels. Moving over
 * it shows the nearest point (a bucket's min–max too); dragging across it selects a span
 * (a visible rectangle, the plot has the class `dragging` meanwhile) and calls
 * `onZoom(fromMs, toMs)`.
 */
export function linePlot(points, { label, format, domain, onZoom }) {
  const width = 360;
  const height = 180;
  const pad = { left: 48, right: 12, top: 12, bottom: 22 };
  const chart = svg("svg", { class: "plot", viewBox: `0 0 ${width} ${height}`, role: "img",
    "aria-label": label, preserveAspectRatio: "none" });
  const times = points.map((p) => p.time.getTime());
  let [t0, t1] = domain || [times[0], times[times.length - 1]];
  if (!points.length && !domain) {
    chart.append(svg("text", { x: width / 2, y: height / 2, "text-anchor": "middle" }, "no values"));
    return chart;
  }
  if (!(t1 > t0)) [t0, t1] = [t0 - 1, t0 + 1];
  const lows = points.map((p) => p.min ?? p.value);
  const highs = points.map((p) => p.max ?? p.value);
  const [low, high] = points.length ? extent([...lows, ...highs]) : [0, 1];
  const inner = width - pad.left - pad.right;
  const x = (t) => pad.left + ((t - t0) / (t1 - t0)) * inner;
  const y = (v) => height - pad.bottom - ((v - low) / (high - low)) * (height - pad.top - pad.bottom);
  const timeAt = (vx) => t0 + ((vx - pad.left) / inner) * (t1 - t0);
  chart.append(
    svg("line", { class: "axis", x1: pad.left, y1: height - pad.bottom, x2: width - pad.right,
      y2: height - pad.bottom }),
    svg("text", { x: pad.left - 4, y: y(high) + 4, "text-anchor": "end" }, format(high)),
    svg("text", { x: pad.left - 4, y: y(low), "text-anchor": "end" }, format(low)),
    svg("text", { class: "t0", x: pad.left, y: height - 6 }, timeLabel(t0, t1 - t0)),
    svg("text", { class: "t1", x: width - pad.right, y: height - 6, "text-anchor": "end" },
      timeLabel(t1, t1 - t0)),
  );
  if (!points.length) {
    chart.append(svg("text", { x: width / 2, y: height / 2, "text-anchor": "middle" }, "no values"));
  }
  for (const p of points) {
    if (p.count > 1 && p.max > p.min) {
      const px = x(p.time.getTime());
      chart.append(svg("line", { class: "spread", x1: px, x2: px, y1: y(p.min), y2: y(p.max) }));
    }
  }
  chart.append(svg("polyline", { class: "line",
    points: points.map((p) => `${x(p.time.getTime()).toFixed(1)},${y(p.value).toFixed(1)}`).join(" ") }));
  for (const p of points.slice(-200)) {
    chart.append(svg("circle", { class: "dot", cx: x(p.time.getTime()), cy: y(p.value), r: 2 },
      svg("title", {}, describe(p, format).join(" ").trim())));
  }
  const guide = svg("line", { class: "hover", y1: pad.top, y2: height - pad.bottom, visibility: "hidden" });
  // Two lines (time and mean; the bucket's spread), so a long readout stays inside.
  const readLines = [svg("tspan", {}), svg("tspan", { dy: 11 })];
  const readout = svg("text", { class: "readout", y: pad.top + 8, visibility: "hidden" }, readLines);
  const selection = svg("rect", { class: "selection", y: pad.top, height: height - pad.top - pad.bottom,
    width: 0, visibility: "hidden" });
  chart.append(selection, guide, readout);
  const viewX = (event) => {
    const box = chart.getBoundingClientRect();
    return Math.min(width - pad.right, Math.max(pad.left, (event.clientX - box.left) / box.width * width));
  };
  let dragFrom = null;
  const showSelection = (to) => {
    selection.setAttribute("x", Math.min(dragFrom, to));
    selection.setAttribute("width", Math.abs(to - dragFrom));
    selection.setAttribute("visibility", "visible");
  };

  chart.addEventListener("pointermove", (event) => {
    const vx = viewX(event);
    if (dragFrom !== null) showSelection(vx);
    if (!points.length) return;
    const at = timeAt(vx);
    let nearest = points[0];
    for (const p of points) {
      if (Math.abs(p.time.getTime() - at) < Math.abs(nearest.time.getTime() - at)) nearest = p;
    }
    const px = x(nearest.time.getTime());
    guide.setAttribute("x1", px);
    guide.setAttribute("x2", px);
    const right = px > width / 2;  // the text runs away from the edge it is near
    readout.setAttribute("text-anchor", right ? "end" : "start");
    describe(nearest, format).forEach((line, i) => {
      readLines[i].setAttribute("x", right ? px - 4 : px + 4);
      readLines[i].textContent = line;
    });
    guide.setAttribute("visibility", "visible");
    readout.setAttribute("visibility", "visible");
  });
  chart.addEventListener("pointerleave", () => {
    guide.setAttribute("visibility", "hidden");
    readout.setAttribute("visibility", "hidden");
  });
  if (onZoom) {
    chart.classList.add("zoomable");
    chart.addEventListener("pointerdown", (event) => {
      if (event.button !== 0) return;
      dragFrom = viewX(event);
      chart.classList.add("dragging");  // the page holds its redraws until the drag ends
      chart.setPointerCapture(event.pointerId);
      showSelection(dragFrom);
      event.preventDefault();
    });
    const finish = (event, zoom) => {
      if (dragFrom === null) return;
      const [from, to] = [dragFrom, viewX(event)].sort((a, b) => a - b);
      dragFrom = null;
      chart.classList.remove("dragging");
      selection.setAttribute("visibility", "hidden");
      if (zoom && to - from >= MIN_DRAG) onZoom(Math.floor(timeAt(from)), Math.ceil(timeAt(to)));
    };
    chart.addEventListener("pointerup", (event) => finish(event, true));
    chart.addEventListener("pointercancel", (event) => finish(event, false));
  }
  return chart;
}
