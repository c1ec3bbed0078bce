// The frame around every page once logged in: navigation, who is logged in, "Log out".

import { auditLogPage } from "./audit-log.js";
import { h } from "./dom.js";
import { registrationsPage } from "./registrations.js";
import { settingsPage } from "./settings.js";
import { openChangeMyPasswordDialog } from "./user-dialogs.js";
import { usersPage } from "./users.js";

// [hash, link text, view, the permission the link needs (none: every user)]
const PAGES = [
  ["#/registration", "Registration", registrationsPage],
  ["#/audit-log", "Audit log", auditLogPage],
  ["#/settings", "Settings", settingsPage],
  ["#/users", "Users", usersPage, "USER_MANAGEMENT_ADMIN"],
];

/**
 * Show the logged-in console in ``root``; returns ``{ close }``. ``onLoginChanged()``
 * after the user changed their password (``api.authorization`` is the new login).
 */
export function shell(root, { api, session, onLogOut, onLoginChanged }) {
  const pages = PAGES.filter(([, , , permission]) => !permission || session.can(permission));
  const links = pages.map(([href, label]) => h("a", { href }, label));
  const accountNotice = h("span", { class: "account-notice", role: "status" });
  const changePassword = () => openChangeMyPasswordDialog({
    api,
    session,
    onChanged() {
      onLoginChanged?.();
      accountNotice.textContent = "Your password was changed.";
    },
  });
  const main = h("main", { id: "content" });
  const header = h(
    "header",
    { class: "top" },
    h("span", { class: "brand" }, "Gatehouse"),
    h("nav", { "aria-label": "Main" }, links),
    h("span", { class: "who" }, session.name),
    accountNotice,
    h("button", { type: "button", onclick: changePassword }, "Change my password"),
    h("button", { type: "button", onclick: onLogOut }, "Log out"),
  );
  root.replaceChildren(header, main);

  let current = null;
  function show() {
    const found = pages.find(([href]) => href === location.hash) ?? pages[0];
    if (location.hash !== found[0]) history.replaceState(null, "", found[0]);
    links.forEach((link, n) => {
      if (pages[n] === found) link.setAttribute("aria-current", "page");
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
