// The dashboard's only way to the server: the public GraphQL API. Queries go over HTTP
// with the session's bearer token; subscriptions over one graphql-transport-ws socket that
// reconnects with capped, jittered back-off and re-subscribes what is still open.

import { token } from "./session.js";

const ENDPOINT = "/graphql";
const BACKOFF_FIRST_MS = 500;
const BACKOFF_MAX_MS = 15000;

/** The token was refused (revoked, expired or wrong): the shell returns to sign-in. */
export class AuthFailed extends Error {}

/** The server answered with errors that are not about the token. */
export class QueryFailed extends Error {}

let onAuthFailed = () => {};

/** Who hears of a refused token (the shell). */
export function whenAuthFails(handler) {
  onAuthFailed = handler;
}

function authError(errors) {
  return (errors || []).find((e) => e && e.extensions && e.extensions.code === "UNAUTHENTICATED");
}

function refuse(message) {
  const failure = new AuthFailed(message);
  onAuthFailed(failure);
  return failure;
}

/** Run one query or mutation; resolves to its `data`. */
export async function query(document, variables = {}) {
  const response = await fetch(ENDPOINT, {
    method: "POST",
    headers: { "content-type": "application/json", authorization: `Bearer ${token() || ""}` },
    body: JSON.stringify({ query: document, variables }),
  });
  let body;
  try {
    body = await response.json();
  } catch {
    throw new QueryFailed(`the server answered ${response.status} without JSON`);
  }
  const refused = authError(body.errors);
  if (response.status === 401 || refused) {
    throw refuse((refused && refused.message) || "the token was refused");
  }
  if (body.errors && body.errors.length) {
    throw new QueryFailed(body.errors.map((e) => e.message).join("; "));
  }
  return body.data;
}

class LiveSocket {
  constructor() {
    this.socket = null;
    this.acked = false;
    this.nextId = 1;
    this.active = new Map(); // id -> { document, variables(), sink }
    this.attempt = 0;
    this.timer = null;
    this.listeners = new Set();
  }

  onState(listener) {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  emit(state) {
    for (const listener of this.listeners) listener(state);
  }

  url() {
    const url = new URL(ENDPOINT, window.location.href);
    url.protocol = url.protocol === "https:" ? "wss:" : "ws:";
    return url.toString();
  }

  connect() {
    if (this.socket || this.timer) return;
    const socket = new WebSocket(this.url(), "graphql-transport-ws");
    this.socket = socket;
    this.acked = false;
    this.emit("connecting");
    socket.addEventListener("open", () => {
      socket.send(JSON.stringify({
        type: "connection_init", payload: { authorization: `Bearer ${token() || ""}` },
      }));
    });
    socket.addEventListener("message", (event) => this.receive(socket, event.data));
    socket.addEventListener("close", (event) => this.closed(socket, event));
  }

  receive(socket, text) {
    let message;
    try {
      message = JSON.parse(text);
    } catch {
      return;
    }
    if (message.type === "connection_ack") {
      this.acked = true;
      this.attempt = 0;
      this.emit("live");
      for (const id of this.active.keys()) this.start(id);
    } else if (message.type === "ping") {
      socket.send(JSON.stringify({ type: "pong" }));
    } else if (message.type === "next") {
      const entry = this.active.get(message.id);
      if (!entry) return;
      const payload = message.payload || {};
      const refused = authError(payload.errors);
      if (refused) {
        this.stopAll();
        refuse(refused.message);
        return;
      }
      entry.sink.next(payload);
    } else if (message.type === "error") {
      const entry = this.active.get(message.id);
      const refused = authError(message.payload);
      if (refused) {
        this.stopAll();
        refuse(refused.message);
        return;
      }
      if (entry) {
        this.active.delete(message.id);
        entry.sink.error(new QueryFailed((message.payload || []).map((e) => e.message).join("; ")));
      }
    } else if (message.type === "complete") {
      const entry = this.active.get(message.id);
      this.active.delete(message.id);
      if (entry && entry.sink.complete) entry.sink.complete();
    }
  }

  closed(socket, event) {
    if (this.socket !== socket) return;
    this.socket = null;
    this.acked = false;
    // 4403: connection_init refused (a revoked or wrong token); 4401: not authenticated.
    if (event.code === 4403 || event.code === 4401) {
      this.stopAll();
      refuse(event.reason || "the token was refused");
      return;
    }
    if (!this.active.size) {
      this.emit("idle");
      return;
    }
    const delay = Math.min(BACKOFF_MAX_MS, BACKOFF_FIRST_MS * 2 ** this.attempt);
    this.attempt += 1;
    this.emit("reconnecting");
    this.timer = setTimeout(() => {
      this.timer = null;
      this.connect();
    }, delay / 2 + Math.random() * (delay / 2));
  }

  start(id) {
    const entry = this.active.get(id);
    if (!entry || !this.socket || !this.acked) return;
    this.socket.send(JSON.stringify({
      id, type: "subscribe", payload: { query: entry.document, variables: entry.variables() },
    }));
  }

  subscribe(document, variables, sink) {
    const id = String(this.nextId++);
    this.active.set(id, { document, variables, sink });
    if (this.acked) this.start(id);
    else this.connect();
    return () => {
      if (!this.active.delete(id)) return;
      if (this.socket && this.acked) this.socket.send(JSON.stringify({ id, type: "complete" }));
      if (!this.active.size) this.close();
    };
  }

  stopAll() {
    this.active.clear();
    this.close();
  }

  close() {
    clearTimeout(this.timer);
    this.timer = null;
    const socket = this.socket;
    this.socket = null;
    this.acked = false; // else the next page's subscribe would wait on a socket now gone
    if (socket) socket.close(1000, "done");
    this.emit("idle");
  }
}

const live = new LiveSocket();

/**
 * Subscribe; `variables` is a function, asked again on every re-subscription (so a feed
 * can resume after its last cursor). Returns a function that unsubscribes.
 */
export function subscribe(document, variables, sink) {
  return live.subscribe(document, variables, sink);
}

const LIVE_LABELS = { live: "live", connecting: "connecting…", reconnecting: "reconnecting…",
  idle: "not connected" };

/** What a page shows for a state of the live connection. */
export function liveLabel(state) {
  return LIVE_LABELS[state] || state;
}

/** Hear the socket's state: connecting, live, reconnecting, idle. */
export function onLiveState(listener) {
  return live.onState(listener);
}

/** Close the socket and forget every subscription (signing out). */
export function closeLive() {
  live.stopAll();
}
