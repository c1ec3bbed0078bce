// The "Device registration" page: one page of the tenant's registrations at a time (keyset
// cursors, never all of them), kept live by registrationEvents from the page's eventCursor.
// An event changes the one row it is about; the rest of the table is left alone.

import { openBulkDialog } from "./bulk-dialog.js";
import { h } from "./dom.js";
import { LiveEvents } from "./live.js";
import { menuButton } from "./menu.js";
import { openRegisterDialog } from "./register-dialog.js";
import { RegistrationRow } from "./registration-row.js";
import { STATUSES } from "./statuses.js";

export const PAGE_SIZE = 50;
// While the tenant's log is empty there is no cursor to subscribe from: read the page
// again now and then until there is one, so nothing between read and subscribe is lost.
const NO_CURSOR_RELOAD_MS = 2000;
const LIVE_STATES = {
  connecting: "Connecting to live updates…",
  live: "Live",
  reconnecting: "Reconnecting…",
  stopped: "Live updates stopped",
};

export function registrationsPage({ api, session }) {
  const canAdmin = session.can("DEVICE_CONTROL_ADMIN");
  const state = {
    status: "",
    after: null, // the cursor this page was read after
    lowerId: null, // the id that cursor stands for (rows of this page sort after it)
    back: [], // earlier pages: { after, lowerId }
    endCursor: null,
    upperId: null, // while more pages follow, rows of this page sort before this id
    hasNext: false,
    total: 0,
    policy: "OPTIONAL",
  };
  const rows = new Map(); // device id -> RegistrationRow, in table order in tbody
  const rowPage = {
    api,
    canAdmin,
    get policy() {
      return state.policy;
    },
    onChanged: (registration) => applyRegistration(registration),
    onRemoved: (id) => removeRow(id),
  };

  const tbody = h("tbody");
  const empty = h("p", { class: "empty", hidden: true }, "No registrations.");
  const summary = h("span", { class: "summary" });
  const liveState = h("span", { class: "live", role: "status" });
  const notice = h("div", { class: "notices" });
  const error = h("p", { class: "error", role: "alert", hidden: true });
  const previous = h("button", { type: "button", onclick: () => previousPage() }, "Previous page");
  const next = h("button", { type: "button", onclick: () => nextPage() }, "Next page");
  const filter = h("select", { id: "status-filter", onchange: () => firstPage() },
    h("option", { value: "" }, "All statuses"),
    STATUSES.map(([value, label]) => h("option", { value }, label)));

  const actions = [];
  if (canAdmin) {
    actions.push(menuButton("Register device", [
      { label: "Single registration", onSelect: () => openRegisterDialog({ api, session, onRegistered }) },
      { label: "Bulk registration", onSelect: () => openBulkDialog({ api, session, onUploaded }) },
    ]));
    actions.push(h("button", { type: "button", onclick: () => acceptAll() }, "Accept all"));
  }

  const element = h("section", { class: "registrations", "aria-labelledby": "registrations-title" },
    h("div", { class: "title-bar" },
      h("h1", { id: "registrations-title" }, "Device registration"),
      h("div", { class: "actions" }, actions)),
    h("div", { class: "toolbar" },
      h("label", { for: "status-filter" }, "Status"), filter, liveState),
    notice,
    error,
    h("table", { class: "registrations-table" },
      h("thead", {}, h("tr", {},
        h("th", { scope: "col" }, "Device ID"),
        h("th", { scope: "col" }, "Status"),
        h("th", { scope: "col" }, "Group"),
        h("th", { scope: "col" }, "Security token"),
        h("th", { scope: "col" }, canAdmin ? "Actions" : ""))),
      tbody),
    empty,
    h("nav", { class: "pager", "aria-label": "Pages" }, previous, summary, next));

  const live = new LiveEvents(api, {
    onEvent: applyEvent,
    onState: (name) => (liveState.textContent = LIVE_STATES[name]),
    onFatal: (failure) => {
      if (failure.code === 4401) api.loginLost();
      else if (failure.code === 4403) showError("Live updates need the DEVICE_CONTROL_READ permission.");
      else setTimeout(load, NO_CURSOR_RELOAD_MS); // a GraphQL error: start over from a new read
    },
  });

  let loads = 0;
  let reloadTimer = null;
  let closed = false;

  async function load() {
    clearTimeout(reloadTimer);
    const mine = ++loads;
    try {
      const [page, policy] = await Promise.all([
        api.registrations({ status: state.status || null, first: PAGE_SIZE, after: state.after }),
        api.securityTokenPolicy(),
      ]);
      if (mine !== loads || closed) return;
      state.policy = policy;
      state.total = page.totalCount;
      state.hasNext = page.pageInfo.hasNextPage;
      state.endCursor = page.pageInfo.endCursor;
      const nodes = page.edges.map((edge) => edge.node);
      state.upperId = nodes.length ? nodes[nodes.length - 1].id : null;
      rows.clear();
      for (const node of nodes) rows.set(node.id, new RegistrationRow(node, rowPage));
      tbody.replaceChildren(...[...rows.values()].map((row) => row.element));
      showError(null);
      updateSummary();
      if (page.eventCursor) {
        live.start(page.eventCursor);
      } else {
        // Nothing was ever logged, so no event can be stale: a subscription already
        // running from "now" covers everything after this read too.
        if (!live.running) live.start(null);
        reloadTimer = setTimeout(load, NO_CURSOR_RELOAD_MS);
      }
    } catch (failure) {
      if (mine === loads && !closed) showError(failure.message);
    }
  }

  function firstPage() {
    state.status = filter.value;
    state.after = null;
    state.lowerId = null;
    state.back = [];
    load();
  }

  function nextPage() {
    state.back.push({ after: state.after, lowerId: state.lowerId });
    state.after = state.endCursor;
    state.lowerId = state.upperId;
    load();
  }

  function previousPage() {
    const earlier = state.back.pop();
    if (!earlier) return;
    state.after = earlier.after;
    state.lowerId = earlier.lowerId;
    load();
  }

  function matches(status) {
    return Boolean(status) && (!state.status || state.status === status);
  }

  // Whether a device id sorts into this page (the server orders by id).
  function onThisPage(id) {
    if (state.lowerId !== null && !(id > state.lowerId)) return false;
    return !state.hasNext || state.upperId === null || id < state.upperId;
  }

  /** Show a registration's new state: its row changes, appears or goes; nothing else. */
  function applyRegistration(registration) {
    const row = rows.get(registration.id);
    if (row) {
      if (matches(registration.status)) row.update(registration);
      else removeRow(registration.id);
    } else if (matches(registration.status) && onThisPage(registration.id)) {
      if (rows.size >= PAGE_SIZE) scheduleReload();
      else insertRow(registration);
    }
  }

  function insertRow(registration) {
    const row = new RegistrationRow(registration, rowPage);
    const before = [...rows.values()].find((other) => other.id > registration.id);
    rows.set(registration.id, row);
    tbody.insertBefore(row.element, before ? before.element : null);
    updateSummary();
  }

  function removeRow(id) {
    const row = rows.get(id);
    if (!row) return;
    rows.delete(id);
    row.element.remove();
    updateSummary();
  }

  function scheduleReload() {
    clearTimeout(reloadTimer);
    reloadTimer = setTimeout(load, 300);
  }

  function applyEvent(event, receivedAt) {
    // The total moves by the event's own transition, so replays and the page's own
    // changes (accept, remove) are counted exactly once.
    const before = event.kind !== "REGISTERED" && matches(event.previousStatus);
    state.total += (matches(event.status) ? 1 : 0) - (before ? 1 : 0);
    if (event.registration) applyRegistration(event.registration);
    else removeRow(event.id);
    updateSummary();
    // Exposed for measurement (User Timing): from the event's arrival to its row updated.
    performance.measure("gatehouse:event-applied", {
      start: receivedAt,
      detail: { id: event.id, kind: event.kind },
    });
  }

  function onRegistered(registrations) {
    const own = registrations.filter((r) => r.tenantId === session.tenantId);
    for (const registration of own) applyRegistration(registration);
    const others = registrations.length - own.length;
    say(`Registered ${registrations.length} device${registrations.length === 1 ? "" : "s"}` +
      (others ? ` (${others} into another tenant).` : "."));
  }

  // The new rows arrive as REGISTERED events; this only says what happened.
  function onUploaded(result) {
    say(`Bulk registration: ${result.created} device${result.created === 1 ? "" : "s"} registered, ` +
      `${result.failed} line${result.failed === 1 ? "" : "s"} failed.`);
  }

  async function acceptAll() {
    try {
      const result = await api.acceptAll();
      for (const registration of result.accepted) applyRegistration(registration);
      if (!result.warning) {
        say(`Accepted ${result.accepted.length} registration${result.accepted.length === 1 ? "" : "s"}.`);
        return;
      }
      const warning = h("div", { class: "warning", role: "alert" },
        h("p", {}, result.warning),
        h("ul", { "aria-label": "Not accepted" },
          result.notAccepted.map((problem) => h("li", {}, problem.message))),
        h("button", { type: "button", onclick: () => warning.remove() }, "Dismiss"));
      notice.replaceChildren(warning);
    } catch (failure) {
      showError(failure.message);
    }
  }

  function say(message) {
    notice.replaceChildren(h("p", { class: "info", role: "status" }, message));
  }

  function showError(message) {
    error.textContent = message ?? "";
    error.hidden = !message;
  }

  function updateSummary() {
    const count = state.total.toLocaleString("en");
    summary.textContent = `Page ${state.back.length + 1} · ${count} registration${state.total === 1 ? "" : "s"}`;
    previous.disabled = state.back.length === 0;
    next.disabled = !state.hasNext;
    empty.hidden = rows.size > 0;
  }

  load();
  return {
    element,
    close() {
      closed = true;
      clearTimeout(reloadTimer);
      live.stop();
    },
  };
}
