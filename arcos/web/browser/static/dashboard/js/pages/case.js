// One assurance case as an accessible GSN tree (nested lists: goal → strategy → solution,
// each with its context, assumptions and justifications beside it), every element's status
// shown as a word and a colour, with the reason and the evidence that decided it. Statuses
// change in place as `assuranceCaseUpdated` reports them, so the tree never reloads.

import { h, replace } from "../dom.js";
import { when } from "../format.js";
import { liveLabel, onLiveState, query, subscribe } from "../graphql.js";
import { href } from "../router.js";
import { badge, tone } from "../status.js";

const CASE = `query Case($id: String!) {
  assuranceCase(id: $id) {
    caseId project title version latestVersion wellformedness updatedAt
    elements { id kind text supportedBy inContextOf undeveloped public module }
    status { status openItems at elements { id kind status evidenceIds reason } }
  }
}`;
const UPDATED = `subscription CaseUpdated($id: String!) {
  assuranceCaseUpdated(id: $id) {
    caseId version status openItems changed { id kind status evidenceIds reason }
  }
}`;

const KIND = { GOAL: "Goal", STRATEGY: "Strategy", SOLUTION: "Solution", CONTEXT: "Context",
  ASSUMPTION: "Assumption", JUSTIFICATION: "Justification", AWAY_GOAL: "Away goal" };

/** The elements nothing supports: the tops of the argument (normally the one root goal). */
function roots(elements) {
  const supported = new Set(elements.flatMap((e) => e.supportedBy));
  const contextual = new Set(elements.flatMap((e) => e.inContextOf));
  return elements.filter((e) => !supported.has(e.id) && !contextual.has(e.id));
}

/** The status part of a node (badge, reason, deciding evidence): replaced on every update. */
function statusParts(status) {
  if (!status) return [];
  return [
    badge(status.status),
    status.reason ? h("span", { class: "reason" }, status.reason) : null,
    status.evidenceIds.length ? h("span", { class: "decided-by" }, "evidence: ",
      status.evidenceIds.map((id, i) => [i ? ", " : "",
        h("a", { href: href("evidence", id), "data-evidence": id }, id.slice(0, 8))])) : null,
  ];
}

function contextual(element) {
  return h("li", { class: `gsn-context kind-${element.kind.toLowerCase()}`,
    "data-element": element.id },
  h("span", { class: "kind" }, KIND[element.kind] || element.kind), " ",
  h("span", { class: "gsn-id" }, element.id), " ", h("span", { class: "gsn-text" }, element.text));
}

export default {
  route: "cases/:id",
  title: "Assurance case",
  nav: false,
  scopes: ["evidence:read"],
  render({ main, params }) {
    const id = params.id;
    const tree = h("ul", { class: "gsn-tree", id: "case-tree", "aria-label": "Argument" });
    const rootStatus = h("span", { id: "case-status" });
    const openItems = h("span", { id: "open-items", class: "muted" });
    const liveState = h("span", { class: "live muted", id: "live-state" }, "connecting…");
    const statusHolders = new Map(); // element id -> [holder span, …] (an element may repeat)
    let shown = null; // the case version drawn
    let alive = true;
    const unsubscribers = [];

    function setStatus(status) {
      for (const holder of statusHolders.get(status.id) || []) {
        const box = holder.closest("[data-element]");
        box.dataset.status = status.status;
        box.className = `gsn-node tone-${tone(status.status)}`;
        replace(holder, statusParts(status));
      }
    }

    function setRoot(status, open) {
      replace(rootStatus, badge(status));
      openItems.textContent = open.length ? `open: ${open.join(", ")}` : "nothing open";
    }

    function node(element, byId, statuses, path) {
      const holder = h("span", { class: "gsn-status" });
      const status = statuses.get(element.id);
      const away = element.kind === "AWAY_GOAL" || element.module;
      const box = h("div", {
        class: `gsn-node tone-${status ? tone(status.status) : "info"}`,
        "data-element": element.id, "data-status": status ? status.status : null },
      h("span", { class: "kind" }, KIND[element.kind] || element.kind), " ",
      h("strong", { class: "gsn-id" }, element.id), " ",
      away ? h("span", { class: "marker away" }, "away goal",
        element.module ? [" from ", h("a", { href: href("cases", element.module) }, element.module)]
          : null) : null,
      element.undeveloped ? h("span", { class: "marker undeveloped" }, "undeveloped") : null,
      element.public ? h("span", { class: "marker" }, "public") : null,
      h("div", { class: "gsn-text" }, element.text), holder);
      if (status) {
        replace(holder, statusParts(status));
        if (!statusHolders.has(element.id)) statusHolders.set(element.id, []);
        statusHolders.get(element.id).push(holder);
      }
      const context = element.inContextOf.map((c) => byId.get(c)).filter(Boolean);
      const children = path.has(element.id) ? [] : element.supportedBy
        .map((c) => byId.get(c)).filter(Boolean);
      const inner = new Set(path).add(element.id);
      return h("li", {}, box,
        context.length ? h("ul", { class: "gsn-contexts", "aria-label": `Context of ${element.id}` },
          context.map(contextual)) : null,
        children.length ? h("ul", {}, children.map((c) => node(c, byId, statuses, inner))) : null);
    }

    function draw(found) {
      shown = found.version;
      statusHolders.clear();
      const byId = new Map(found.elements.map((e) => [e.id, e]));
      const statuses = new Map(found.status.elements.map((s) => [s.id, s]));
      replace(tree, roots(found.elements).map((e) => node(e, byId, statuses, new Set())));
      setRoot(found.status.status, found.status.openItems);
    }

    async function load() {
      const found = (await query(CASE, { id })).assuranceCase;
      if (!alive) return null;
      if (!found) {
        replace(main, h("h1", {}, id), h("p", {}, "No such assurance case."));
        return null;
      }
      replace(main,
        h("h1", {}, found.title),
        h("p", {}, h("a", { href: href("project", found.project) }, found.project),
          h("span", { class: "muted" }, ` · case ${found.caseId} · version ${found.version} of `
            + `${found.latestVersion} · ${found.wellformedness.toLowerCase()} · evaluated `
            + `${when(found.status.at)}`)),
        h("p", {}, "Case status: ", rootStatus, " ", openItems, " · ", liveState),
        h("section", { class: "card", "aria-label": "Argument" }, h("h2", {}, "Argument"), tree));
      draw(found);
      return found;
    }

    const failed = (what) => (error) => {
      if (alive) main.append(h("p", { role: "alert" }, `Could not load ${what}: ${error.message}`));
    };

    (async () => {
      if (!(await load())) return;
      unsubscribers.push(subscribe(UPDATED, () => ({ id }), {
        next: (payload) => {
          const update = payload.data && payload.data.assuranceCaseUpdated;
          if (!update || !alive) return;
          if (update.version !== shown) { // the case was edited: draw its new version
            load().catch(failed("the case"));
            return;
          }
          for (const status of update.changed) setStatus(status);
          setRoot(update.status, update.openItems);
        },
        error: failed("live updates"),
      }));
    })().catch(failed("the case"));
    let dropped = false;
    unsubscribers.push(onLiveState((s) => {
      liveState.textContent = liveLabel(s);
      if (s === "reconnecting") dropped = true;
      // Back after a dropped socket: what changed meanwhile was never pushed, so read it.
      if (s === "live" && dropped && shown !== null) {
        dropped = false;
        query(CASE, { id }).then((data) => alive && data.assuranceCase && draw(data.assuranceCase))
          .catch(failed("the case"));
      }
    }));

    return () => {
      alive = false;
      for (const stop of unsubscribers) stop();
    };
  },
};
