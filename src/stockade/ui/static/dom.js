// Building DOM nodes from data. Everything the daemon sends is set as text (textContent,
// attributes via setAttribute): nothing it says is ever parsed as HTML.

/** An element: `props` sets class, text, attributes (`attrs`) and listeners (`on`). */
export function el(tag, props = {}, ...children) {
  const node = document.createElement(tag);
  if (props.class) node.className = props.class;
  if (props.text !== undefined && props.text !== null) node.textContent = String(props.text);
  for (const [name, value] of Object.entries(props.attrs || {})) {
    if (value !== undefined && value !== null && value !== false) {
      node.setAttribute(name, value === true ? "" : String(value));
    }
  }
  for (const [type, handler] of Object.entries(props.on || {})) node.addEventListener(type, handler);
  for (const child of children) {
    if (child === null || child === undefined || child === false) continue;
    node.append(child instanceof Node ? child : String(child));
  }
  return node;
}

export function byId(id) {
  return document.getElementById(id);
}

/** Replace every child of `node` with `children`. */
export function fill(node, children) {
  node.replaceChildren(...children);
}

/** Pretty JSON for a <pre>. */
export function pretty(value) {
  return JSON.stringify(value, null, 2);
}

/** A local, readable time for an RFC 3339 timestamp (the raw value stays in `datetime`). */
export function timeNode(iso) {
  const when = new Date(iso);
  const text = Number.isNaN(when.getTime()) ? String(iso) : when.toLocaleString();
  return el("time", { text, attrs: { datetime: iso } });
}

/** `m:ss` until `iso`, or null once it has passed. */
export function remaining(iso, now = Date.now()) {
  const left = Math.floor((new Date(iso).getTime() - now) / 1000);
  if (!(left > 0)) return null;
  const minutes = Math.floor(left / 60);
  return `${minutes}:${String(left % 60).padStart(2, "0")}`;
}

/** One line saying what a call does: its command, path or URL, else its input as JSON. */
export function summarize(input) {
  if (input && typeof input === "object") {
    for (const key of ["command", "cmd", "file_path", "path", "url", "pattern", "query"]) {
      const value = input[key];
      if (typeof value === "string" && value) return value;
      if (Array.isArray(value) && value.length) return value.join(" ");
    }
  }
  const text = JSON.stringify(input ?? null);
  return text.length > 160 ? `${text.slice(0, 157)}…` : text;
}

/** A small coloured label, e.g. a verdict or a severity; `kind` picks the colour. */
export function badge(text, kind = text) {
  return el("span", { class: `badge badge-${String(kind).replace(/[^a-z-]/g, "")}`, text });
}

/** A <dl> of label → value rows, skipping empty values. */
export function facts(rows) {
  const list = el("dl", { class: "facts" });
  for (const [label, value] of rows) {
    if (value === undefined || value === null || value === "") continue;
    list.append(el("dt", { text: label }), el("dd", {}, value instanceof Node ? value : String(value)));
  }
  return list;
}

let toastTimer = 0;

/** A short message at the bottom of the screen, read out by screen readers. */
export function toast(message, tone = "info") {
  const box = byId("toast");
  box.textContent = message;
  box.dataset.tone = tone;
  box.classList.add("shown");
  clearTimeout(toastTimer);
  toastTimer = setTimeout(() => box.classList.remove("shown"), 4000);
}
