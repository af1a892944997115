// What governs the decisions: the effective policy (read only) and the learned rules,
// each of which can be revoked here. Revoking takes two clicks (Revoke, then the in-page
// confirmation) because calls the rule allowed are asked again at once.

import { ApiError, get, post } from "./api.js";
import { byId, el, facts, pretty, timeNode, toast } from "./dom.js";

export async function loadPolicy() {
  try {
    byId("policy-text").textContent = pretty(await get("/policy"));
  } catch (error) {
    if (error.status !== 401) toast(`Could not load the policy: ${error.message}`, "error");
  }
}

export async function loadRules() {
  let data;
  try {
    data = await get("/rules");
  } catch (error) {
    if (error.status !== 401) toast(`Could not load the rules: ${error.message}`, "error");
    return;
  }
  const rules = (data && data.rules) || [];
  byId("rules-empty").hidden = rules.length > 0;
  byId("rules-list").replaceChildren(...rules.map(card));
}

export function reset() {
  byId("policy-text").textContent = "";
  byId("rules-list").replaceChildren();
}

function card(rule) {
  // Esc, like "Keep it", steps back from the confirmation.
  const controls = el("div", {
    class: "actions",
    on: { keydown: (event) => event.key === "Escape" && controls.querySelector(".danger") && idle(true) },
  });
  const problem = el("p", { class: "error", attrs: { role: "alert" } });
  const ask = () => {
    problem.textContent = "";
    controls.replaceChildren(
      el("span", { class: "confirm", text: "Revoke this rule? Calls it allows will be decided by the policy again." }),
      el("button", { class: "danger", text: "Revoke rule", attrs: { type: "button" }, on: { click: revoke } }),
      el("button", { text: "Keep it", attrs: { type: "button" }, on: { click: () => idle(true) } }),
    );
    controls.lastElementChild.focus(); // "Keep it": a second Enter does not revoke
  };
  const idle = (focus) => {
    controls.replaceChildren(el("button", { text: "Revoke", attrs: { type: "button" }, on: { click: ask } }));
    if (focus) controls.querySelector("button").focus();
  };
  const revoke = async () => {
    for (const button of controls.querySelectorAll("button")) button.disabled = true;
    try {
      await post(`/rules/${encodeURIComponent(rule.id)}/revoke`);
      toast(`Rule ${rule.id} revoked`, "ok");
    } catch (error) {
      if (error.status === 401) return;
      const message = error instanceof ApiError ? error.message : String(error);
      const gone = error.status === 404 ? " (it was already revoked)" : "";
      toast(`Could not revoke ${rule.id}: ${message}${gone}`, "error");
      problem.textContent = `Could not revoke: ${message}${gone}`;
      idle(true);
      if (!gone) return;
    }
    await loadRules();
  };
  idle(false);
  return el(
    "li",
    { class: "card rule", attrs: { "data-id": rule.id } },
    el("div", { class: "item-head" }, el("strong", { text: rule.tool_name || "rule" }), el("code", { text: rule.id })),
    facts([
      ["Project", rule.project_root],
      ["Harness", rule.harness],
      ["Answered by", rule.by],
      ["Approval", rule.approval_id],
      ["Note", rule.note],
      ["Learned", rule.created_at ? timeNode(rule.created_at) : null],
    ]),
    el("pre", { class: "code", text: pretty(rule.rules ?? rule) }),
    controls,
    problem,
  );
}
