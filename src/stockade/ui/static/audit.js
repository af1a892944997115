// Audit search: the filters of `GET /api/v1/audit/events`, newest first, a page at a time
// (the `next_after` cursor of one page starts the next).

import { get } from "./api.js";
import { badge, byId, el, pretty, timeNode, toast } from "./dom.js";

const PAGE = 50;
let query = null;
let cursor = 0;
let generation = 0; // a newer search drops the pages of older ones still in flight

/** The form's filters as query parameters (times from the local clock to RFC 3339). */
function filters() {
  const form = byId("audit-form");
  const value = (name) => form.elements[name].value.trim();
  const instant = (name) => (value(name) ? new Date(value(name)).toISOString() : "");
  return {
    session: value("session"),
    tool: value("tool"),
    verdict: value("verdict"),
    kind: value("kind"),
    since: instant("since"),
    until: instant("until"),
  };
}

export function setup() {
  const form = byId("audit-form");
  form.addEventListener("submit", (event) => {
    event.preventDefault();
    search();
  });
  form.addEventListener("reset", () => setTimeout(search));
  byId("audit-more").addEventListener("click", () => page());
}

/** Search with the form's filters from the newest event on. */
export async function search() {
  query = filters();
  cursor = 0;
  generation += 1;
  byId("audit-results").replaceChildren();
  await page();
}

/** Fill in the session filter and search (from the sessions view). */
export function searchSession(session) {
  const form = byId("audit-form");
  form.reset();
  form.elements.session.value = session;
  return search();
}

async function page() {
  const status = byId("audit-status");
  const more = byId("audit-more");
  const results = byId("audit-results");
  more.disabled = true;
  results.setAttribute("aria-busy", "true");
  status.textContent = "Searching…";
  const asked = generation;
  let data;
  try {
    data = await get("/audit/events", { ...query, order: "desc", limit: PAGE, after: cursor || undefined });
  } catch (error) {
    if (asked !== generation) return;
    results.setAttribute("aria-busy", "false");
    status.textContent = `Search failed: ${error.message}`;
    if (error.status !== 401 && error.status !== 422) toast(status.textContent, "error");
    more.disabled = false;
    return;
  }
  if (asked !== generation) return;
  for (const event of data.events) results.append(row(event));
  cursor = data.next_after;
  const shown = results.children.length;
  status.textContent = shown ? `${shown} event${shown === 1 ? "" : "s"}` : "No event matches.";
  more.hidden = data.events.length < PAGE;
  more.disabled = false;
  results.setAttribute("aria-busy", "false");
}

export function reset() {
  byId("audit-results").replaceChildren();
  byId("audit-status").textContent = "";
  byId("audit-more").hidden = true;
  query = null;
  generation += 1;
}

export function isLoaded() {
  return query !== null;
}

function row(event) {
  const payload = event.payload || {};
  return el(
    "li",
    { class: "event", attrs: { "data-seq": event.seq } },
    el(
      "details",
      {},
      el(
        "summary",
        {},
        el("span", { class: "seq", text: `#${event.seq}` }),
        timeNode(event.ts),
        el("span", { class: "kind", text: event.kind }),
        payload.tool ? el("strong", { text: payload.tool }) : null,
        payload.verdict ? badge(payload.verdict) : null,
        payload.resolution ? badge(payload.resolution) : null,
        payload.by ? el("span", { class: "muted", text: `by ${payload.by}` }) : null,
        el("span", { class: "muted session", text: event.session || "" }),
      ),
      el("pre", { class: "code", text: pretty(event) }),
    ),
  );
}
