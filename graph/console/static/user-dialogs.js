// The dialogs of the "Users" page and of "Change my password": "Create user", "Change
// permissions", "Set password". Every refusal of the server is shown in its dialog.

import { formDialog } from "./dialogs.js";
import { field, h, uniqueId } from "./dom.js";
import { MANAGEMENT_ONLY_PERMISSIONS, PERMISSIONS } from "./statuses.js";

/** The checkboxes of the permissions a user of this tenant can hold; ``chosen()`` reads them. */
export function permissionChoices(session, selected = []) {
  const management = session.tenantId === "management";
  const boxes = [];
  const choices = PERMISSIONS
    .filter(([name]) => management || !MANAGEMENT_ONLY_PERMISSIONS.has(name) || selected.includes(name))
    .map(([name, description]) => {
      const id = uniqueId("permission");
      const box = h("input", {
        type: "checkbox", id, value: name, checked: selected.includes(name),
        "aria-describedby": `${id}-hint`,
      });
      boxes.push(box);
      return h("div", { class: "choice" }, box, h("label", { for: id }, name),
        h("small", { id: `${id}-hint`, class: "hint" }, description));
    });
  return {
    element: h("fieldset", { class: "permissions" }, h("legend", {}, "Permissions"), choices),
    chosen: () => boxes.filter((box) => box.checked).map((box) => box.value),
  };
}

function passwordInput(autocomplete) {
  return h("input", { type: "password", autocomplete, spellcheck: "false" });
}

/** "New password" and its repetition; ``value()`` throws when they differ. */
export function newPasswordFields(label = "Password", repeatLabel = "Repeat password") {
  const password = passwordInput("new-password");
  const repeat = passwordInput("new-password");
  return {
    elements: [field(label, password), field(repeatLabel, repeat)],
    value() {
      if (password.value !== repeat.value) {
        repeat.focus();
        throw new Error("The passwords do not match.");
      }
      return password.value;
    },
  };
}

/** "Create user"; ``onCreated(user)`` after the server created it. */
export function openCreateUserDialog({ api, session, onCreated }) {
  const username = h("input", { autocomplete: "off", spellcheck: "false" });
  const password = newPasswordFields();
  const permissions = permissionChoices(session);
  return formDialog({
    title: "Create user",
    className: "user",
    content: [
      field("Username", username, "1–64 letters, digits or . _ @ + -"),
      password.elements,
      permissions.element,
    ],
    submitLabel: "Create",
    async onSubmit() {
      const user = await api.createUser({
        username: username.value,
        password: password.value(),
        permissions: permissions.chosen(),
      });
      onCreated(user);
    },
  });
}

/** "Change permissions" of ``user``; ``onUpdated(user)`` with what the server stored. */
export function openPermissionsDialog({ api, session, user, onUpdated }) {
  const permissions = permissionChoices(session, user.permissions);
  return formDialog({
    title: "Change permissions",
    className: "user",
    content: [h("p", {}, `User ${user.tenantId}/${user.username}. The change applies at once.`),
      permissions.element],
    submitLabel: "Save",
    async onSubmit() {
      onUpdated(await api.updateUser(user.username, permissions.chosen()));
    },
  });
}

/** "Set password" of ``user``; ``onSet(user)`` once the server stored it. */
export function openSetPasswordDialog({ api, user, onSet }) {
  const password = newPasswordFields("New password", "Repeat new password");
  return formDialog({
    title: "Set password",
    className: "user",
    content: [
      h("p", {}, `User ${user.tenantId}/${user.username}. Their current password stops working at once.`),
      password.elements,
    ],
    submitLabel: "Save",
    async onSubmit() {
      onSet(await api.setUserPassword(user.username, password.value()));
    },
  });
}

/** "Change my password", for every logged-in user; ``onChanged()`` once it is changed. */
export function openChangeMyPasswordDialog({ api, session, onChanged }) {
  const current = passwordInput("current-password");
  const password = newPasswordFields("New password", "Repeat new password");
  return formDialog({
    title: "Change my password",
    className: "user",
    content: [
      h("p", {}, `You are logged in as ${session.name}. This tab stays logged in with the new password.`),
      field("Current password", current),
      password.elements,
    ],
    submitLabel: "Change password",
    async onSubmit() {
      await api.changeMyPassword({
        login: session.name,
        currentPassword: current.value,
        newPassword: password.value(),
      });
      onChanged();
    },
  });
}
