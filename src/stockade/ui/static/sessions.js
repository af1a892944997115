// Sessions seen in the audit log, latest activity first, with their counts and state.

import { get } from "./api.js";
import { badge, byId, el, facts, timeNode, toast } from "./dom.js";
import { searchSession } from "./audit.js";

export async function load() {
  let data;
  try {
    data = await get("/sessions", { limit: 200 });
  } catch (error) {
    if (error.status !== 401) toast(`Could not load sessions: ${error.message}`, "error");
    return;
  }
  const sessions = (data && data.sessions) || [];
  byId("sessions-empty").hidden = sessions.length > 0;
  byId("sessions-list").replaceChildren(...sessions.map(card));
}

export function reset() {
  byId("sessions-list").replaceChildren();
}

function card(session) {
  const counts = `${session.decisions ?? 0} decisions: ${session.allows ?? 0} allowed, ${session.asks ?? 0} asked, ${session.denies ?? 0} denied`;
  return el(
    "li",
    { class: "card" },
    el(
      "div",
      { class: "item-head" },
      el("strong", { text: session.harness }),
      session.tainted ? badge("tainted", "deny") : null,
      session.ended ? badge("ended", "ended") : badge("active", "allow"),
      session.pending_approvals ? badge(`${session.pending_approvals} pending`, "ask") : null,
    ),
    el("code", { class: "wrap", text: session.session }),
    facts([
      ["Agent", session.agent],
      ["Directory", session.cwd || session.project_root],
      ["First seen", session.first_seen ? timeNode(session.first_seen) : null],
      ["Last seen", session.last_seen ? timeNode(session.last_seen) : null],
      ["Calls", counts],
    ]),
    el("button", {
      text: "Show its audit events",
      attrs: { type: "button" },
      on: {
        click: () => {
          location.hash = "#audit";
          searchSession(session.session);
        },
      },
    }),
  );
}
