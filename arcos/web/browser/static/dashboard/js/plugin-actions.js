// The plugin marketplace's actions, for the plugins page: register a version (the
// validation report shown inline when refused), approve, revoke (after a confirm step),
// execute with JSON input (parsed here first: a parse error is shown, nothing is sent) and
// the executions list. Each control appears only when the token's scopes allow it.

import { h, replace } from "./dom.js";
import { json, when } from "./format.js";
import { query } from "./graphql.js";
import { holds } from "./scopes.js";
import { badge } from "./status.js";

const REGISTER = `mutation Register($input: RegisterPluginInput!) {
  registerPlugin(input: $input) {
    plugin { pluginId version state }
    problems { field message line column }
    errors { message }
  }
}`;
const APPROVE = `mutation Approve($plugin: String!, $version: String!) {
  approvePlugin(input: { plugin: $plugin, version: $version }) {
    plugin { version state } errors { message }
  }
}`;
const REVOKE = `mutation Revoke($plugin: String!, $version: String) {
  revokePlugin(input: { plugin: $plugin, version: $version }) { errors { message } }
}`;
const EXECUTE = `mutation Execute($input: ExecutePluginInput!) {
  executePlugin(input: $input) {
    execution { id status durationMs result error }
    warnings errors { message }
  }
}`;
const EXECUTIONS = `query Executions { pluginExecutions(first: 25) {
  nodes { id pluginId version status trigger durationMs project caller createdAt error }
} }`;

function messages(errors) {
  return errors.map((e) => e.message).join("; ");
}

/** A JSON object typed into a textarea, or the reason it is not one. */
export function parseObject(text) {
  let value;
  try {
    value = JSON.parse(text.trim() || "{}");
  } catch (error) {
    return { problem: `Not valid JSON: ${error.message}` };
  }
  if (value === null || typeof value !== "object" || Array.isArray(value)) {
    return { problem: "The input must be a JSON object, like {\"key\": \"value\"}." };
  }
  return { value };
}

/** The register form; `done()` reloads the catalogue after a version is stored. */
export function registerForm(done) {
  const manifest = h("textarea", { id: "register-manifest", rows: 8, spellcheck: "false",
    placeholder: "{\"id\": \"acme.gate\", \"name\": \"Gate\", \"version\": \"1.0.0\", …}" });
  const code = h("textarea", { id: "register-code", rows: 8, spellcheck: "false",
    placeholder: "def measure(input):\n    return []" });
  const report = h("div", { id: "register-report", role: "status" });
  const form = h("form", { id: "register-plugin", class: "stack", onsubmit: async (event) => {
    event.preventDefault();
    const parsed = parseObject(manifest.value);
    if (parsed.problem) {
      replace(report, h("p", { role: "alert", class: "invalid" }, `Manifest: ${parsed.problem}`));
      return;
    }
    replace(report, h("p", { class: "muted" }, "Checking…"));
    let result;
    try {
      result = (await query(REGISTER, { input: { manifest: parsed.value, code: code.value } }))
        .registerPlugin;
    } catch (error) {
      replace(report, h("p", { role: "alert", class: "invalid" }, error.message));
      return;
    }
    if (result.plugin) {
      replace(report, h("p", {}, `Registered ${result.plugin.pluginId} ${result.plugin.version}: `,
        badge(result.plugin.state)));
      await done();
      return;
    }
    replace(report, h("div", { role: "alert", class: "invalid" },
      h("p", {}, "Refused: ", messages(result.errors) || "the plugin has problems"),
      result.problems.length ? h("ul", { id: "register-problems" }, result.problems.map((p) => h("li", {},
        p.line ? `line ${p.line}, column ${p.column}: ` : p.field ? `${p.field}: ` : "", p.message)))
        : null));
  } },
  h("label", { for: "register-manifest" }, "Manifest (JSON)", manifest),
  h("label", { for: "register-code" }, "Code (Python)", code),
  h("button", { type: "submit" }, "Register version"), report);
  return h("details", { class: "card" }, h("summary", {}, "Register a plugin version"), form);
}

/** Approve / revoke buttons for one version row (revoke asks first). */
export function versionActions(viewer, plugin, v, done, say) {
  const cell = h("td", { class: "actions" });
  const act = async (document, variables, field, success) => {
    const result = (await query(document, variables))[field];
    say(result.errors.length ? messages(result.errors) : success, !result.errors.length);
    await done();
  };
  const draw = () => {
    replace(cell);
    if (!holds(viewer, "plugins:write")) return;
    if (v.state === "PENDING_APPROVAL") {
      cell.append(h("button", { type: "button", "data-approve": v.version, onclick: () =>
        act(APPROVE, { plugin, version: v.version }, "approvePlugin",
        `Approved ${plugin} ${v.version}.`).catch((e) => say(e.message)) },
      "Approve"), " ");
    }
    if (v.state !== "REVOKED") {
      cell.append(h("button", { type: "button", "data-revoke": v.version, onclick: () => {
        const yes = h("button", { type: "button", class: "danger", "data-confirm": v.version, onclick: () =>
          act(REVOKE, { plugin, version: v.version }, "revokePlugin",
          `Revoked ${plugin} ${v.version}; a plugin with no version left standing leaves the catalogue.`).catch((e) => say(e.message)) },
        "Confirm revoke");
        replace(cell, `Revoke ${v.version}? `, yes, " ",
          h("button", { type: "button", onclick: draw }, "Cancel"));
        yes.focus();
      } }, "Revoke"));
    }
  };
  draw();
  return cell;
}

/** The execute form of one plugin: JSON input, optional project, the outcome inline. */
export function executeForm(plugin, done) {
  const id = plugin.replace(/[^A-Za-z0-9_-]/g, "-");
  const input = h("textarea", { id: `input-${id}`, class: "execute-input", rows: 3,
    spellcheck: "false" }, "{}");
  const project = h("input", { id: `project-${id}`, class: "execute-project", placeholder: "optional" });
  const outcome = h("div", { class: "execute-outcome", role: "status" });
  return h("form", { class: "stack execute", onsubmit: async (event) => {
    event.preventDefault();
    const parsed = parseObject(input.value);
    if (parsed.problem) {
      replace(outcome, h("p", { role: "alert", class: "invalid" }, parsed.problem));
      return;
    }
    replace(outcome, h("p", { class: "muted" }, "Running…"));
    try {
      const run = (await query(EXECUTE, { input: { plugin, input: parsed.value,
        project: project.value.trim() || null } })).executePlugin;
      const e = run.execution;
      replace(outcome, run.errors.length ? h("p", { role: "alert" }, messages(run.errors)) : null,
        e ? h("p", {}, badge(e.status), ` in ${e.durationMs.toFixed(0)} ms`) : null,
        e && e.error ? h("p", { class: "invalid" }, e.error) : null,
        e && e.result !== null ? h("pre", { class: "execute-result" }, json(e.result)) : null,
        run.warnings.map((w) => h("p", { class: "muted" }, w)));
      await done();
    } catch (error) {
      replace(outcome, h("p", { role: "alert" }, error.message));
    }
  } }, h("label", { for: input.id }, "Input (JSON object)", input),
  h("label", { for: project.id }, "Project", project),
  h("button", { type: "submit" }, "Execute"), outcome);
}

/** The executions table and a function that reloads it. */
export function executions() {
  const rows = h("tbody");
  const section = h("section", { id: "executions" }, h("h2", {}, "Recent executions"),
    h("table", { "aria-label": "Plugin executions" }, h("thead", {}, h("tr", {},
      ["When", "Plugin", "Version", "Status", "Trigger", "ms", "Project", "Caller", "Error"]
        .map((t) => h("th", {}, t)))), rows));
  async function load() {
    const list = (await query(EXECUTIONS)).pluginExecutions.nodes;
    replace(rows, list.length ? list.map((x) => h("tr", { "data-execution": x.id },
      h("td", {}, when(x.createdAt)), h("td", {}, x.pluginId), h("td", {}, x.version),
      h("td", {}, badge(x.status)), h("td", {}, x.trigger), h("td", { class: "num" }, x.durationMs.toFixed(0)),
      h("td", {}, x.project || "—"), h("td", {}, x.caller), h("td", { class: "invalid" }, x.error || "")))
      : h("tr", {}, h("td", { colspan: 9 }, "No executions yet.")));
  }
  return { section, load };
}
