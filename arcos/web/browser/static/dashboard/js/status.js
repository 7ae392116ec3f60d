// Status badges: the word is always shown (colour is never the only signal).

import { h } from "./dom.js";

const TONE = {
  SUPPORTED: "ok", SATISFIED: "ok", PASSED: "ok", SUCCEEDED: "ok", FIXED: "ok",
  PROCESSED: "ok", ACTIVE: "ok", APPROVED: "ok",
  FAILING: "bad", FAILED: "bad", REVOKED: "bad", REJECTED: "bad", CRITICAL: "bad", HIGH: "bad",
  MISSING: "warn", EXPIRED: "warn", PENDING: "warn", STALE: "warn", OPEN: "warn", MEDIUM: "warn",
};

/** The colour family of a status word: ok, warn, bad or info. */
export function tone(status) {
  return TONE[String(status)] || "info";
}

export function badge(status) {
  const word = String(status);
  return h("span", { class: `badge status-${tone(word)}` }, word);
}
