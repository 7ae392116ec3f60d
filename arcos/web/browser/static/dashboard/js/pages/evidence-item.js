// One evidence item: its data, provenance (who, when, commit, metadata), hash and relations.

import { h, replace } from "../dom.js";
import { json, when } from "../format.js";
import { query } from "../graphql.js";
import { href } from "../router.js";

const ITEM = `query Item($id: ID!) {
  evidence(id: $id) {
    id type source commitSha ref sha256 dataSize submittedBy createdAt data metadata
    project { slug }
    relations { relation from { id type } to { id type } }
  }
}`;

export default {
  route: "evidence/:id",
  title: "Evidence item",
  nav: false,
  scopes: ["evidence:read"],
  render({ main, params }) {
    let alive = true;
    query(ITEM, { id: params.id }).then(({ evidence: e }) => {
      if (!alive) return;
      if (!e) {
        replace(main, h("h1", {}, "Evidence"), h("p", {}, "No such evidence item."));
        return;
      }
      const facts = [["Type", e.type], ["Source", e.source], ["Project", e.project
        ? h("a", { href: href("project", e.project.slug) }, e.project.slug) : "—"],
      ["Submitted by", e.submittedBy], ["Created", when(e.createdAt)],
      ["Commit", e.commitSha || "—"], ["Ref", e.ref || "—"], ["SHA-256", e.sha256],
      ["Size", `${e.dataSize} bytes`]];
      const link = (end) => h("a", { href: href("evidence", end.id) }, `${end.type} ${end.id}`);
      replace(main, h("h1", {}, `Evidence ${e.id}`),
        h("section", { class: "card", "aria-label": "Provenance" }, h("h2", {}, "Provenance"),
          h("dl", { class: "kv", id: "provenance" },
            facts.flatMap(([k, v]) => [h("dt", {}, k), h("dd", {}, v)]))),
        h("section", { class: "card", "aria-label": "Data" }, h("h2", {}, "Data"),
          h("pre", { id: "evidence-data" }, json(e.data))),
        h("section", { class: "card", "aria-label": "Relations" }, h("h2", {}, "Relations"),
          h("ul", {}, e.relations.length ? e.relations.map((r) => h("li", {}, link(r.from),
            ` ${r.relation} `, link(r.to))) : h("li", {}, "None."))),
        h("section", { class: "card", "aria-label": "Metadata" }, h("h2", {}, "Metadata"),
          h("pre", {}, json(e.metadata))));
    }).catch((error) => {
      if (alive) replace(main, h("p", { role: "alert" }, `Could not load: ${error.message}`));
    });
    return () => {
      alive = false;
    };
  },
};
