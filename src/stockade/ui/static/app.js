// The control UI's entry point: login, the views (one per `#hash`), the live event
// stream, and the keyboard. The session cookie set by /ui/login authenticates everything
// after that; the token typed into the form is sent once and dropped.

import { ApiError, LiveEvents, hasSession, login, logout, whenUnauthorized } from "./api.js";
import * as approvals from "./approvals.js";
import * as audit from "./audit.js";
import { byId, toast } from "./dom.js";
import * as feed from "./feed.js";
import * as policy from "./policy.js";
import * as sessions from "./sessions.js";

const VIEWS = ["approvals", "feed", "audit", "sessions", "policy", "rules"];
const LIVE_TEXT = { live: "● live", reconnecting: "reconnecting…", offline: "offline, retrying…" };

// What each view loads when it is opened (the inbox and the feed stay live instead).
const ON_OPEN = {
  audit: () => audit.isLoaded() || audit.search(),
  sessions: sessions.load,
  policy: policy.loadPolicy,
  rules: policy.loadRules,
};

const live = new LiveEvents(["permission.*", "decision"], onEvent, (state) => {
  const badge = byId("live");
  badge.textContent = LIVE_TEXT[state] || "";
  badge.dataset.state = state;
  if (state === "live") approvals.refresh(); // anything held while we were away
});
let loggedIn = false;
let ticker = 0;

function onEvent(event) {
  if (event.kind.startsWith("permission.")) approvals.refresh();
  else if (event.kind === "decision") feed.add(event);
}

function currentView() {
  const name = location.hash.slice(1);
  return VIEWS.includes(name) ? name : "approvals";
}

function show(name) {
  for (const section of document.querySelectorAll("main > .view")) {
    section.hidden = section.id !== `view-${name}`;
  }
  for (const link of document.querySelectorAll("#nav a")) {
    if (link.dataset.view === name) link.setAttribute("aria-current", "page");
    else link.removeAttribute("aria-current");
  }
}

function route() {
  if (!loggedIn) return;
  const name = currentView();
  show(name);
  const load = ON_OPEN[name];
  if (load) load();
}

async function enter() {
  loggedIn = true;
  for (const id of ["nav", "logout", "help-open"]) byId(id).hidden = false;
  route();
  const [, after] = await Promise.all([approvals.refresh(), feed.load()]);
  if (loggedIn) live.start(after);
  ticker = setInterval(approvals.tick, 1000);
}

/** Back to the login form, with nothing of the last session left on the page. */
function leave(message) {
  loggedIn = false;
  live.stop();
  clearInterval(ticker);
  for (const id of ["nav", "logout", "help-open"]) byId(id).hidden = true;
  byId("live").textContent = "";
  approvals.reset();
  feed.reset();
  audit.reset();
  sessions.reset();
  policy.reset();
  show("login");
  byId("login-error").textContent = message || "";
  byId("token").focus();
}

async function submitLogin(event) {
  event.preventDefault();
  const input = byId("token");
  const error = byId("login-error");
  const token = input.value.trim();
  if (!token) {
    error.textContent = "Enter the token.";
    return;
  }
  const button = event.submitter;
  if (button) button.disabled = true;
  try {
    await login(token);
    input.value = "";
    error.textContent = "";
    await enter();
  } catch (failure) {
    error.textContent = loginProblem(failure);
    input.select();
  } finally {
    if (button) button.disabled = false;
  }
}

function loginProblem(failure) {
  if (!(failure instanceof ApiError)) return String(failure);
  if (failure.status === 401) return "That token is not right. `stockade gateway token` prints it.";
  if (failure.status === 429) {
    const wait = failure.retryAfter ? ` Try again in ${failure.retryAfter} s.` : "";
    return `Too many failed attempts.${wait}`;
  }
  return failure.message;
}

async function submitLogout() {
  try {
    await logout();
  } catch (failure) {
    if (failure.status !== 401) toast(`Log out failed: ${failure.message}`, "error");
  }
  leave("Logged out.");
}

function typing(target) {
  return target instanceof HTMLElement && (target.isContentEditable || /^(INPUT|TEXTAREA|SELECT)$/.test(target.tagName));
}

function onKey(event) {
  if (!loggedIn || event.ctrlKey || event.metaKey || event.altKey || typing(event.target)) return;
  const help = byId("help");
  if (event.key === "?") {
    event.preventDefault();
    if (help.open) help.close();
    else help.showModal();
    return;
  }
  if (help.open || currentView() !== "approvals") return;
  if (event.key === "j" || event.key === "k") {
    event.preventDefault();
    approvals.move(event.key === "j" ? 1 : -1);
  } else if (event.key === "a" || event.key === "d" || event.key === "A") {
    event.preventDefault();
    approvals.answerByKey(event.key);
  }
}

async function start() {
  byId("login-form").addEventListener("submit", submitLogin);
  byId("logout").addEventListener("click", submitLogout);
  byId("help-open").addEventListener("click", () => byId("help").showModal());
  byId("sessions-refresh").addEventListener("click", sessions.load);
  audit.setup();
  window.addEventListener("hashchange", route);
  document.addEventListener("keydown", onKey);
  whenUnauthorized(() => {
    if (loggedIn) leave("Your session ended; log in again.");
  });
  let authenticated = false;
  try {
    authenticated = await hasSession();
  } catch (failure) {
    leave(`The daemon does not answer: ${failure.message}`);
    return;
  }
  if (authenticated) await enter();
  else leave();
}

start();
