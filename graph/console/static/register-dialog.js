// The "Register devices" dialog: one row per device ("Device ID", "Group", and "Tenant"
// for a management administrator), all registered in one register call, all or nothing.

import { h, uniqueId } from "./dom.js";

const MANAGEMENT = "management";

function labelled(label, control) {
  const id = uniqueId("register");
  control.id = id;
  return h("div", { class: "field" }, h("label", { for: id }, label), control);
}

function options(select, first, items) {
  select.replaceChildren(h("option", { value: "" }, first),
    ...items.map(([value, text]) => h("option", { value }, text)));
}

/** Open the dialog; ``onRegistered(registrations)`` after a successful registration. */
export function openRegisterDialog({ api, session, onRegistered }) {
  const mayNameTenant = session.tenantId === MANAGEMENT && session.can("TENANT_MANAGEMENT_ADMIN");
  const mayPickGroup = session.can("INVENTORY_READ");
  const groups = mayPickGroup ? api.groups().catch(() => []) : Promise.resolve([]);
  const tenants = mayNameTenant ? api.tenants().catch(() => []) : Promise.resolve([]);
  const rows = [];
  const list = h("div", { class: "device-rows" });
  const error = h("p", { class: "error", role: "alert", hidden: true });
  const next = h("button", { type: "submit", class: "primary" }, "Next");

  function addRow() {
    const id = h("input", { name: "device-id", autocomplete: "off", spellcheck: "false" });
    const fields = [labelled("Device ID", id)];
    const row = { id, group: null, tenant: null, problem: h("p", { class: "problem", hidden: true }) };
    if (mayPickGroup) {
      row.group = h("select", { name: "group" });
      options(row.group, "No group", []);
      groups.then((found) => options(row.group, "No group", found.map((g) =>
        [g.id, g.parent ? `${g.parent.name} / ${g.name}` : g.name])));
      fields.push(labelled("Group", row.group));
    }
    if (mayNameTenant) {
      row.tenant = h("select", { name: "tenant" });
      options(row.tenant, "This tenant", []);
      tenants.then((found) => options(row.tenant, "This tenant", found
        .filter((t) => t.id !== MANAGEMENT).map((t) => [t.id, `${t.name} (${t.id})`])));
      // A tenant or a group, never both: the management tenant cannot see a subtenant's groups.
      row.tenant.addEventListener("change", () => {
        if (!row.group) return;
        if (row.tenant.value) row.group.value = "";
        row.group.disabled = Boolean(row.tenant.value);
      });
      fields.push(labelled("Tenant", row.tenant));
    }
    rows.push(row);
    list.append(h("div", { class: "device-row", role: "group", "aria-label": `Device ${rows.length}` },
      fields, row.problem));
    id.focus();
  }

  function showProblems(byId, general) {
    for (const row of rows) {
      const messages = byId.get(row.id.value) ?? [];
      row.problem.textContent = messages.join(" ");
      row.problem.hidden = messages.length === 0;
      if (messages.length) row.id.setAttribute("aria-invalid", "true");
      else row.id.removeAttribute("aria-invalid");
    }
    error.textContent = general ?? "";
    error.hidden = !general;
  }

  async function submit(event) {
    event.preventDefault();
    const filled = rows.filter((row) => row.id.value !== "");
    if (filled.length === 0) {
      showProblems(new Map([["", ["Enter a device ID."]]]));
      return;
    }
    const devices = filled.map((row) => {
      const device = { id: row.id.value };
      if (row.tenant?.value) device.tenantId = row.tenant.value;
      else if (row.group?.value) device.groupId = row.group.value;
      return device;
    });
    next.disabled = true;
    try {
      const result = await api.register(devices);
      if (result.__typename === "RegisterSuccess") {
        dialog.close();
        onRegistered(result.registrations);
        return;
      }
      const byId = new Map();
      for (const problem of result.problems) {
        byId.set(problem.id, [...(byId.get(problem.id) ?? []), problem.message]);
      }
      const shown = filled.some((row) => byId.has(row.id.value));
      showProblems(byId, shown ? "Nothing was registered. Correct the devices marked below." : result.message);
    } catch (failure) {
      showProblems(new Map(), failure.message);
    } finally {
      next.disabled = false;
    }
  }

  const dialog = h("dialog", { class: "register", "aria-labelledby": "register-title" },
    h("form", { onsubmit: submit },
      h("h2", { id: "register-title" }, "Register devices"),
      list,
      h("button", { type: "button", class: "link", onclick: addRow }, "Add device"),
      error,
      h("div", { class: "buttons" },
        h("button", { type: "button", onclick: () => dialog.close() }, "Cancel"),
        next)));
  dialog.addEventListener("close", () => dialog.remove());
  document.body.append(dialog);
  addRow();
  dialog.showModal();
  rows[0].id.focus();
  return dialog;
}
