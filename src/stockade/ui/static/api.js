// Talking to the daemon: JSON over fetch, and the live event stream. The gateway's session
// cookie authenticates both (same origin, HttpOnly): this file never sees the token after
// login() hands it to the daemon, and never stores it.

const API = "/api/v1";

/** An error answer from the daemon, in its `{"error": {code, message, hint}}` shape. */
export class ApiError extends Error {
  constructor(status, code, message, hint, retryAfter) {
    super(message);
    this.status = status;
    this.code = code;
    this.hint = hint;
    this.retryAfter = retryAfter;
  }
}

// Called when the daemon answers 401: the session is gone (logout, rotation, expiry).
let onUnauthorized = () => {};
export function whenUnauthorized(handler) {
  onUnauthorized = handler;
}

async function request(method, path, { query, body } = {}) {
  const url = new URL(path, location.origin);
  for (const [name, value] of Object.entries(query || {})) {
    if (value !== undefined && value !== null && value !== "") url.searchParams.set(name, value);
  }
  const headers = { Accept: "application/json" };
  const init = { method, headers, credentials: "same-origin", cache: "no-store" };
  if (method !== "GET") {
    headers["Content-Type"] = "application/json";
    headers["Stockade-Client"] = "ui"; // the audit names the UI as the resolver
    init.body = JSON.stringify(body || {});
  }
  let response;
  try {
    response = await fetch(url, init);
  } catch {
    throw new ApiError(0, "unreachable", "the daemon does not answer", "is `stockade serve` running?");
  }
  const text = await response.text();
  let data = null;
  try {
    data = text ? JSON.parse(text) : null;
  } catch {
    data = null;
  }
  if (response.ok) return data;
  const error = (data && data.error) || {};
  const failure = new ApiError(
    response.status,
    error.code || `http_${response.status}`,
    error.message || `the daemon answered ${response.status}`,
    error.hint,
    Number(response.headers.get("Retry-After")) || null,
  );
  if (response.status === 401 && !path.startsWith("/ui/")) onUnauthorized();
  throw failure;
}

export const get = (path, query) => request("GET", `${API}${path}`, { query });
export const post = (path, body) => request("POST", `${API}${path}`, { body });

export const login = (token) => request("POST", "/ui/login", { body: { token } });
export const logout = () => request("POST", "/ui/logout");

/** True when the session cookie is still good. */
export async function hasSession() {
  try {
    await request("GET", "/ui/session");
    return true;
  } catch (error) {
    if (error.status === 401) return false;
    throw error;
  }
}

/**
 * The live audit stream (`GET /api/v1/events`, Server-Sent Events) for `kinds`.
 *
 * The browser reconnects by itself after a dropped connection, sending `Last-Event-ID`.
 * When it gives up (an error status, a restarted daemon) this opens a new stream with
 * `?after=` the last seq seen, with a growing delay, so no event is missed or repeated.
 */
export class LiveEvents {
  constructor(kinds, onEvent, onStatus) {
    this.kinds = kinds;
    this.onEvent = onEvent;
    this.onStatus = onStatus;
    this.lastSeq = 0;
    this.source = null;
    this.retryTimer = 0;
    this.delayMs = 500;
  }

  start(after) {
    this.lastSeq = Math.max(this.lastSeq, after || 0);
    this.stop();
    const url = new URL(`${API}/events`, location.origin);
    url.searchParams.set("kinds", this.kinds.join(","));
    url.searchParams.set("after", String(this.lastSeq));
    const source = new EventSource(url);
    this.source = source;
    source.addEventListener("open", () => {
      this.delayMs = 500;
      this.onStatus("live");
    });
    source.addEventListener("error", () => this.failed(source));
    for (const kind of this.kinds) {
      if (!kind.endsWith(".*")) source.addEventListener(kind, (message) => this.deliver(message));
    }
    for (const kind of KNOWN_KINDS) {
      if (this.kinds.some((wanted) => wanted.endsWith(".*") && kind.startsWith(wanted.slice(0, -1)))) {
        source.addEventListener(kind, (message) => this.deliver(message));
      }
    }
  }

  deliver(message) {
    const seq = Number(message.lastEventId);
    if (!(seq > this.lastSeq)) return; // already seen (a replayed backlog)
    this.lastSeq = seq;
    let event;
    try {
      event = JSON.parse(message.data);
    } catch {
      return;
    }
    this.onEvent(event);
  }

  failed(source) {
    if (source !== this.source) return;
    if (source.readyState === EventSource.CONNECTING) {
      this.onStatus("reconnecting");
      return;
    }
    // Closed for good by the browser: find out whether we are still logged in, then retry.
    this.onStatus("offline");
    clearTimeout(this.retryTimer);
    this.retryTimer = setTimeout(async () => {
      try {
        if (!(await hasSession())) {
          onUnauthorized();
          return;
        }
      } catch {
        // the daemon is down: try again later
      }
      this.delayMs = Math.min(this.delayMs * 2, 15000);
      if (this.source === source) this.start(this.lastSeq);
    }, this.delayMs);
  }

  stop() {
    clearTimeout(this.retryTimer);
    if (this.source) this.source.close();
    this.source = null;
  }
}

// Server-Sent Events are dispatched by their `event:` name; these are the names a
// `prefix.*` subscription can deliver.
const KNOWN_KINDS = [
  "permission.request",
  "permission.resolved",
  "session.started",
  "session.ended",
  "session.tainted",
];
