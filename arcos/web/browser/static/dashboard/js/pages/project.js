// One project: metric plots over a chosen range, the live evidence feed, findings with
// filters, compliance per framework and the assurance cases with their status.

import { h, replace } from "../dom.js";
import { metricValue, when } from "../format.js";
import { liveLabel, onLiveState, query, subscribe } from "../graphql.js";
import { panelFigures } from "../panels.js";
import { linePlot } from "../plot.js";
import { href } from "../router.js";
import { badge } from "../status.js";

const PLOTTED = ["tests.pass_rate", "coverage.line_rate", "findings.total", "vulns.total",
  "build.success_rate"];
const FEED_SIZE = 50;
// Live values kept per plotted series (a page left open stays bounded); the fetched
// buckets are never trimmed, so the plot keeps its history back to the span's start.
const SERIES_KEEP = 1000;
// Set once the plots and the first feed rows are in the DOM, and once more after the next
// frame: what tests/benchmarks/bench_dashboard.py times as the first meaningful paint.
const DRAWN_MARK = "arcos:project-drawn";
const PAINTED_MARK = "arcos:project-painted";
const RANGES = [["7", "7 days"], ["30", "30 days"], ["90", "90 days"], ["", "everything"]];
const FRAMEWORKS = ["soc2", "pci-dss", "hipaa", "iso27001", "gdpr", "nist-800-53",
  "cis-controls", "fedramp"];

// Buckets per plot: about one per BUCKET_PX pixels of a plot, within [MIN_BUCKETS,
// MAX_BUCKETS]. The cost limit (5,000 by default) counts names x points x 7 for the query
// below, so five metrics of 120 buckets (4,201) fit; `points` is written into the document
// (a variable would be counted at the API's maximum, 1,000).
const BUCKET_PX = 3;
const MIN_BUCKETS = 20;
const MAX_BUCKETS = 120;
const DAY_MS = 86400000;
const seriesQuery = (points) => `query Series($slug: String!, $from: DateTime, $to: DateTime) {
  qualityMetricSeries(project: $slug, names: ${JSON.stringify(PLOTTED)}, from: $from, to: $to,
      points: ${points}) { name buckets { timestamp min max mean count } }
}`;
const OVERVIEW = `query Project($slug: String!) {
  project(slug: $slug) {
    slug evidenceCount createdAt
    latestMetrics { name value timestamp }
    evidence(first: ${FEED_SIZE}, order: DESC) { nodes { id type source createdAt cursor } }
  }
  assuranceCases(project: $slug) { caseId title version status { status openItems } }
}`;
const FINDINGS = `query Findings($project: String!, $severity: FindingSeverity,
    $state: FindingState, $tool: String) {
  findings(project: $project, severity: $severity, state: $state, tool: $tool, first: 100) {
    nodes { id tool severity state message path line ruleId vulnerabilityId component }
  }
}`;
const COMPLIANCE = `query Compliance($project: String!, $framework: String!) {
  complianceStatus(project: $project, framework: $framework) {
    evaluatedAt summary { satisfied failing missing stale total }
    controls { controlId title status }
  }
}`;
const PANELS = `query Panels($project: String!) {
  pluginPanels(project: $project) { pluginId version pluginName createdAt title panel }
}`;
const EVIDENCE_ADDED = `subscription Feed($project: String!, $after: String) {
  evidenceAdded(project: $project, after: $after) { id type source createdAt cursor }
}`;
const METRIC_UPDATED = `subscription Metrics($project: String!) {
  qualityMetricUpdated(project: $project) { name value timestamp }
}`;

function feedItem(item, fresh) {
  return h("li", { class: fresh ? "new" : null, "data-evidence": item.id },
    h("a", { href: href("evidence", item.id) }, item.type), " from ", h("strong", {}, item.source),
    h("span", { class: "muted" }, ` · ${when(item.createdAt)}`));
}

function section(title, ...children) {
  return h("section", { class: "card", "aria-label": title }, h("h2", {}, title), ...children);
}

/** Where a section says what failed: one element whose text each failure replaces. */
function alertBox() {
  return h("p", { role: "alert", class: "alert", hidden: true });
}

/** Show `text` in `alert`, or empty and hide it (after a success). */
function report(alert, text = "") {
  alert.textContent = text;
  alert.hidden = !text;
}

function select(id, label, options, onchange) {
  const element = h("select", { id, onchange },
    options.map(([value, text]) => h("option", { value }, text)));
  return [h("label", { for: id }, label, element), element];
}

export default {
  route: "project/:slug",
  title: "Project",
  nav: false,
  scopes: ["evidence:read"],
  render({ main, params }) {
    const slug = params.slug;
    // Per plotted metric, the buckets fetched for the shown span and the values that
    // arrived live after them (points: { time, value, min, max, count }).
    const series = new Map(PLOTTED.map((name) => [name, { fetched: [], live: [] }]));
    let liveCount = 0;  // live values received so far: which came while a request was out
    const alerts = { project: alertBox(), metrics: alertBox(), series: alertBox(),
      feed: alertBox(), findings: alertBox(), compliance: alertBox(), panels: alertBox() };
    const latest = h("dl", { class: "kv", id: "latest-metrics" });
    const plots = h("div", { class: "grid", id: "plots" });
    const feed = h("ul", { class: "feed", id: "feed", "aria-live": "polite" });
    const liveState = h("span", { class: "live muted", id: "live-state" }, "connecting…");
    const findingsBody = h("tbody");
    const compliance = h("div", { id: "compliance" });
    const cases = h("ul", { id: "cases" });
    const panels = h("div", { class: "grid", id: "plugin-panels" });
    let lastCursor = null;
    const seen = new Set();
    const unsubscribers = [];

    // The span shown: the selected range ending now, or (zoomed) the span dragged across.
    let view = { from: null, to: null, zoomed: false };
    let seriesRequest = 0;
    const [rangeLabel, range] = select("range", "Range", RANGES, () => showRange());
    range.value = "30";
    const resetZoom = h("button", { type: "button", id: "reset-zoom", disabled: true,
      onclick: () => showRange() }, "Reset zoom");

    function rangeView() {
      const days = Number(range.value);
      const now = Date.now();
      return { from: days ? now - days * DAY_MS : null, to: days ? now : null, zoomed: false };
    }

    function showRange() {
      return showView(rangeView());
    }

    function zoomTo(from, to) {
      showView({ from, to, zoomed: true });
    }

    // One query for every plot at about one bucket per BUCKET_PX pixels. Only the latest
    // request counts: an answer or a failure for a span no longer shown is dropped. Live
    // values that came while it was out and are newer than its answer stay after it.
    async function showView(next) {
      const request = ++seriesRequest;
      const liveBefore = liveCount;
      view = next;
      resetZoom.disabled = !view.zoomed;
      const plotWidth = (plots.firstElementChild && plots.firstElementChild.clientWidth) || 360;
      const points = Math.max(MIN_BUCKETS, Math.min(MAX_BUCKETS, Math.round(plotWidth / BUCKET_PX)));
      const iso = (ms) => (ms === null ? null : new Date(ms).toISOString());
      const current = () => alive && request === seriesRequest;
      let data;
      try {
        data = await query(seriesQuery(points), { slug, from: iso(view.from), to: iso(view.to) });
      } catch (error) {
        if (current()) report(alerts.series, `Could not load the metric series: ${error.message}`);
        return;
      }
      if (!current()) return;
      report(alerts.series);
      for (const found of data.qualityMetricSeries) {
        const shown = series.get(found.name);
        shown.fetched = found.buckets.map((b) => ({ time: new Date(b.timestamp),
          value: b.mean, min: b.min, max: b.max, count: b.count }));
        // The answer ends at the span's end, or (everything) at its latest bucket.
        const last = shown.fetched[shown.fetched.length - 1];
        const end = view.to ?? (last ? last.time.getTime() : -Infinity);
        shown.live = shown.live.filter((p) => p.number > liveBefore && p.time.getTime() > end);
      }
      redraw();
    }

    // A live value joins its series when the shown span is open-ended (not zoomed).
    function addLiveValue(m) {
      const shown = series.get(m.name);
      if (!shown || view.zoomed) return;
      shown.live.push({ time: new Date(m.timestamp), value: m.value, min: m.value, max: m.value,
        count: 1, number: ++liveCount });
      if (shown.live.length > SERIES_KEEP) shown.live.splice(0, shown.live.length - SERIES_KEEP);
    }

    // Redrawing replaces each plot's <svg>, which would end a drag across one (its pointer
    // capture and selection gone): while one is dragged, the redraw waits for its end.
    let frame = 0;
    let deferred = false;
    function redraw() {
      cancelAnimationFrame(frame);
      frame = 0;
      deferred = Boolean(plots.querySelector("svg.dragging"));
      if (!deferred) drawPlots();
    }

    // Live values come in bursts: at most one redraw per frame.
    function redrawSoon() {
      if (!frame) frame = requestAnimationFrame(redraw);
    }

    for (const type of ["pointerup", "pointercancel"]) {
      plots.addEventListener(type, () => deferred && redrawSoon());
    }

    function drawPlots() {
      replace(plots, PLOTTED.map((name) => {
        const { fetched, live } = series.get(name);
        const points = [...fetched, ...live];
        const last = points.length ? points[points.length - 1].time.getTime() : null;
        const from = view.from ?? (points.length ? points[0].time.getTime() : null);
        const to = view.zoomed ? view.to : Math.max(view.to ?? -Infinity, last ?? -Infinity);
        const domain = from !== null && Number.isFinite(to) ? [from, to] : undefined;
        return h("figure", { class: "card", "data-plot": name }, h("figcaption", {}, name),
          linePlot(points, { label: `${name} over time (drag across to zoom)`, domain,
            format: (v) => metricValue(name, v), onZoom: zoomTo }));
      }));
    }

    function drawLatest(metrics) {
      replace(latest, metrics.flatMap((m) => [h("dt", {}, m.name),
        h("dd", { "data-metric": m.name }, metricValue(m.name, m.value))]));
    }

    // `seen` holds exactly the ids shown: a page left open for hours keeps FEED_SIZE rows
    // and FEED_SIZE ids, however many items arrive.
    function addEvidence(item, fresh) {
      if (seen.has(item.id)) return;
      seen.add(item.id);
      lastCursor = item.cursor;
      feed.prepend(feedItem(item, fresh));
      while (feed.children.length > FEED_SIZE) {
        seen.delete(feed.lastElementChild.dataset.evidence);
        feed.lastElementChild.remove();
      }
    }

    const [severityLabel, severity] = select("severity", "Severity",
      [["", "any"], ...["CRITICAL", "HIGH", "MEDIUM", "LOW", "INFO", "UNKNOWN"].map((s) => [s, s])],
      showFindings);
    const [stateLabel, state] = select("state", "State", [["OPEN", "open"], ["FIXED", "fixed"], ["", "any"]],
      showFindings);
    const tool = h("input", { id: "tool", type: "search", placeholder: "e.g. bandit",
      onchange: showFindings });

    function showFindings() {
      loadFindings().catch(failed(alerts.findings, "findings"));
    }

    async function loadFindings() {
      const found = (await query(FINDINGS, { project: slug, severity: severity.value || null,
        state: state.value || null, tool: tool.value.trim() || null })).findings.nodes;
      replace(findingsBody, found.length ? found.map((f) => h("tr", { "data-finding": f.id },
        h("td", {}, badge(f.severity)), h("td", {}, badge(f.state)), h("td", {}, f.tool),
        h("td", { class: "message" }, f.message),
        h("td", {}, f.path ? `${f.path}${f.line ? `:${f.line}` : ""}` : f.component || ""),
        h("td", {}, f.ruleId || f.vulnerabilityId || ""))) :
        h("tr", {}, h("td", { colspan: 6 }, "No findings match.")));
      report(alerts.findings);
    }

    const [frameworkLabel, framework] = select("framework", "Framework",
      FRAMEWORKS.map((f) => [f, f]), showCompliance);

    function showCompliance() {
      loadCompliance().catch(failed(alerts.compliance, "compliance"));
    }

    async function loadCompliance() {
      const status = (await query(COMPLIANCE, { project: slug, framework: framework.value }))
        .complianceStatus;
      const s = status.summary;
      replace(compliance,
        h("p", {}, `${s.satisfied} of ${s.total} controls satisfied · ${s.failing} failing · `
          + `${s.missing} missing · ${s.stale} stale (evaluated ${when(status.evaluatedAt)})`),
        h("table", { "aria-label": "Controls" },
          h("thead", {}, h("tr", {}, h("th", {}, "Control"), h("th", {}, "Title"), h("th", {}, "Status"))),
          h("tbody", {}, status.controls.map((c) => h("tr", {}, h("td", {}, c.controlId),
            h("td", {}, c.title), h("td", {}, badge(c.status)))))));
      report(alerts.compliance);
    }

    replace(main,
      h("h1", {}, slug),
      alerts.project,
      section("Latest metrics", alerts.metrics, latest),
      section("Trends", h("div", { class: "controls" }, rangeLabel, resetZoom), alerts.series,
        plots),
      section("Live evidence", h("p", {}, liveState), alerts.feed, feed),
      section("Findings", alerts.findings,
        h("div", { class: "controls" }, severityLabel, stateLabel,
          h("label", { for: "tool" }, "Tool", tool)),
        h("table", { "aria-label": "Findings" }, h("thead", {}, h("tr", {},
          ["Severity", "State", "Tool", "Message", "Where", "Rule"].map((t) => h("th", {}, t)))),
        findingsBody)),
      section("Compliance", h("div", { class: "controls" }, frameworkLabel), alerts.compliance,
        compliance),
      section("Assurance cases", cases),
      section("Plugin panels", alerts.panels, panels));

    let alive = true;
    const failed = (alert, what) => (error) => {
      if (alive) report(alert, `Could not load ${what}: ${error.message}`);
    };

    const seriesShown = showRange();
    (async () => {
      const data = await query(OVERVIEW, { slug });
      if (!alive) return;
      if (!data.project) {
        replace(main, h("h1", {}, slug), h("p", {}, "No such project."));
        return;
      }
      drawLatest(data.project.latestMetrics);
      for (const item of [...data.project.evidence.nodes].reverse()) addEvidence(item, false);
      await seriesShown;
      performance.mark(DRAWN_MARK);
      requestAnimationFrame(() => setTimeout(() => performance.mark(PAINTED_MARK), 0));
      replace(cases, data.assuranceCases.length ? data.assuranceCases.map((c) => h("li", {},
        badge(c.status.status), " ", h("a", { href: href("cases", c.caseId), "data-case": c.caseId },
          h("strong", {}, c.title)), h("span", { class: "muted" },
          ` (${c.caseId}, version ${c.version}${c.status.openItems.length
            ? `, open: ${c.status.openItems.join(", ")}` : ""})`))) : h("li", {}, "No cases."));
      unsubscribers.push(subscribe(EVIDENCE_ADDED, () => ({ project: slug, after: lastCursor }), {
        next: (payload) => {
          if (!payload.data) return;
          report(alerts.feed);
          addEvidence(payload.data.evidenceAdded, true);
        },
        error: failed(alerts.feed, "the live feed"),
      }));
      unsubscribers.push(subscribe(METRIC_UPDATED, () => ({ project: slug }), {
        next: (payload) => {
          const m = payload.data && payload.data.qualityMetricUpdated;
          if (!m) return;
          report(alerts.metrics);
          addLiveValue(m);
          const cell = latest.querySelector(`dd[data-metric="${CSS.escape(m.name)}"]`);
          if (cell) cell.textContent = metricValue(m.name, m.value);
          redrawSoon();
        },
        error: failed(alerts.metrics, "metric updates"),
      }));
    })().catch(failed(alerts.project, "the project"));
    showFindings();
    showCompliance();
    query(PANELS, { project: slug }).then((data) => alive
      && replace(panels, panelFigures(data.pluginPanels, when)))
      .catch(failed(alerts.panels, "plugin panels"));
    unsubscribers.push(onLiveState((s) => {
      liveState.textContent = liveLabel(s);
    }));

    return () => {
      alive = false;
      cancelAnimationFrame(frame);
      for (const stop of unsubscribers) stop();
    };
  },
};
