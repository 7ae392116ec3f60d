// Hash routes (#/projects, #/project/<slug>): each page module declares its pattern; the
// router matches the current hash, renders the page into <main> and runs the previous
// page's cleanup (its subscriptions) first.

export function match(pattern, path) {
  const want = pattern.split("/");
  const have = path.split("/");
  if (want.length !== have.length) return null;
  const params = {};
  for (let i = 0; i < want.length; i += 1) {
    if (want[i].startsWith(":")) {
      try {
        params[want[i].slice(1)] = decodeURIComponent(have[i]);
      } catch {
        return null;
      }
    } else if (want[i] !== have[i]) {
      return null;
    }
  }
  return params;
}

export function currentPath() {
  return window.location.hash.replace(/^#\/?/, "");
}

export function href(...parts) {
  return "#/" + parts.map((part) => encodeURIComponent(part)).join("/");
}

/** The first of `pages` whose pattern matches `path`, with its parameters. */
export function resolve(pages, path) {
  for (const page of pages) {
    const params = match(page.route, path);
    if (params) return { page, params };
  }
  return null;
}
