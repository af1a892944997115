// The live decision feed: the latest decisions from the audit log, then each new one as
// the event stream delivers it, newest first.

import { get } from "./api.js";
import { badge, byId, el, summarize, timeNode, toast } from "./dom.js";

const KEEP = 200;
const seen = new Set();

/** Show the latest decisions already in the log; returns the newest seq of the whole log. */
export async function load() {
  try {
    // The cursor first: a decision made between the two answers then comes twice
    // (once here, once from the stream, shown once), never not at all.
    const latest = await get("/audit/events", { order: "desc", limit: 1 });
    const decisions = await get("/audit/events", { kind: "decision", order: "desc", limit: 50 });
    for (const event of decisions.events.slice().reverse()) add(event);
    return latest.events.length ? latest.events[0].seq : 0;
  } catch (error) {
    if (error.status !== 401) toast(`Could not load decisions: ${error.message}`, "error");
    return 0;
  }
}

/** Add one `decision` event at the top (once, whatever the order it arrives in). */
export function add(event) {
  if (seen.has(event.seq)) return;
  seen.add(event.seq);
  const list = byId("feed-list");
  const node = entry(event);
  const newer = [...list.children].find((child) => Number(child.dataset.seq) < event.seq);
  list.insertBefore(node, newer || null);
  while (list.children.length > KEEP) {
    seen.delete(Number(list.lastElementChild.dataset.seq));
    list.lastElementChild.remove();
  }
  byId("feed-empty").hidden = true;
}

export function reset() {
  seen.clear();
  byId("feed-list").replaceChildren();
  byId("feed-empty").hidden = false;
}

export function entry(event) {
  const payload = event.payload || {};
  const held = payload.approval_id ? badge(`held ${payload.approval_id}`, "held") : null;
  return el(
    "li",
    { class: `feed-item verdict-${payload.verdict}`, attrs: { "data-seq": event.seq } },
    el(
      "div",
      { class: "item-head" },
      badge(payload.verdict || "?"),
      el("strong", { text: payload.tool || event.kind }),
      held,
      el("span", { class: "muted" }, timeNode(event.ts)),
    ),
    el("div", { class: "item-summary", text: summarize(payload.input) }),
    el("div", { class: "muted", text: payload.reason || "" }),
    el("div", { class: "muted small", text: `${payload.harness || ""} · ${event.session || "no session"}` }),
  );
}
