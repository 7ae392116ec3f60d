// Sign in with an API token; it is kept in this tab's sessionStorage only.

import { h, replace } from "../dom.js";
import { signIn } from "../session.js";

export default {
  route: "signin",
  title: "Sign in",
  render({ main, start }) {
    const input = h("input", { id: "token", name: "token", type: "password",
      autocomplete: "off", required: true, spellcheck: "false" });
    const form = h("form", {
      onsubmit: (event) => {
        event.preventDefault();
        const value = input.value.trim();
        if (!value) return;
        signIn(value);
        input.value = "";
        start();
      },
    },
    h("label", { for: "token" }, "API token", input),
    h("button", { type: "submit" }, "Sign in"),
    h("p", { class: "muted" },
      "Create one with `arcos token create --name NAME --scope evidence:read`. The token is "
      + "kept in this tab only and sent to this server alone."));
    replace(main, h("section", { class: "signin card" }, h("h1", {}, "Sign in to ARCOS"), form));
    input.focus();
  },
};
