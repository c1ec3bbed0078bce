// Building DOM nodes. Every string or number given as a child becomes a Text node, and
// attributes are set one by one, so data from the server is never parsed as HTML.

const PROPERTIES = new Set(["value", "checked", "disabled", "selected", "hidden", "required"]);

/** An element: h("button", { type: "button", onclick }, "Accept"). */
export function h(tag, props = {}, ...children) {
  const node = document.createElement(tag);
  for (const [key, value] of Object.entries(props ?? {})) {
    if (value === undefined || value === null) continue;
    if (key.startsWith("on")) {
      if (typeof value !== "function") throw new TypeError(`${key} must be a function`);
      node.addEventListener(key.slice(2).toLowerCase(), value);
    } else if (PROPERTIES.has(key)) {
      node[key] = value;
    } else if (key === "class") {
      node.className = value;
    } else if (value !== false) {
      node.setAttribute(key, value === true ? "" : String(value));
    }
  }
  append(node, children);
  return node;
}

/** Append children (nodes, text, arrays of them; null and false are skipped). */
export function append(node, children) {
  for (const child of children.flat(Infinity)) {
    if (child === null || child === undefined || child === false) continue;
    node.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
  return node;
}

/** Replace a node's children with ``children``. */
export function fill(node, ...children) {
  node.replaceChildren();
  return append(node, children);
}

let ids = 0;

/** A document-unique id for pairing a label with its field. */
export function uniqueId(prefix) {
  ids += 1;
  return `${prefix}-${ids}`;
}

/** A labelled form field: ``<div class="field"><label>…</label>control [hint]</div>``. */
export function field(label, control, hint) {
  if (!control.id) control.id = uniqueId("field");
  const parts = [h("label", { for: control.id }, label), control];
  if (hint) {
    const hintId = `${control.id}-hint`;
    control.setAttribute("aria-describedby", hintId);
    parts.push(h("small", { id: hintId, class: "hint" }, hint));
  }
  return h("div", { class: "field" }, parts);
}
