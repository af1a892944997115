// Read-only views of what governs the decisions: the effective policy and the learned rules.

import { get } from "./api.js";
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
  );
}
