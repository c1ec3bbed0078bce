// The "Audit log" page: the tenant's events, newest first, optionally for one device.

import { h } from "./dom.js";
import { kindLabel, statusLabel } from "./statuses.js";

const PAGE_SIZE = 50;

function eventRow(event) {
  const at = new Date(event.at);
  return h("tr", {},
    h("td", {}, h("time", { datetime: event.at }, at.toLocaleString())),
    h("td", { class: "device-id" }, event.id),
    h("td", {}, kindLabel(event.kind)),
    h("td", {}, statusLabel(event.status)),
    h("td", {}, event.actor ?? ""));
}

export function auditLogPage({ api }) {
  const deviceId = h("input", { id: "audit-device", name: "device-id", autocomplete: "off", spellcheck: "false" });
  const tbody = h("tbody");
  const error = h("p", { class: "error", role: "alert", hidden: true });
  const empty = h("p", { class: "empty", hidden: true }, "No events.");
  const older = h("button", { type: "button", hidden: true, onclick: () => load(true) }, "Older events");
  let endCursor = null;
  let loads = 0;

  async function load(more = false) {
    const mine = ++loads;
    try {
      const page = await api.auditLog({
        deviceId: deviceId.value || null,
        after: more ? endCursor : null,
        first: PAGE_SIZE,
      });
      if (mine !== loads) return;
      const rows = page.edges.map((edge) => eventRow(edge.node));
      if (more) tbody.append(...rows);
      else tbody.replaceChildren(...rows);
      endCursor = page.pageInfo.endCursor;
      older.hidden = !page.pageInfo.hasNextPage;
      empty.hidden = tbody.children.length > 0;
      error.hidden = true;
    } catch (failure) {
      error.textContent = failure.message;
      error.hidden = false;
    }
  }

  const element = h("section", { class: "audit-log", "aria-labelledby": "audit-title" },
    h("div", { class: "title-bar" }, h("h1", { id: "audit-title" }, "Audit log")),
    h("form", {
      class: "toolbar",
      role: "search",
      onsubmit: (event) => {
        event.preventDefault();
        load();
      },
    },
      h("label", { for: "audit-device" }, "Device ID"), deviceId,
      h("button", { type: "submit" }, "Show"),
      h("button", { type: "button", onclick: () => load() }, "Refresh")),
    error,
    h("table", {},
      h("thead", {}, h("tr", {},
        ["Time", "Device", "Kind", "Status", "Actor"].map((name) => h("th", { scope: "col" }, name)))),
      tbody),
    empty,
    h("div", { class: "pager" }, older));
  load();
  return { element };
}
