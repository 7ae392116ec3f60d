// Evidence: filter and page through evidenceConnection (keyset cursors, newest first).

import { h, replace } from "../dom.js";
import { when } from "../format.js";
import { query } from "../graphql.js";
import { href } from "../router.js";

const PAGE_SIZE = 25;
const LIST = `query Evidence($first: Int!, $after: String, $filter: EvidenceFilter) {
  evidenceConnection(first: $first, after: $after, filter: $filter, order: DESC) {
    totalCount
    pageInfo { hasNextPage endCursor }
    nodes { id type source createdAt dataSize project { slug } }
  }
}`;

export default {
  route: "evidence",
  title: "Evidence",
  nav: true,
  scopes: ["evidence:read"],
  render({ main }) {
    const inputs = Object.fromEntries(["type", "source", "project"].map((name) => [name,
      h("input", { id: `filter-${name}`, type: "search", name })]));
    const rows = h("tbody");
    const summary = h("span", { id: "evidence-count" });
    const more = h("button", { type: "button", id: "next-page" }, "Next page");
    const first = h("button", { type: "button", id: "first-page" }, "First page");
    let cursors = [null];
    let alive = true;

    async function load() {
      const filter = {};
      for (const [name, input] of Object.entries(inputs)) {
        if (input.value.trim()) filter[name] = input.value.trim();
      }
      const page = (await query(LIST, { first: PAGE_SIZE, after: cursors[cursors.length - 1],
        filter })).evidenceConnection;
      if (!alive) return;
      summary.textContent = `${page.totalCount} items · page ${cursors.length}`;
      more.disabled = !page.pageInfo.hasNextPage;
      more.onclick = () => {
        cursors.push(page.pageInfo.endCursor);
        load().catch(failed);
      };
      replace(rows, page.nodes.length ? page.nodes.map((e) => h("tr", { "data-evidence": e.id },
        h("td", {}, h("a", { href: href("evidence", e.id) }, e.type)), h("td", {}, e.source),
        h("td", {}, e.project ? h("a", { href: href("project", e.project.slug) }, e.project.slug) : "—"),
        h("td", { class: "num" }, e.dataSize), h("td", {}, when(e.createdAt))))
        : h("tr", {}, h("td", { colspan: 5 }, "No evidence matches.")));
    }

    function failed(error) {
      if (alive) main.append(h("p", { role: "alert" }, `Could not load evidence: ${error.message}`));
    }

    const form = h("form", { class: "controls", onsubmit: (event) => {
      event.preventDefault();
      cursors = [null];
      load().catch(failed);
    } }, Object.entries(inputs).map(([name, input]) =>
      h("label", { for: input.id }, name, input)), h("button", { type: "submit" }, "Search"));
    first.addEventListener("click", () => {
      cursors = [null];
      load().catch(failed);
    });
    replace(main, h("h1", {}, "Evidence"), form,
      h("table", { "aria-label": "Evidence" }, h("thead", {}, h("tr", {},
        ["Type", "Source", "Project", "Bytes", "Created"].map((t) => h("th", {}, t)))), rows),
      h("div", { class: "pager" }, first, more, summary));
    load().catch(failed);
    return () => {
      alive = false;
    };
  },
};
