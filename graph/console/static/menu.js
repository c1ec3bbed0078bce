// A button that opens a menu of actions (the "Register device" menu).

import { h } from "./dom.js";

/** ``items``: ``[{ label, onSelect }]``. */
export function menuButton(label, items) {
  const button = h("button", {
    type: "button",
    class: "primary",
    "aria-haspopup": "menu",
    "aria-expanded": "false",
  }, label, h("span", { "aria-hidden": "true" }, " ▾"));
  const entries = items.map((item) =>
    h("li", { role: "none" },
      h("button", {
        type: "button",
        role: "menuitem",
        onclick: () => {
          close();
          item.onSelect();
        },
      }, item.label)),
  );
  const menu = h("ul", { role: "menu", hidden: true, "aria-label": label }, entries);
  const wrapper = h("div", { class: "menu" }, button, menu);

  function onOutside(event) {
    if (!wrapper.contains(event.target)) close();
  }
  function onKey(event) {
    if (event.key === "Escape") {
      close();
      button.focus();
    }
  }
  function open() {
    menu.hidden = false;
    button.setAttribute("aria-expanded", "true");
    document.addEventListener("click", onOutside);
    document.addEventListener("keydown", onKey);
    entries[0]?.firstChild.focus();
  }
  function close() {
    menu.hidden = true;
    button.setAttribute("aria-expanded", "false");
    document.removeEventListener("click", onOutside);
    document.removeEventListener("keydown", onKey);
  }
  button.addEventListener("click", () => (menu.hidden ? open() : close()));
  return wrapper;
}
