// The frame around every page once logged in: navigation, who is logged in, "Log out".

import { auditLogPage } from "./audit-log.js";
import { h } from "./dom.js";
import { registrationsPage } from "./registrations.js";
import { settingsPage } from "./settings.js";

const PAGES = [
  ["#/registration", "Registration", registrationsPage],
  ["#/audit-log", "Audit log", auditLogPage],
  ["#/settings", "Settings", settingsPage],
];

/** Show the logged-in console in ``root``; returns ``{ close }``. */
export function shell(root, { api, session, onLogOut }) {
  const links = PAGES.map(([href, label]) => h("a", { href }, label));
  const main = h("main", { id: "content" });
  const header = h(
    "header",
    { class: "top" },
    h("span", { class: "brand" }, "Gatehouse"),
    h("nav", { "aria-label": "Main" }, links),
    h("span", { class: "who" }, session.name),
    h("button", { type: "button", onclick: onLogOut }, "Log out"),
  );
  root.replaceChildren(header, main);

  let current = null;
  function show() {
    const found = PAGES.find(([href]) => href === location.hash) ?? PAGES[0];
    if (location.hash !== found[0]) history.replaceState(null, "", found[0]);
    links.forEach((link, n) => {
      if (PAGES[n] === found) link.setAttribute("aria-current", "page");
      else link.removeAttribute("aria-current");
    });
    current?.close?.();
    current = found[2]({ api, session });
    main.replaceChildren(current.element);
    document.title = `${found[1]} · Gatehouse`;
  }
  window.addEventListener("hashchange", show);
  show();

  return {
    close() {
      window.removeEventListener("hashchange", show);
      current?.close?.();
      api.close();
    },
  };
}
