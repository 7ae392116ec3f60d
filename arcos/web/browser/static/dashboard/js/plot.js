// The dashboard's own small SVG plots: a sparkline and a time-series line plot with hover
// values. Values are placed with attributes and shown as text nodes, never markup.

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

/**
 * A line plot of `points` ([{ time: Date, value: number }], oldest first) with the first
 * and last time and the value range as labels; moving over it shows the nearest value.
 */
export function linePlot(points, { label, format }) {
  const width = 360;
  const height = 180;
  const pad = { left: 48, right: 12, top: 12, bottom: 22 };
  const chart = svg("svg", { class: "plot", viewBox: `0 0 ${width} ${height}`, role: "img",
    "aria-label": label, preserveAspectRatio: "none" });
  if (!points.length) {
    chart.append(svg("text", { x: width / 2, y: height / 2, "text-anchor": "middle" }, "no values"));
    return chart;
  }
  const times = points.map((p) => p.time.getTime());
  const [t0, t1] = times.length > 1 ? [times[0], times[times.length - 1]] : [times[0] - 1, times[0] + 1];
  const [low, high] = extent(points.map((p) => p.value));
  const x = (t) => pad.left + ((t - t0) / (t1 - t0 || 1)) * (width - pad.left - pad.right);
  const y = (v) => height - pad.bottom - ((v - low) / (high - low)) * (height - pad.top - pad.bottom);
  chart.append(
    svg("line", { class: "axis", x1: pad.left, y1: height - pad.bottom, x2: width - pad.right,
      y2: height - pad.bottom }),
    svg("text", { x: pad.left - 4, y: y(high) + 4, "text-anchor": "end" }, format(high)),
    svg("text", { x: pad.left - 4, y: y(low), "text-anchor": "end" }, format(low)),
    svg("text", { x: pad.left, y: height - 6 }, points[0].time.toLocaleDateString()),
    svg("text", { x: width - pad.right, y: height - 6, "text-anchor": "end" },
      points[points.length - 1].time.toLocaleString()),
    svg("polyline", { class: "line",
      points: points.map((p) => `${x(p.time.getTime()).toFixed(1)},${y(p.value).toFixed(1)}`).join(" ") }),
  );
  for (const p of points.slice(-200)) {
    chart.append(svg("circle", { class: "dot", cx: x(p.time.getTime()), cy: y(p.value), r: 2 },
      svg("title", {}, `${p.time.toLocaleString()}: ${format(p.value)}`)));
  }
  const guide = svg("line", { class: "hover", y1: pad.top, y2: height - pad.bottom, visibility: "hidden" });
  const readout = svg("text", { class: "readout", y: pad.top + 8, visibility: "hidden" });
  chart.append(guide, readout);
  chart.addEventListener("mousemove", (event) => {
    const box = chart.getBoundingClientRect();
    const at = t0 + ((event.clientX - box.left) / box.width * width - pad.left)
      / (width - pad.left - pad.right) * (t1 - t0);
    let nearest = points[0];
    for (const p of points) {
      if (Math.abs(p.time.getTime() - at) < Math.abs(nearest.time.getTime() - at)) nearest = p;
    }
    const px = x(nearest.time.getTime());
    guide.setAttribute("x1", px);
    guide.setAttribute("x2", px);
    readout.setAttribute("x", Math.min(px + 4, width - 160));
    readout.textContent = `${nearest.time.toLocaleString()}: ${format(nearest.value)}`;
    guide.setAttribute("visibility", "visible");
    readout.setAttribute("visibility", "visible");
  });
  chart.addEventListener("mouseleave", () => {
    guide.setAttribute("visibility", "hidden");
    readout.setAttribute("visibility", "hidden");
  });
  return chart;
}
