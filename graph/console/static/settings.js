// The "Settings" page: the tenant's security token policy and its attempt limit.

import { h, uniqueId } from "./dom.js";

const POLICIES = [
  ["IGNORED", "Ignored", "Devices are accepted without looking at any security token."],
  ["OPTIONAL", "Optional", "A device that presented a token is accepted only with the same token."],
  ["REQUIRED", "Required", "Every device must present a token, and the operator must type it."],
];

export function settingsPage({ api, session }) {
  const heading = h("div", { class: "title-bar" }, h("h1", { id: "settings-title" }, "Settings"));
  const element = h("section", { class: "settings", "aria-labelledby": "settings-title" }, heading);
  if (!session.can("OPTION_MANAGEMENT_READ")) {
    element.append(h("p", {}, "Reading the settings needs the OPTION_MANAGEMENT_READ permission."));
    return { element };
  }
  const canWrite = session.can("OPTION_MANAGEMENT_ADMIN");
  const radios = POLICIES.map(([value, label, description]) => {
    const id = uniqueId("policy");
    const input = h("input", {
      type: "radio", name: "policy", id, value, disabled: !canWrite,
      "aria-describedby": `${id}-hint`,
    });
    return [input, h("div", { class: "choice" }, input, h("label", { for: id }, label),
      h("small", { id: `${id}-hint`, class: "hint" }, description))];
  });
  const limit = h("input", {
    id: "max-failed-attempts", type: "number", min: "1", max: "100", step: "1",
    required: true, disabled: !canWrite,
  });
  const message = h("p", { role: "status", class: "info", hidden: true });
  const error = h("p", { role: "alert", class: "error", hidden: true });
  const save = h("button", { type: "submit", class: "primary" }, "Save");

  function show(target, text) {
    target.textContent = text ?? "";
    target.hidden = !text;
  }

  async function submit(event) {
    event.preventDefault();
    const chosen = radios.find(([input]) => input.checked)?.[0].value;
    show(message, null);
    show(error, null);
    save.disabled = true;
    try {
      const problems = await api.saveSettings({ policy: chosen, maxFailedAttempts: limit.value });
      if (problems.length) show(error, problems.join(" "));
      else show(message, "Settings saved.");
    } catch (failure) {
      show(error, failure.message);
    } finally {
      save.disabled = false;
    }
  }

  const form = h("form", { onsubmit: submit },
    h("fieldset", {},
      h("legend", {}, "Security token policy"),
      radios.map(([, choice]) => choice)),
    h("div", { class: "field" },
      h("label", { for: "max-failed-attempts" }, "Maximum failed attempts"), limit,
      h("small", { class: "hint" }, "Wrong security tokens before a registration is blocked (1–100).")),
    canWrite ? save : h("p", { class: "hint" },
      "Read-only: changing the settings needs the OPTION_MANAGEMENT_ADMIN permission."),
    message,
    error);
  element.append(form);

  api.settings().then(({ policy, maxFailedAttempts }) => {
    for (const [input] of radios) input.checked = input.value === policy;
    limit.value = String(maxFailedAttempts);
  }).catch((failure) => show(error, failure.message));
  return { element };
}
