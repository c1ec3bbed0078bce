// A modal question with two answers, as a <dialog> (no window.confirm).

import { h, uniqueId } from "./dom.js";

/** Resolves true when the user chose ``confirmLabel``, false on "Cancel" or Escape. */
export function confirmDialog({ title, message, confirmLabel }) {
  return new Promise((resolve) => {
    const titleId = uniqueId("confirm");
    const dialog = h(
      "dialog",
      { class: "confirm", "aria-labelledby": titleId },
      h(
        "form",
        { method: "dialog" },
        h("h2", { id: titleId }, title),
        h("p", {}, message),
        h(
          "div",
          { class: "buttons" },
          h("button", { value: "cancel", type: "submit" }, "Cancel"),
          h("button", { value: "confirm", type: "submit", class: "danger" }, confirmLabel),
        ),
      ),
    );
    dialog.addEventListener("close", () => {
      resolve(dialog.returnValue === "confirm");
      dialog.remove();
    });
    document.body.append(dialog);
    dialog.showModal();
  });
}

/**
 * A modal form: ``content`` (fields), "Cancel" and ``submitLabel``. ``onSubmit()`` runs on
 * submit; when it returns, the dialog closes; what it throws is shown in the dialog (role
 * ``alert``) and the dialog stays open. Returns the dialog.
 */
export function formDialog({ title, className, content, submitLabel, onSubmit }) {
  const titleId = uniqueId("dialog");
  const error = h("p", { class: "error", role: "alert", hidden: true });
  const submit = h("button", { type: "submit", class: "primary" }, submitLabel);

  async function submitted(event) {
    event.preventDefault();
    error.hidden = true;
    submit.disabled = true;
    try {
      await onSubmit();
      dialog.close();
    } catch (failure) {
      error.textContent = failure.message;
      error.hidden = false;
    } finally {
      submit.disabled = false;
    }
  }

  const dialog = h(
    "dialog",
    { class: className, "aria-labelledby": titleId },
    h(
      "form",
      { onsubmit: submitted },
      h("h2", { id: titleId }, title),
      content,
      error,
      h(
        "div",
        { class: "buttons" },
        h("button", { type: "button", onclick: () => dialog.close() }, "Cancel"),
        submit,
      ),
    ),
  );
  dialog.addEventListener("close", () => dialog.remove());
  document.body.append(dialog);
  dialog.showModal();
  dialog.querySelector("input:not([disabled])")?.focus();
  return dialog;
}
