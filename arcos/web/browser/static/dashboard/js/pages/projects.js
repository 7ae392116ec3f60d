// Projects: each with its latest quality metrics and a pass-rate trend; sort and filter.

import { h, replace } from "../dom.js";
import { metricValue } from "../format.js";
import { query } from "../graphql.js";
import { sparkline } from "../plot.js";
import { href } from "../router.js";

const PROJECTS = `query Projects($after: String) {
  projects(first: 100, after: $after) {
    nodes { slug evidenceCount latestMetrics { name value timestamp } }
    pageInfo { hasNextPage endCursor }
  }
}`;
const TREND = `query Trend($project: String!) {
  qualityMetrics(project: $project, names: ["tests.pass_rate"], limit: 30) { value }
}`;
const SEVERITIES = ["critical", "high", "medium", "low"];

const COLUMNS = [
  { key: "slug", title: "Project", value: (p) => p.slug },
  { key: "tests.pass_rate", title: "Tests passing" },
  { key: "coverage.line_rate", title: "Line coverage" },
  { key: "findings", title: "Open findings (C/H/M/L)",
    value: (p) => SEVERITIES.reduce((sum, s) => sum + (p.metrics[`findings.${s}`] || 0), 0) },
  { key: "vulns.total", title: "Vulnerabilities" },
  { key: "build.success_rate", title: "Build success" },
  { key: "evidenceCount", title: "Evidence", value: (p) => p.evidenceCount },
];

function cell(project, column) {
  if (column.key === "slug") {
    return h("td", {}, h("a", { href: href("project", project.slug) }, project.slug));
  }
  if (column.key === "findings") {
    const counts = SEVERITIES.map((s) => project.metrics[`findings.${s}`]);
    const text = counts.every((c) => c === undefined) ? "—" : counts.map((c) => c ?? 0).join(" / ");
    return h("td", { class: "num", "data-metric": "findings" }, text);
  }
  if (column.key === "evidenceCount") return h("td", { class: "num" }, project.evidenceCount);
  return h("td", { class: "num", "data-metric": column.key },
    metricValue(column.key, project.metrics[column.key]));
}

export default {
  route: "projects",
  title: "Projects",
  nav: true,
  scopes: ["evidence:read"],
  render({ main }) {
    let projects = [];
    let sortKey = "slug";
    let ascending = true;
    const filter = h("input", { id: "project-filter", type: "search", placeholder: "name contains…" });
    const body = h("tbody");
    const heading = h("tr");
    const table = h("table", { "aria-label": "Projects" }, h("thead", {}, heading), body);
    const trends = new Map();

    function sortValue(project, column) {
      if (column.value) return column.value(project);
      return project.metrics[column.key] ?? -Infinity;
    }

    function draw() {
      const column = COLUMNS.find((c) => c.key === sortKey);
      const words = filter.value.trim().toLowerCase();
      const shown = projects.filter((p) => !words || p.slug.includes(words));
      shown.sort((a, b) => {
        const [x, y] = [sortValue(a, column), sortValue(b, column)];
        const order = x < y ? -1 : x > y ? 1 : 0;
        return ascending ? order : -order;
      });
      replace(heading, COLUMNS.map((c) => h("th", {
        "aria-sort": c.key === sortKey ? (ascending ? "ascending" : "descending") : null,
        class: c.key === "slug" ? null : "num",
      }, h("button", { type: "button", onclick: () => {
        ascending = sortKey === c.key ? !ascending : true;
        sortKey = c.key;
        draw();
      } }, c.title, c.key === sortKey ? (ascending ? " ▲" : " ▼") : ""))), h("th", {}, "Pass-rate trend"));
      replace(body, shown.map((p) => h("tr", { "data-project": p.slug },
        COLUMNS.map((c) => cell(p, c)),
        h("td", {}, trends.get(p.slug) || ""))));
      if (!shown.length) replace(body, h("tr", {}, h("td", { colspan: COLUMNS.length + 1 }, "No projects.")));
    }

    filter.addEventListener("input", draw);
    replace(main, h("h1", {}, "Projects"),
      h("div", { class: "controls" }, h("label", { for: "project-filter" }, "Filter", filter)),
      table);

    let alive = true;
    (async () => {
      let after = null;
      do {
        const page = (await query(PROJECTS, { after })).projects;
        projects = projects.concat(page.nodes.map((p) => ({
          ...p, metrics: Object.fromEntries(p.latestMetrics.map((m) => [m.name, m.value])),
        })));
        after = page.pageInfo.hasNextPage ? page.pageInfo.endCursor : null;
      } while (after && alive);
      if (!alive) return;
      draw();
      await Promise.all(projects.map(async (p) => {
        const values = (await query(TREND, { project: p.slug })).qualityMetrics.map((m) => m.value);
        trends.set(p.slug, sparkline(values, `pass rate trend of ${p.slug}`));
      }));
      if (alive) draw();
    })().catch((error) => {
      if (alive) main.append(h("p", { role: "alert" }, `Could not load projects: ${error.message}`));
    });
    return () => {
      alive = false;
    };
  },
};
