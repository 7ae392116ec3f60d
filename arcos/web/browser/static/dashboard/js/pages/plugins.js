// Plugins: the marketplace — browse and search the catalogue, each plugin's versions,
// states and permissions; with the token's scopes, register, approve, revoke and execute
// (plugin-actions.js) and see the recent executions.

import { h, replace } from "../dom.js";
import { when } from "../format.js";
import { query } from "../graphql.js";
import { executeForm, executions, registerForm, versionActions } from "../plugin-actions.js";
import { holds } from "../scopes.js";
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

export default {
  route: "plugins",
  title: "Plugins",
  nav: true,
  scopes: ["plugins:read"],
  render({ main, viewer }) {
    const search = h("input", { id: "plugin-search", type: "search", placeholder: "words…" });
    const kind = h("select", { id: "plugin-kind" },
      KINDS.map((k) => h("option", { value: k }, k ? k.toLowerCase() : "any")));
    const list = h("div", { id: "plugins" });
    const count = h("p", { class: "muted", id: "plugin-count" });
    const notice = h("div", { id: "plugin-notice", role: "status" });
    const runs = executions();
    const open = new Set();
    let alive = true;

    const say = (message, ok) => replace(notice, message ? h("p", { role: ok ? null : "alert" }, message) : null);
    const reload = async () => {
      await load();
      await runs.load();
    };

    function versionRow(pluginId, v) {
      return h("tr", { "data-version": v.version }, h("td", {}, v.version), h("td", {}, badge(v.state)),
        h("td", {}, v.enabled ? "enabled" : "disabled"),
        h("td", {}, v.requestedPermissions.join(", ") || "none"),
        h("td", {}, v.approvedPermissions.join(", ") || "none"), h("td", {}, when(v.createdAt)),
        versionActions(viewer, pluginId, v, reload, say));
    }

    function pluginCard(p) {
      const versions = h("details", { open: open.has(p.pluginId) || null,
        ontoggle: () => (versions.open ? open.add(p.pluginId) : open.delete(p.pluginId)) },
      h("summary", {}, `${p.versions.length} version(s)`),
      h("table", { "aria-label": `Versions of ${p.pluginId}` }, h("thead", {}, h("tr", {},
        ["Version", "State", "Enabled", "Requested", "Approved", "Registered", ""].map((t) => h("th", {}, t)))),
      h("tbody", {}, p.versions.map((v) => versionRow(p.pluginId, v)))));
      const runnable = holds(viewer, "plugins:execute") && p.versions.some((v) => v.state === "ACTIVE");
      return h("article", { class: "card", "data-plugin": p.pluginId },
        h("h2", {}, p.name), h("p", { class: "muted" }, `${p.pluginId} · ${p.type} · by ${p.author}`),
        h("p", {}, p.description), p.tags.length ? h("p", { class: "muted" }, `tags: ${p.tags.join(", ")}`) : null,
        versions,
        runnable ? h("details", {}, h("summary", {}, "Execute"), executeForm(p.pluginId, () => runs.load())) : null);
    }

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
    replace(main, h("h1", {}, "Plugins"), holds(viewer, "plugins:write") ? registerForm(reload) : null,
      form, notice, count, list, runs.section);
    load().catch(failed);
    runs.load().catch(failed);
    return () => {
      alive = false;
    };
  },
};
