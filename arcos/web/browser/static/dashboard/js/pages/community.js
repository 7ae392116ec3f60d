// Community: shared quality patterns, best practices (upvote, or take the vote back),
// threats with their TLP level (a badge that says "TLP:AMBER" in words and colour) and the
// industry and compliance templates.

import { h, replace } from "../dom.js";
import { when } from "../format.js";
import { query } from "../graphql.js";
import { holds } from "../scopes.js";
import { badge } from "../status.js";

const LIBRARY = `query Community($search: String) {
  patterns(search: $search, first: 50) {
    totalCount
    nodes { id name category description tags usageCount averageRating ratingCount author { name } }
  }
  practices(search: $search, first: 50) {
    totalCount
    nodes { id title category industry description steps upvotes upvotedByMe author { name } }
  }
  threats(first: 50) {
    totalCount
    nodes { id title kind severity tlp description indicators mitigations createdAt author { name } }
  }
  industryTemplates(first: 50) { nodes { id key name description builtIn frameworks } }
  complianceTemplates(first: 50) { nodes { id key name version description builtIn controls { __typename } } }
}`;
const UPVOTE = `mutation Upvote($id: String!) {
  upvotePractice(id: $id) { practice { upvotes } errors { message } }
}`;
const WITHDRAW = `mutation Withdraw($id: String!) {
  withdrawUpvote(id: $id) { practice { upvotes } errors { message } }
}`;

/** A TLP 2.0 badge: the level in words (colour only repeats it). */
export function tlpBadge(level) {
  const word = String(level);
  return h("span", { class: `badge tlp tlp-${word.toLowerCase().replace("_", "-")}`,
    title: `Traffic Light Protocol: ${word}` }, `TLP:${word.replace("_", "+")}`);
}

function by(item) {
  return item.author ? `by ${item.author.name}` : "anonymous";
}

function patternCard(p) {
  return h("article", { class: "card", "data-pattern": p.id }, h("h3", {}, p.name),
    h("p", { class: "muted" }, `${p.category} · ${by(p)} · used ${p.usageCount}×`,
      p.ratingCount ? ` · ★ ${p.averageRating.toFixed(1)} (${p.ratingCount})` : ""),
    h("p", {}, p.description), p.tags.length ? h("p", { class: "muted" }, `tags: ${p.tags.join(", ")}`) : null);
}

function threatRow(t) {
  return h("tr", { "data-threat": t.id }, h("td", {}, tlpBadge(t.tlp)), h("td", {}, badge(t.severity)),
    h("td", {}, t.kind), h("td", { class: "title" }, t.title), h("td", {}, t.description),
    h("td", {}, t.indicators.join("\n")), h("td", {}, by(t)), h("td", {}, when(t.createdAt)));
}

function templateRow(t, extra) {
  return h("tr", { "data-template": t.key }, h("td", {}, t.key), h("td", {}, t.name),
    h("td", {}, t.builtIn ? "built-in" : "shared"), h("td", {}, extra), h("td", {}, t.description));
}

export default {
  route: "community",
  title: "Community",
  nav: true,
  scopes: ["community:read"],
  render({ main, viewer }) {
    const search = h("input", { id: "community-search", type: "search", placeholder: "words…" });
    const sections = {
      patterns: h("div", { class: "grid", id: "patterns" }),
      practices: h("div", { id: "practices" }),
      threats: h("tbody"),
      templates: h("tbody"),
    };
    const counts = { patterns: h("span", { class: "muted" }), practices: h("span", { class: "muted" }),
      threats: h("span", { class: "muted" }) };
    let alive = true;

    function practiceCard(p) {
      const votes = h("span", { class: "votes" }, `${p.upvotes} upvote(s)`);
      const problem = h("span", { class: "invalid", role: "status" });
      const vote = h("button", { type: "button", "data-vote": p.id, "aria-pressed": String(p.upvotedByMe),
        onclick: async () => {
          vote.disabled = true;
          try {
            const mine = vote.getAttribute("aria-pressed") === "true";
            const done = (await query(mine ? WITHDRAW : UPVOTE, { id: p.id }))[mine ? "withdrawUpvote" : "upvotePractice"];
            if (done.errors.length) {
              problem.textContent = done.errors.map((e) => e.message).join("; ");
            } else {
              problem.textContent = "";
              votes.textContent = `${done.practice.upvotes} upvote(s)`;
              vote.setAttribute("aria-pressed", String(!mine));
              vote.textContent = mine ? "Upvote" : "Withdraw upvote";
            }
          } catch (error) {
            problem.textContent = error.message;
          } finally {
            vote.disabled = false;
          }
        } }, p.upvotedByMe ? "Withdraw upvote" : "Upvote");
      return h("article", { class: "card", "data-practice": p.id }, h("h3", { class: "title" }, p.title),
        h("p", { class: "muted" }, `${p.category}${p.industry ? ` · ${p.industry}` : ""} · ${by(p)}`),
        h("p", {}, p.description), p.steps.length ? h("ol", {}, p.steps.map((s) => h("li", {}, s))) : null,
        h("p", {}, votes, " ", holds(viewer, "community:write") ? vote : null, " ", problem));
    }

    async function load() {
      const data = await query(LIBRARY, { search: search.value.trim() || null });
      if (!alive) return;
      counts.patterns.textContent = ` (${data.patterns.totalCount})`;
      counts.practices.textContent = ` (${data.practices.totalCount})`;
      counts.threats.textContent = ` (${data.threats.totalCount})`;
      replace(sections.patterns, data.patterns.nodes.length ? data.patterns.nodes.map(patternCard)
        : h("p", {}, "No patterns match."));
      replace(sections.practices, data.practices.nodes.length ? data.practices.nodes.map(practiceCard)
        : h("p", {}, "No practices match."));
      replace(sections.threats, data.threats.nodes.length ? data.threats.nodes.map(threatRow)
        : h("tr", {}, h("td", { colspan: 8 }, "No threats you may read.")));
      replace(sections.templates,
        data.industryTemplates.nodes.map((t) => templateRow(t, `industry · ${t.frameworks.join(", ")}`)),
        data.complianceTemplates.nodes.map((t) => templateRow(t, `compliance ${t.version} · ${t.controls.length} controls`)));
    }
    const failed = (error) => {
      if (alive) main.append(h("p", { role: "alert" }, `Could not load the community: ${error.message}`));
    };
    const form = h("form", { class: "controls", onsubmit: (event) => {
      event.preventDefault();
      load().catch(failed);
    } }, h("label", { for: "community-search" }, "Search patterns and practices", search),
    h("button", { type: "submit" }, "Search"));
    const table = (label, heads, body) => h("table", { "aria-label": label },
      h("thead", {}, h("tr", {}, heads.map((t) => h("th", {}, t)))), body);
    replace(main, h("h1", {}, "Community"), form,
      h("h2", {}, "Quality patterns", counts.patterns), sections.patterns,
      h("h2", {}, "Best practices", counts.practices), sections.practices,
      h("h2", {}, "Threats", counts.threats), h("section", { id: "threats" }, table("Threats",
        ["TLP", "Severity", "Kind", "Title", "Description", "Indicators", "Shared", "When"], sections.threats)),
      h("h2", {}, "Templates"), h("section", { id: "templates" }, table("Templates",
        ["Key", "Name", "Origin", "Kind", "Description"], sections.templates)));
    load().catch(failed);
    return () => {
      alive = false;
    };
  },
};
