// The approvals inbox: every call the daemon holds for a human, shown in full, answered
// with approve / deny / always (buttons or j/k/a/d/A). It reloads the list whenever a
// permission event arrives, so a held call appears the moment it is held.

import { ApiError, get, post } from "./api.js";
import { badge, byId, el, facts, fill, pretty, remaining, summarize, timeNode, toast } from "./dom.js";

const ACTIONS = [
  { path: "approve", label: "Approve", key: "a", tone: "primary", done: "approved" },
  { path: "deny", label: "Deny", key: "d", tone: "danger", done: "denied" },
  { path: "always", label: "Always", key: "A", tone: "", done: "approved always" },
];

let approvals = [];
let selectedId = null;
let busy = false;
let loading = null;
let again = false;
let loadedOnce = false; // no announcement for what is already pending when the page opens

/** Reload the pending approvals; calls made while one load runs are folded into one more. */
export async function refresh() {
  if (loading) {
    again = true;
    return loading;
  }
  loading = (async () => {
    do {
      again = false;
      try {
        const data = await get("/approvals");
        announceNew(approvals, (data && data.approvals) || []);
        approvals = (data && data.approvals) || [];
      } catch (error) {
        if (error.status !== 401) toast(`Could not load approvals: ${error.message}`, "error");
        return;
      }
      render();
    } while (again);
  })();
  try {
    await loading;
  } finally {
    loading = null;
  }
}

/** Say (politely, for screen readers too) that a call was just held. */
function announceNew(before, after) {
  const known = new Set(before.map((approval) => approval.id));
  const fresh = after.filter((approval) => !known.has(approval.id));
  if (loadedOnce && fresh.length) {
    const [first] = fresh;
    const more = fresh.length > 1 ? ` (+${fresh.length - 1} more)` : "";
    toast(`Held: ${first.tool_name} ${summarize(first.input)}${more}`, "warn");
  }
  loadedOnce = true;
}

/** Forget everything shown (on logout). */
export function reset() {
  loadedOnce = false;
  approvals = [];
  selectedId = null;
  render();
}

function selected() {
  return approvals.find((approval) => approval.id === selectedId) || null;
}

function render() {
  if (!selected()) selectedId = approvals.length ? approvals[0].id : null;
  const hadFocus = document.activeElement && document.activeElement.closest("#approval-list");
  const count = byId("pending-count");
  count.textContent = approvals.length ? String(approvals.length) : "";
  document.title = approvals.length ? `(${approvals.length}) Stockade` : "Stockade";
  byId("approvals-empty").hidden = approvals.length > 0;
  fill(byId("approval-list"), approvals.map(item));
  const detail = byId("approval-detail");
  const current = selected();
  // A note being typed survives a reload of the list, as long as its call is still shown.
  const note = byId("approval-note");
  const keptNote = note && current && detail.dataset.id === current.id ? note.value : "";
  detail.hidden = !current;
  detail.dataset.id = current ? current.id : "";
  fill(detail, current ? describe(current) : []);
  if (keptNote) byId("approval-note").value = keptNote;
  if (hadFocus && current) focusSelected();
  tick();
}

function item(approval) {
  const isSelected = approval.id === selectedId;
  const button = el(
    "button",
    {
      class: "approval-item",
      attrs: { type: "button", "aria-pressed": isSelected ? "true" : "false", "data-id": approval.id },
      on: { click: () => select(approval.id) },
    },
    el("span", { class: "item-head" }, el("strong", { text: approval.tool_name }), severityBadge(approval)),
    el("span", { class: "item-summary", text: summarize(approval.input) }),
    el("span", { class: "item-meta" }, `${approval.harness} · `, countdown(approval)),
  );
  return el("li", { class: isSelected ? "selected" : "" }, button);
}

function severityBadge(approval) {
  return badge(approval.severity || "warn");
}

function countdown(approval) {
  return el("span", { class: "countdown", attrs: { "data-expires": approval.expires_at } });
}

function describe(approval) {
  const buttons = ACTIONS.map((action) =>
    el("button", {
      class: action.tone,
      text: action.label,
      attrs: { type: "button", "aria-keyshortcuts": action.key, "data-action": action.path },
      on: { click: () => resolve(action) },
    }),
  );
  return [
    el(
      "header",
      { class: "detail-head" },
      el("h2", { text: approval.tool_name }),
      severityBadge(approval),
      el("span", { class: "countdown big", attrs: { "data-expires": approval.expires_at } }),
    ),
    el("p", { class: "reason" }, el("strong", { text: "Held because: " }), approval.reason),
    facts([
      ["Action", approval.action],
      ["Zone", approval.zone],
      ["Rule", approval.rule_id],
      ["Harness", approval.harness],
      ["Session", approval.session_id],
      ["Working directory", approval.cwd],
      ["Project", approval.project_root],
      ["Held at", timeNode(approval.created_at)],
      ["Expires at", timeNode(approval.expires_at)],
      ["Approval", approval.id],
    ]),
    el("h3", { text: "Input" }),
    el("pre", { class: "code", text: pretty(approval.input), attrs: { tabindex: "0" } }),
    el(
      "div",
      { class: "field" },
      el("label", { text: "Note (optional; a denial's note is shown to the agent)", attrs: { for: "approval-note" } }),
      el("input", { attrs: { id: "approval-note", maxlength: "500", autocomplete: "off" } }),
    ),
    el("div", { class: "actions" }, ...buttons),
  ];
}

function select(id) {
  selectedId = id;
  render();
  focusSelected();
}

function focusSelected() {
  const button = document.querySelector(`#approval-list button[data-id="${CSS.escape(selectedId)}"]`);
  if (button) button.focus();
}

/** Move the selection by `step` (j: +1, k: -1). */
export function move(step) {
  if (!approvals.length) return;
  const at = approvals.findIndex((approval) => approval.id === selectedId);
  const next = Math.min(approvals.length - 1, Math.max(0, at + step));
  select(approvals[next].id);
}

/** Answer the selected approval with the action bound to `key` (a, d or A). */
export function answerByKey(key) {
  const action = ACTIONS.find((candidate) => candidate.key === key);
  if (action) resolve(action);
}

async function resolve(action) {
  const approval = selected();
  if (!approval || busy) return;
  const noteInput = byId("approval-note");
  const note = noteInput ? noteInput.value.trim() : "";
  busy = true;
  for (const button of document.querySelectorAll("#approval-detail .actions button")) button.disabled = true;
  try {
    await post(`/approvals/${encodeURIComponent(approval.id)}/${action.path}`, note ? { note } : {});
    toast(`${approval.tool_name} ${action.done}`, action.path === "deny" ? "warn" : "ok");
  } catch (error) {
    const message = error instanceof ApiError ? error.message : String(error);
    toast(`Could not ${action.path}: ${message}`, "error");
  } finally {
    busy = false;
    await refresh();
  }
}

/** Update every countdown on the page (called each second). */
export function tick() {
  const now = Date.now();
  for (const node of document.querySelectorAll("[data-expires]")) {
    const left = remaining(node.dataset.expires, now);
    node.textContent = left ? `expires in ${left}` : "expired";
    node.classList.toggle("expired", !left);
  }
}
