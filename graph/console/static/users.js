// The "Users" page (USER_MANAGEMENT_ADMIN): the tenant's users and their permissions, a
// page at a time, with "Create user", and per user "Change permissions", "Set password"
// and "Delete". One's own row offers none of them (the server refuses them for oneself;
// "Change my password" in the header is the way to one's own password).

import { confirmDialog } from "./dialogs.js";
import { fill, h } from "./dom.js";
import { openCreateUserDialog, openPermissionsDialog, openSetPasswordDialog } from "./user-dialogs.js";

export const PAGE_SIZE = 50;

function show(node, text) {
  node.textContent = text ?? "";
  node.hidden = !text;
}

export function usersPage({ api, session }) {
  const state = { after: null, back: [], endCursor: null, hasNext: false, total: 0 };
  const tbody = h("tbody");
  const empty = h("p", { class: "empty", hidden: true }, "No users.");
  const notice = h("p", { class: "info", role: "status", hidden: true });
  const error = h("p", { class: "error", role: "alert", hidden: true });
  const summary = h("span", { class: "summary" });
  const previous = h("button", { type: "button", onclick: () => previousPage() }, "Previous page");
  const next = h("button", { type: "button", onclick: () => nextPage() }, "Next page");
  let loads = 0;
  let closed = false;

  function userRow(user) {
    const own = user.tenantId === session.tenantId && user.username === session.username;
    const permissions = h("td");
    const message = h("p", { class: "info", role: "status", hidden: true });
    const problem = h("p", { class: "problem", role: "alert", hidden: true });
    const actions = h("td", { class: "actions" });
    const element = h("tr", {}, h("td", { class: "username" }, user.username), permissions, actions);
    let current = user;

    function render() {
      fill(permissions, current.permissions.length
        ? h("ul", { class: "permission-list" }, current.permissions.map((name) => h("li", {}, name)))
        : h("span", { class: "hint" }, "No permissions"));
    }

    function said(text, failure) {
      show(message, text);
      show(problem, failure);
    }

    async function remove() {
      said(null, null);
      const confirmed = await confirmDialog({
        title: "Delete user",
        message: `Delete the user ${current.tenantId}/${current.username}? Their login stops working at once.`,
        confirmLabel: "Delete",
      });
      if (!confirmed) return;
      try {
        await api.deleteUser(current.username);
        say(`Deleted user ${current.username}.`);
        load();
      } catch (failure) {
        said(null, failure.message);
      }
    }

    const buttons = own
      ? [h("span", { class: "hint" }, "This is you: use “Change my password” for your password.")]
      : [
        h("button", {
          type: "button",
          onclick: () => openPermissionsDialog({
            api, session, user: current,
            onUpdated(updated) {
              current = updated;
              render();
              said("Permissions saved.", null);
            },
          }),
        }, "Change permissions"),
        h("button", {
          type: "button",
          onclick: () => openSetPasswordDialog({
            api, user: current, onSet: () => said("Password set.", null),
          }),
        }, "Set password"),
        h("button", { type: "button", onclick: remove }, "Delete"),
      ];
    fill(actions, h("div", { class: "row-actions" }, buttons), message, problem);
    render();
    return element;
  }

  async function load() {
    const mine = ++loads;
    try {
      const page = await api.users({ first: PAGE_SIZE, after: state.after });
      if (mine !== loads || closed) return;
      state.total = page.totalCount;
      state.hasNext = page.pageInfo.hasNextPage;
      state.endCursor = page.pageInfo.endCursor;
      if (page.edges.length === 0 && state.back.length) {
        previousPage(); // the last user of this page was deleted
        return;
      }
      tbody.replaceChildren(...page.edges.map((edge) => userRow(edge.node)));
      show(error, null);
      empty.hidden = page.edges.length > 0;
      summary.textContent = `Page ${state.back.length + 1} · ${state.total.toLocaleString("en")} ` +
        `user${state.total === 1 ? "" : "s"}`;
      previous.disabled = state.back.length === 0;
      next.disabled = !state.hasNext;
    } catch (failure) {
      if (mine === loads && !closed) show(error, failure.message);
    }
  }

  function nextPage() {
    state.back.push(state.after);
    state.after = state.endCursor;
    load();
  }

  function previousPage() {
    if (!state.back.length) return;
    state.after = state.back.pop();
    load();
  }

  function say(text) {
    show(notice, text);
  }

  const create = h("button", {
    type: "button",
    class: "primary",
    onclick: () => openCreateUserDialog({
      api, session,
      onCreated(user) {
        say(`Created user ${user.username}.`);
        load();
      },
    }),
  }, "Create user");

  const element = h("section", { class: "users", "aria-labelledby": "users-title" },
    h("div", { class: "title-bar" },
      h("h1", { id: "users-title" }, "Users"),
      h("div", { class: "actions" }, create)),
    h("p", { class: "hint" }, `The users of tenant ${session.tenantId}, oldest first.`),
    notice,
    error,
    h("table", { class: "users-table" },
      h("thead", {}, h("tr", {},
        h("th", { scope: "col" }, "Username"),
        h("th", { scope: "col" }, "Permissions"),
        h("th", { scope: "col" }, "Actions"))),
      tbody),
    empty,
    h("nav", { class: "pager", "aria-label": "Pages" }, previous, summary, next));
  load();
  return {
    element,
    close() {
      closed = true;
    },
  };
}
