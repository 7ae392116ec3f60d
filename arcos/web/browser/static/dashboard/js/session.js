// The signed-in token: kept in sessionStorage (this tab only, gone when it closes), never
// in a URL or a cookie.

const KEY = "arcos.token";

export function token() {
  return sessionStorage.getItem(KEY);
}

export function signIn(value) {
  sessionStorage.setItem(KEY, value);
}

export function signOut() {
  sessionStorage.removeItem(KEY);
}
