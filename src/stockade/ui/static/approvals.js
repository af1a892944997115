// The approvals inbox: every call the daemon holds for a human, shown in full, answered
// with approve / deny / always (buttons or j/k/a/d/A). It reloads the list whenever a
// permission event arrives, so a held call appears the moment it is held.
//
// "Always" records a rule, so it takes a second step: the scope form shows the rules the
// daemon would record (its own preview, asked again as the person widens the command
// prefix, path glob or domain; never a guess made here) before anything is sent (Enter
// sends, Esc cancels). The daemon checks the scope; when it refuses (422
// `no_narrow_rule`) the message stays in the form and the call stays pending.

import { ApiError, get, post } from "./api.js";
import { badge, byId, el, facts, fill, pretty, remaining, summarize, timeNode, toast } from "./dom.js";

const ACTIONS = [
  { path: "approve", label: "Approve", key: "a", tone: "primary", done: "approved" },
  { path: "deny", label: "Deny", key: "d", tone: "danger", done: "denied" },
  { path: "always", label: "Always…", key: "A", tone: "", done: "approved always" },
];
const ALWAYS = ACTIONS[2];

let approvals = [];
let selectedId = null;
let busy = false;
let loading = null;
let again = false;
let loadedOnce = false; // no announcement for what is already pending when the page opens
let scoping = null; // the id of the approval whose "always" scope form is open
let scopeError = ""; // the daemon's last refusal of that scope, shown in the form
let preview = null; // the daemon's preview for the open form: { id, key, rules } or { id, key, error }
let previewAsked = 0; // the latest preview question; older answers are dropped
let previewTimer = null;
const PREVIEW_DELAY_MS = 250; // after the last keystroke in a scope field

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
  if (scoping !== selectedId) closeScope(); // its call was answered elsewhere or expired
  const hadFocus = document.activeElement && document.activeElement.closest("#approval-list");
  const count = byId("pending-count");
  count.textContent = approvals.length ? String(approvals.length) : "";
  document.title = approvals.length ? `(${approvals.length}) Stockade` : "Stockade";
  byId("approvals-empty").hidden = approvals.length > 0;
  fill(byId("approval-list"), approvals.map(item));
  const detail = byId("approval-detail");
  const current = selected();
  // What is being typed (a note, a scope) survives a reload of the list, as long as its
  // call is still shown; so does the focus in the form.
  const kept = current && detail.dataset.id === current.id ? typed(detail) : null;
  detail.hidden = !current;
  detail.dataset.id = current ? current.id : "";
  fill(detail, current ? describe(current) : []);
  if (kept) restore(kept);
  if (hadFocus && current) focusSelected();
  tick();
}

/** The values of the detail's inputs and the id of the focused one. */
function typed(detail) {
  const values = {};
  for (const input of detail.querySelectorAll("input[id]")) values[input.id] = input.value;
  const focused = document.activeElement && detail.contains(document.activeElement) ? document.activeElement.id : "";
  return { values, focused };
}

function restore({ values, focused }) {
  for (const [id, value] of Object.entries(values)) {
    const input = byId(id);
    if (input) input.value = value;
  }
  if (focused && byId(focused)) byId(focused).focus();
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
    approval.id === scoping ? scopeForm(approval) : null,
  ].filter(Boolean);
}

/**
 * The facts of the call the person may widen, each with its exact value as the field's
 * starting text. Only the fields: the rules themselves (one per command of a compound
 * line, with every host and path it touches) are the daemon's preview.
 */
function scopeFields(input) {
  const fields = [];
  const value = (key) => (input && typeof input[key] === "string" && input[key] ? input[key] : null);
  const command = value("command");
  if (command) {
    fields.push({ name: "command", label: "Widen to a command prefix", value: command });
  }
  const path = ["file_path", "notebook_path", "path"].map(value).find((found) => found && found.startsWith("/"));
  if (path) fields.push({ name: "path", label: "Widen to a path glob", value: path });
  const host = hostOf(value("url"));
  if (host) fields.push({ name: "domain", label: "Widen to a domain", value: host });
  return fields;
}

function hostOf(url) {
  if (!url) return null;
  try {
    return new URL(url).hostname || null;
  } catch {
    return null;
  }
}

function scopeForm(approval) {
  const fields = scopeFields(approval.input);
  return el(
    "form",
    {
      class: "scope card",
      attrs: { id: "scope-form", "aria-labelledby": "scope-title", novalidate: true },
      on: {
        submit: (event) => {
          event.preventDefault();
          sendAlways(approval, fields);
        },
        keydown: (event) => {
          if (event.key === "Escape") {
            event.preventDefault();
            cancelScope();
          }
        },
        input: () => askPreview(PREVIEW_DELAY_MS),
      },
    },
    el("h3", { attrs: { id: "scope-title" }, text: "Always allow" }),
    el(
      "p",
      {},
      `The daemon will record, for ${approval.tool_name}`,
      approval.project_root ? ` in ${approval.project_root}` : "",
      ":",
    ),
    el("div", { attrs: { id: "scope-preview", "aria-live": "polite" } }, ...previewNodes()),
    el("p", { class: "muted small", text: "Each rule allows only what it names; widen it below." }),
    ...fields.map((field) =>
      el(
        "div",
        { class: "field" },
        el("label", { text: `${field.label} (optional)`, attrs: { for: `scope-${field.name}` } }),
        el("input", {
          attrs: { id: `scope-${field.name}`, name: field.name, value: field.value, autocomplete: "off", spellcheck: "false" },
        }),
      ),
    ),
    el("p", { class: "error", text: scopeError, attrs: { id: "scope-error", role: "alert" } }),
    el(
      "div",
      { class: "actions" },
      el("button", { class: "primary", text: "Record rule", attrs: { type: "submit", id: "scope-send" } }),
      el("button", { text: "Cancel", attrs: { type: "button" }, on: { click: cancelScope } }),
    ),
  );
}

/** The open form's preview: the rules, the daemon's refusal, or that it is being asked. */
function previewNodes() {
  if (!preview || preview.id !== scoping) return [el("p", { class: "muted", text: "Asking the daemon…" })];
  if (preview.error) return [el("p", { class: "error", text: `No rule fits: ${preview.error}` })];
  return [el("ul", {}, ...preview.rules.map((rule) => el("li", { class: "preview-rule" }, ...ruleWords(rule))))];
}

/** One rule in words, its values as code: "the command <code>git status</code>, path <code>…</code>". */
function ruleWords(rule) {
  const parts = [];
  const said = [
    ["command", rule.exact_command ? "exactly the command" : "commands starting with"],
    ["path", "the path"],
    ["domain", "the host"],
  ];
  for (const [key, words] of said) {
    if (!rule[key]) continue;
    parts.push(`${parts.length ? ", " : ""}${words} `, el("code", { text: rule[key] }));
  }
  return parts.length ? parts : ["any input"];
}

/** Ask for the preview of the form's scope after `delay` ms (the last call wins). */
function askPreview(delay) {
  clearTimeout(previewTimer);
  previewTimer = setTimeout(() => {
    const approval = selected();
    if (approval && scoping === approval.id) loadPreview(approval);
  }, delay);
}

async function loadPreview(approval) {
  const scope = chosenScope(scopeFields(approval.input));
  const key = JSON.stringify(scope);
  if (preview && preview.id === approval.id && preview.key === key) return;
  const asked = ++previewAsked;
  let answer;
  try {
    const shown = await post(`/approvals/${encodeURIComponent(approval.id)}/always/preview`, scope ? { scope } : {});
    answer = { id: approval.id, key, rules: shown.rules };
  } catch (error) {
    if (error.status === 401) return;
    answer = { id: approval.id, key, error: error instanceof ApiError ? error.message : String(error) };
  }
  if (asked !== previewAsked || scoping !== approval.id) return; // a newer question, or closed
  preview = answer;
  const node = byId("scope-preview");
  if (node) fill(node, previewNodes());
}

/** The scope to send: only the fields the person changed from their exact default. */
function chosenScope(fields) {
  const scope = {};
  for (const field of fields) {
    const input = byId(`scope-${field.name}`);
    const chosen = input ? input.value.trim() : "";
    if (chosen && chosen !== field.value) scope[field.name] = chosen;
  }
  return Object.keys(scope).length ? scope : null;
}

function openScope() {
  const approval = selected();
  if (!approval) return;
  if (scoping !== approval.id) {
    scoping = approval.id;
    scopeError = "";
    render();
    askPreview(0);
  }
  const first = document.querySelector("#scope-form input") || byId("scope-send");
  if (first) first.focus();
}

function closeScope() {
  scoping = null;
  scopeError = "";
  preview = null;
  clearTimeout(previewTimer);
}

function cancelScope() {
  closeScope();
  render();
  focusSelected();
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
  // While the scope form is open only it answers (Enter / Esc), so a stray key cannot.
  if (action && (!scoping || action === ALWAYS)) resolve(action);
}

function resolve(action) {
  if (action.path === "always") openScope();
  else send(action, {});
}

function sendAlways(approval, fields) {
  if (approval.id !== selectedId) return;
  const scope = chosenScope(fields);
  send(ALWAYS, scope ? { scope } : {});
}

/** Post the answer for the selected approval; a refused scope stays in its form. */
async function send(action, extra) {
  const approval = selected();
  if (!approval || busy) return;
  const noteInput = byId("approval-note");
  const note = noteInput ? noteInput.value.trim() : "";
  busy = true;
  for (const button of document.querySelectorAll("#approval-detail button")) button.disabled = true;
  try {
    await post(`/approvals/${encodeURIComponent(approval.id)}/${action.path}`, note ? { note, ...extra } : extra);
    closeScope();
    toast(`${approval.tool_name} ${action.done}`, action.path === "deny" ? "warn" : "ok");
  } catch (error) {
    const message = error instanceof ApiError ? error.message : String(error);
    if (action === ALWAYS && error.status === 422) {
      const hint = error.hint ? ` (${error.hint})` : "";
      scopeError = `No rule recorded: ${message}${hint}. The call is still waiting.`; // an alert
    } else {
      toast(`Could not ${action.path}: ${message}`, "error");
    }
  } finally {
    busy = false;
    await refresh();
  }
  if (scoping === approval.id) openScope(); // refused: back in the form, to fix or cancel
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
