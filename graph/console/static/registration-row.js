// One row of the registration table. A live change updates this row's cells in place;
// a token being typed survives any change that leaves the row pending.

import { confirmDialog } from "./dialogs.js";
import { fill, h } from "./dom.js";
import { statusLabel } from "./statuses.js";

const PENDING = "PENDING_ACCEPTANCE";
const ACCEPTED = "ACCEPTED";

/** Whether the device collected its credentials (and they were not reset since). */
function delivered(registration) {
  return registration.status === ACCEPTED && Boolean(registration.credentialsDeliveredAt);
}

function time(value) {
  return h("time", { datetime: value }, new Date(value).toLocaleString());
}

/** What an accepted row says about the device's credentials. */
function credentials(registration) {
  if (!delivered(registration)) {
    return h("div", { class: "credentials" }, "Credentials not delivered");
  }
  const used = registration.lastAuthenticatedAt
    ? [" · last authenticated ", time(registration.lastAuthenticatedAt)]
    : " · not used yet";
  return h("div", { class: "credentials" }, "Credentials delivered", used);
}

/** A poll for credentials after they were delivered (API.md §9.6): lost, or taken over? */
function requestedAgain(registration) {
  const again = registration.credentialsRequestedAgainAt;
  const deliveredAt = registration.credentialsDeliveredAt;
  return Boolean(again) && (!deliveredAt || new Date(again) > new Date(deliveredAt));
}

function tokenUse(registration) {
  if (registration.status === "WAITING_FOR_CONNECTION") return "—";
  return registration.usesSecurityToken ? "Used" : "Not used";
}

export class RegistrationRow {
  /**
   * ``page``: ``{ api, policy, canAdmin, onChanged(registration), onRemoved(id) }``.
   */
  constructor(registration, page) {
    this.page = page;
    this.registration = null;
    this.problem = null;
    this.idCell = h("td", { class: "device-id" });
    this.statusCell = h("td", { class: "status" });
    this.groupCell = h("td");
    this.tokenCell = h("td");
    this.actionsCell = h("td", { class: "actions" });
    this.element = h("tr", {},
      this.idCell, this.statusCell, this.groupCell, this.tokenCell, this.actionsCell);
    this.update(registration);
  }

  get id() {
    return this.registration.id;
  }

  /** Show ``registration``'s current state (the same device, a newer state). */
  update(registration) {
    const before = this.registration;
    this.registration = registration;
    if (!before) this.idCell.textContent = registration.id;
    const status = [h("span", { class: `badge ${registration.status.toLowerCase()}` },
      statusLabel(registration.status))];
    if (registration.status === "BLOCKED" && registration.blockedReason) {
      status.push(h("div", { class: "reason" }, registration.blockedReason));
    }
    if (registration.status === ACCEPTED) status.push(credentials(registration));
    if (registration.status === PENDING && registration.connectedFrom) {
      // Where the device knocked from: the operator's check before accepting (§9.6).
      status.push(h("div", { class: "connected-from" }, "Connected from ",
        h("span", { class: "address" }, registration.connectedFrom)));
    }
    if (requestedAgain(registration)) {
      status.push(h("div", { class: "requested-again", role: "note" },
        "Credentials requested again ",
        time(registration.credentialsRequestedAgainAt)));
    }
    fill(this.statusCell, status);
    this.groupCell.textContent = registration.group?.name ?? "";
    this.tokenCell.textContent = tokenUse(registration);
    if (!before || before.status !== registration.status) {
      if (registration.status === ACCEPTED) this.problem = null;
      this.renderActions();
    } else if (delivered(before) !== delivered(registration)) {
      this.renderActions();
    }
  }

  renderActions() {
    const { canAdmin, policy } = this.page;
    const parts = [];
    this.tokenInput = null;
    if (canAdmin && this.registration.status === PENDING) {
      if (policy !== "IGNORED") {
        this.tokenInput = h("input", {
          class: "token",
          "aria-label": "Security token",
          placeholder: "Security token",
          autocomplete: "off",
          spellcheck: "false",
          onkeydown: (event) => {
            if (event.key === "Enter") this.accept();
          },
        });
        parts.push(this.tokenInput);
      }
      this.acceptButton = h("button", { type: "button", class: "primary", onclick: () => this.accept() },
        "Accept");
      parts.push(this.acceptButton);
    }
    if (canAdmin && delivered(this.registration)) {
      this.resetButton = h("button", { type: "button", onclick: () => this.resetCredentials() },
        "Reset credentials");
      parts.push(this.resetButton);
    }
    if (canAdmin) {
      parts.push(h("button", { type: "button", onclick: () => this.remove() }, "Remove"));
    }
    this.problemElement = h("p", { class: "problem", role: "alert", hidden: !this.problem },
      this.problem ?? "");
    fill(this.actionsCell, h("div", { class: "row-actions" }, parts), this.problemElement);
  }

  showProblem(message) {
    this.problem = message;
    this.problemElement.textContent = message ?? "";
    this.problemElement.hidden = !message;
  }

  async accept() {
    const token = this.tokenInput?.value ?? "";
    const button = this.acceptButton;
    button.disabled = true;
    try {
      const result = await this.page.api.accept(this.id, token === "" ? null : token);
      if (result.__typename === "Registration") {
        this.showProblem(null);
        this.page.onChanged(result);
        return;
      }
      // SecurityTokenMismatch names the device and the attempts left; RegistrationBlocked
      // says to remove the registration first. The row turns "Blocked" with the live event.
      this.showProblem(result.message);
      this.tokenInput?.select();
    } catch (error) {
      this.showProblem(error.message);
    } finally {
      button.disabled = false;
    }
  }

  async resetCredentials() {
    const confirmed = await confirmDialog({
      title: "Reset credentials",
      message: `Reset the credentials of device ${this.id}? Its password stops working at once; ` +
        "the device collects a new one at its next request for credentials.",
      confirmLabel: "Reset credentials",
    });
    if (!confirmed) return;
    const button = this.resetButton;
    button.disabled = true;
    try {
      const result = await this.page.api.resetCredentials(this.id);
      if (result.__typename === "Registration") {
        this.showProblem(null);
        this.page.onChanged(result);
        return;
      }
      // InvalidStatus (not delivered, not accepted) or NotFound (removed meanwhile).
      this.showProblem(result.message);
    } catch (error) {
      this.showProblem(error.message);
    } finally {
      button.disabled = false;
    }
  }

  async remove() {
    const confirmed = await confirmDialog({
      title: "Remove registration",
      message: `Remove the registration of device ${this.id}? The device must be registered again to connect.`,
      confirmLabel: "Remove",
    });
    if (!confirmed) return;
    try {
      await this.page.api.remove(this.id);  // Removed, or NotFound: gone either way
      this.page.onRemoved(this.id);
    } catch (error) {
      this.showProblem(error.message);
    }
  }
}
