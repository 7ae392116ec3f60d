// Plugins: browse and search the catalogue; each plugin's versions, states and permissions.
// (Registering, approving, revoking and executing are not in the dashboard yet.)

import { h, replace } from "../dom.js";
import { when } from "../format.js";
import { query } from "../graphql.js";
import { badge } from "../status.js";

const CATALOGUE = `query Plugins($search: String, $type: PluginKind) {
  plugins(search: $search, type: $type, first: 50) {
    totalCount truncated
    nodes {
      pluginId name type author description tags
      versions { version state enabled requestedPermissions approvedPermissions createdAt }
    }
  }
}`;
const KINDS = ["", "COLLECTOR", "METRIC", "COMPLIANCE", "VISUALIZATION"];

function versionRow(v) {
  return h("tr", {}, h("td", {}, v.version), h("td", {}, badge(v.state)),
    h("td", {}, v.enabled ? "enabled" : "disabled"),
    h("td", {}, v.requestedPermissions.join(", ") || "none"),
    h("td", {}, v.approvedPermissions.join(", ") || "none"), h("td", {}, when(v.createdAt)));
}

function pluginCard(p) {
  return h("article", { class: "card", "data-plugin": p.pluginId },
    h("h2", {}, p.name), h("p", { class: "muted" }, `${p.pluginId} · ${p.type} · by ${p.author}`),
    h("p", {}, p.description), p.tags.length ? h("p", { class: "muted" }, `tags: ${p.tags.join(", ")}`) : null,
    h("details", {}, h("summary", {}, `${p.versions.length} version(s)`),
      h("table", { "aria-label": `Versions of ${p.pluginId}` }, h("thead", {}, h("tr", {},
        ["Version", "State", "Enabled", "Requested", "Approved", "Registered"].map((t) => h("th", {}, t)))),
      h("tbody", {}, p.versions.map(versionRow)))));
}

export default {
  route: "plugins",
  title: "Plugins",
  nav: true,
  scopes: ["plugins:read"],
  render({ main }) {
    const search = h("input", { id: "plugin-search", type: "search", placeholder: "words…" });
    const kind = h("select", { id: "plugin-kind" },
      KINDS.map((k) => h("option", { value: k }, k ? k.toLowerCase() : "any")));
    const list = h("div", { id: "plugins" });
    const count = h("p", { class: "muted", id: "plugin-count" });
    let alive = true;

    async function load() {
      const found = (await query(CATALOGUE, { search: search.value.trim() || null,
        type: kind.value || null })).plugins;
      if (!alive) return;
      count.textContent = `${found.totalCount} plugin(s)${found.truncated ? " (refine the search)" : ""}`;
      replace(list, found.nodes.length ? found.nodes.map(pluginCard) : h("p", {}, "No plugins match."));
    }
    const failed = (error) => {
      if (alive) main.append(h("p", { role: "alert" }, `Could not load plugins: ${error.message}`));
    };
    const form = h("form", { class: "controls", onsubmit: (event) => {
      event.preventDefault();
      load().catch(failed);
    } }, h("label", { for: "plugin-search" }, "Search", search),
    h("label", { for: "plugin-kind" }, "Type", kind), h("button", { type: "submit" }, "Search"));
    replace(main, h("h1", {}, "Plugins"), form, count, list);
    load().catch(failed);
    return () => {
      alive = false;
    };
  },
};
