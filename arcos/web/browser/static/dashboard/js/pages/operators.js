// Operators (admin): webhook deliveries and their outcomes, and the API tokens — list,
// create (the secret is shown once, here, and never again) and revoke after a confirm step.

import { h, replace } from "../dom.js";
import { when } from "../format.js";
import { query } from "../graphql.js";
import { badge } from "../status.js";

const PAGE_SIZE = 25;
const DELIVERIES = `query Deliveries($outcome: WebhookDeliveryOutcome, $first: Int!, $after: String) {
  webhookDeliveries(outcome: $outcome, first: $first, after: $after) {
    nodes { deliveryId provider event action dedupeKey receivedAt outcome detail evidenceIds }
    pageInfo { hasNextPage endCursor }
  }
}`;
const TOKENS = `query Tokens { apiTokens {
  tokenId name principal displayPrefix scopes createdAt expiresAt lastUsedAt revokedAt active
} }`;
const CREATE = `mutation Create($input: CreateApiTokenInput!) {
  createApiToken(input: $input) { token apiToken { name } errors { message } }
}`;
const REVOKE = `mutation Revoke($token: String!) {
  revokeApiToken(input: { token: $token }) { apiToken { name } errors { message } }
}`;
const OUTCOMES = ["", "PROCESSED", "IGNORED", "PING", "FAILED"];

function deliveryRow(d) {
  return h("tr", { "data-delivery": d.deliveryId }, h("td", {}, when(d.receivedAt)),
    h("td", {}, d.provider), h("td", { class: "event" }, d.action ? `${d.event} / ${d.action}` : d.event),
    h("td", {}, badge(d.outcome)), h("td", { class: "detail" }, d.detail || ""),
    h("td", { class: "num" }, d.evidenceIds.length), h("td", { class: "muted" }, d.dedupeKey));
}

/** The deliveries section: an outcome filter and keyset pages, newest first. */
function deliveries(alive, failed) {
  const outcome = h("select", { id: "delivery-outcome" },
    OUTCOMES.map((o) => h("option", { value: o }, o ? o.toLowerCase() : "any")));
  const rows = h("tbody");
  const more = h("button", { type: "button", id: "deliveries-next" }, "Next page");
  const summary = h("span", { id: "deliveries-page", class: "muted" });
  let cursors = [null];

  async function load() {
    const page = (await query(DELIVERIES, { outcome: outcome.value || null, first: PAGE_SIZE,
      after: cursors[cursors.length - 1] })).webhookDeliveries;
    if (!alive()) return;
    summary.textContent = `page ${cursors.length}`;
    more.disabled = !page.pageInfo.hasNextPage;
    more.onclick = () => {
      cursors.push(page.pageInfo.endCursor);
      load().catch(failed);
    };
    replace(rows, page.nodes.length ? page.nodes.map(deliveryRow)
      : h("tr", {}, h("td", { colspan: 7 }, "No deliveries.")));
  }
  outcome.addEventListener("change", () => {
    cursors = [null];
    load().catch(failed);
  });
  const section = h("section", { id: "deliveries" }, h("h2", {}, "Webhook deliveries"),
    h("div", { class: "controls" }, h("label", { for: "delivery-outcome" }, "Outcome", outcome)),
    h("table", { "aria-label": "Webhook deliveries" }, h("thead", {}, h("tr", {},
      ["Received", "Provider", "Event", "Outcome", "Detail", "Evidence", "Dedupe key"]
        .map((t) => h("th", {}, t)))), rows),
    h("div", { class: "pager" }, more, summary));
  return { section, load };
}

/** The tokens section: the list, a create form and a two-step revoke. */
function tokens(alive, failed) {
  const rows = h("tbody");
  const result = h("div", { id: "token-result", role: "status" });
  const inputs = {
    name: h("input", { id: "token-name", required: true, autocomplete: "off" }),
    scopes: h("input", { id: "token-scopes", placeholder: "evidence:read, evidence:write" }),
    expiresIn: h("input", { id: "token-expires", placeholder: "30d (empty: never)" }),
  };

  function confirmRevoke(t, cell) {
    const yes = h("button", { type: "button", class: "danger", "data-confirm": t.name, onclick: async () => {
      yes.disabled = true;
      try {
        const done = (await query(REVOKE, { token: String(t.tokenId) })).revokeApiToken;
        if (done.errors.length) replace(result, h("p", { role: "alert" }, done.errors.map((e) => e.message).join("; ")));
        else replace(result, h("p", {}, `Revoked ${t.name}.`));
        await load();
      } catch (error) {
        failed(error);
      }
    } }, "Confirm revoke");
    const no = h("button", { type: "button", onclick: () => replace(cell, revokeButton(t, cell)) }, "Cancel");
    replace(cell, h("span", {}, `Revoke ${t.name}? `), yes, " ", no);
    no.focus();
  }

  function revokeButton(t, cell) {
    return h("button", { type: "button", "data-revoke": t.name, onclick: () => confirmRevoke(t, cell) }, "Revoke");
  }

  function tokenRow(t) {
    const action = h("td");
    if (t.active) action.append(revokeButton(t, action));
    return h("tr", { "data-token": t.name }, h("td", { class: "name" }, t.name), h("td", {}, t.principal),
      h("td", { class: "muted" }, `${t.displayPrefix}…`), h("td", {}, t.scopes.join(", ") || "none"),
      h("td", {}, badge(t.active ? "ACTIVE" : t.revokedAt ? "REVOKED" : "EXPIRED")),
      h("td", {}, when(t.createdAt)), h("td", {}, when(t.expiresAt)), h("td", {}, when(t.lastUsedAt)), action);
  }

  async function load() {
    const list = (await query(TOKENS)).apiTokens;
    if (!alive()) return;
    replace(rows, list.length ? list.map(tokenRow) : h("tr", {}, h("td", { colspan: 9 }, "No tokens.")));
  }

  const form = h("form", { id: "create-token", class: "controls", onsubmit: async (event) => {
    event.preventDefault();
    const input = { name: inputs.name.value.trim(),
      scopes: inputs.scopes.value.split(/[\s,]+/).filter(Boolean),
      expiresIn: inputs.expiresIn.value.trim() || null };
    try {
      const made = (await query(CREATE, { input })).createApiToken;
      if (!alive()) return;
      if (made.errors.length) {
        replace(result, h("p", { role: "alert" }, made.errors.map((e) => e.message).join("; ")));
        return;
      }
      form.reset();
      replace(result, h("div", { class: "card secret" },
        h("p", {}, `Token ${made.apiToken.name} created. Copy the secret now: it is shown this once only.`),
        h("code", { id: "token-secret" }, made.token),
        h("button", { type: "button", onclick: () => replace(result) }, "Done, hide it")));
      await load();
    } catch (error) {
      failed(error);
    }
  } }, h("label", { for: "token-name" }, "Name", inputs.name),
  h("label", { for: "token-scopes" }, "Scopes", inputs.scopes),
  h("label", { for: "token-expires" }, "Expires in", inputs.expiresIn),
  h("button", { type: "submit" }, "Create token"));

  const section = h("section", { id: "tokens" }, h("h2", {}, "API tokens"), form, result,
    h("table", { "aria-label": "API tokens" }, h("thead", {}, h("tr", {},
      ["Name", "Principal", "Prefix", "Scopes", "State", "Created", "Expires", "Last used", ""]
        .map((t) => h("th", {}, t)))), rows));
  return { section, load };
}

export default {
  route: "operators",
  title: "Operators",
  nav: true,
  scopes: ["admin"],
  render({ main }) {
    let live = true;
    const alive = () => live;
    const failed = (error) => {
      if (live) main.append(h("p", { role: "alert" }, `Could not load: ${error.message}`));
    };
    const hooks = deliveries(alive, failed);
    const keys = tokens(alive, failed);
    replace(main, h("h1", {}, "Operators"), hooks.section, keys.section);
    hooks.load().catch(failed);
    keys.load().catch(failed);
    return () => {
      live = false;
    };
  },
};
