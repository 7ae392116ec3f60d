// What the signed-in token may do, from `viewer { scopes }`: pages and their controls
// appear only when it holds the scope behind them (admins hold every scope).

export function holds(viewer, scope) {
  const scopes = (viewer && viewer.scopes) || [];
  return scopes.includes("admin") || scopes.includes(scope);
}
