// The shell: signs in, asks who the token belongs to, shows the pages its scopes allow,
// and sends the person back to sign-in (saying why) the moment the token is refused.

import { h, replace } from "./dom.js";
import { AuthFailed, closeLive, query, whenAuthFails } from "./graphql.js";
import { PAGES } from "./pages/index.js";
import { holds } from "./scopes.js";
import { currentPath, href, resolve } from "./router.js";
import { signOut, token } from "./session.js";
import signin from "./pages/signin.js";

const VIEWER = "query Viewer { viewer { authenticated name scopes tokenName } }";

const main = document.getElementById("main");
const nav = document.getElementById("nav");
const who = document.getElementById("who");
const notice = document.getElementById("notice");
const signOutButton = document.getElementById("sign-out");

let viewer = null;
let cleanup = null;

function allowed(page) {
  if (!page.scopes || !page.scopes.length) return true;
  return page.scopes.some((scope) => holds(viewer, scope));
}

function say(message) {
  notice.hidden = !message;
  notice.textContent = message || "";
}

function leave() {
  if (cleanup) cleanup();
  cleanup = null;
}

function showSignIn(message) {
  leave();
  closeLive();
  signOut();
  viewer = null;
  replace(nav);
  who.textContent = "";
  signOutButton.hidden = true;
  say(message);
  cleanup = signin.render({ main, start }) || null;
}

function buildNav(path) {
  replace(nav, PAGES.filter((page) => page.nav && allowed(page)).map((page) => h(
    "a", { href: href(...page.route.split("/")),
      "aria-current": path.split("/")[0] === page.route.split("/")[0] ? "page" : null },
    page.title)));
}

function route() {
  if (!viewer) return;
  leave();
  const path = currentPath();
  const found = resolve(PAGES.filter(allowed), path);
  if (!found) {
    const first = PAGES.find((page) => page.nav && allowed(page));
    if (first && path !== first.route) {
      window.location.hash = href(first.route);
      return;
    }
    replace(main, h("h1", {}, "Nothing to show"),
      h("p", {}, "This token's scopes allow none of the dashboard's pages."));
    return;
  }
  buildNav(path);
  document.title = `${found.page.title} · ARCOS`;
  replace(main, h("p", { class: "muted" }, "Loading…"));
  const done = found.page.render({ main, params: found.params, viewer });
  cleanup = typeof done === "function" ? done : null;
  main.focus();
}

/** After sign-in (or on load with a token kept in this tab): who are we, then route. */
async function start() {
  if (!token()) {
    showSignIn("");
    return;
  }
  try {
    viewer = (await query(VIEWER)).viewer;
  } catch (error) {
    if (!(error instanceof AuthFailed)) showSignIn(`Could not reach ARCOS: ${error.message}`);
    return;
  }
  say("");
  who.textContent = viewer.tokenName ? `${viewer.name} (${viewer.tokenName})` : viewer.name;
  signOutButton.hidden = false;
  route();
}

whenAuthFails((failure) => {
  if (!viewer && !token()) return;
  showSignIn(`Signed out: this token is no longer accepted (${failure.message}). `
    + "It may have been revoked or have expired; sign in with a valid token.");
});

signOutButton.addEventListener("click", () => showSignIn(""));
window.addEventListener("hashchange", route);
window.addEventListener("unhandledrejection", (event) => {
  if (event.reason instanceof AuthFailed) event.preventDefault();
});
start();
