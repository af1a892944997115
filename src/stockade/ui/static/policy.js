// Read-only views of what governs the decisions: the effective policy and the learned rules.

import { get } from "./api.js";
import { badge, byId, el, facts, pretty, timeNode, toast } from "./dom.js";

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
  const { id, tool, tool_name: toolName, created_at: created, revoked_at: revoked, ...rest } = rule;
  return el(
    "li",
    { class: "card rule", attrs: { "data-id": id } },
    el(
      "div",
      { class: "item-head" },
      el("strong", { text: tool || toolName || "rule" }),
      el("code", { text: id }),
      revoked ? badge("revoked", "deny") : badge("active", "allow"),
    ),
    facts([
      ["Learned", created ? timeNode(created) : null],
      ["Revoked", revoked ? timeNode(revoked) : null],
    ]),
    el("pre", { class: "code", text: pretty(rest) }),
  );
}
