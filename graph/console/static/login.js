// The login form: "Tenant" (empty: the management tenant), "Username", "Password".

import { Api } from "./api.js";
import { h, uniqueId } from "./dom.js";
import { basicAuthorization } from "./graphql.js";

function field(label, input, hint) {
  const id = uniqueId("login");
  input.id = id;
  const parts = [h("label", { for: id }, label), input];
  if (hint) {
    const hintId = `${id}-hint`;
    input.setAttribute("aria-describedby", hintId);
    parts.push(h("small", { id: hintId, class: "hint" }, hint));
  }
  return h("div", { class: "field" }, parts);
}

/** The login view; ``onLoggedIn({ authorization, me })`` once the server accepted it. */
export function loginView({ onLoggedIn, message }) {
  const tenant = h("input", { name: "tenant", autocomplete: "organization", spellcheck: "false" });
  const username = h("input", {
    name: "username",
    autocomplete: "username",
    required: true,
    spellcheck: "false",
  });
  const password = h("input", {
    name: "password",
    type: "password",
    autocomplete: "current-password",
    required: true,
  });
  const error = h("p", { class: "error", role: "alert", hidden: !message }, message ?? "");
  const submit = h("button", { type: "submit", class: "primary" }, "Log in");

  async function logIn(event) {
    event.preventDefault();
    submit.disabled = true;
    error.hidden = true;
    const tenantId = tenant.value.trim();
    const login = tenantId ? `${tenantId}/${username.value}` : username.value;
    const authorization = basicAuthorization(login, password.value);
    const api = new Api(authorization);
    try {
      const me = await api.me();
      onLoggedIn({ authorization, me });
    } catch (failure) {
      error.textContent = failure.message;
      error.hidden = false;
      password.select();
    } finally {
      api.close();
      submit.disabled = false;
    }
  }

  const form = h(
    "form",
    { class: "login", onsubmit: logIn, "aria-labelledby": "login-title" },
    h("h1", { id: "login-title" }, "Gatehouse"),
    h("p", { class: "lead" }, "Log in to register and accept devices."),
    field("Tenant", tenant, "Leave empty for the management tenant."),
    field("Username", username),
    field("Password", password),
    error,
    submit,
  );
  queueMicrotask(() => (tenant.value ? username : tenant).focus());
  return h("main", { class: "login-page" }, form);
}
