// How the console writes the API's enums: the statuses as the user guide writes them.

export const STATUSES = [
  ["WAITING_FOR_CONNECTION", "Waiting for connection"],
  ["PENDING_ACCEPTANCE", "Pending acceptance"],
  ["ACCEPTED", "Accepted"],
  ["BLOCKED", "Blocked"],
];
const STATUS_LABELS = new Map(STATUSES);

/** "CREDENTIALS_DELIVERED" -> "Credentials delivered" (for values added later, too). */
export function humanize(value) {
  const words = String(value).toLowerCase().replaceAll("_", " ");
  return words.charAt(0).toUpperCase() + words.slice(1);
}

export function statusLabel(status) {
  return status ? (STATUS_LABELS.get(status) ?? humanize(status)) : "";
}

export function kindLabel(kind) {
  return humanize(kind);
}

// The permissions, in the schema's order, with what each allows (API.md §2).
export const PERMISSIONS = [
  ["DEVICE_CONTROL_READ", "Read registrations and the audit log, with live updates."],
  ["DEVICE_CONTROL_ADMIN", "Register, accept and remove devices; reset their credentials."],
  ["INVENTORY_READ", "Read groups."],
  ["INVENTORY_ADMIN", "Create groups."],
  ["OPTION_MANAGEMENT_READ", "Read the settings."],
  ["OPTION_MANAGEMENT_ADMIN", "Change the settings."],
  ["USER_MANAGEMENT_ADMIN", "Manage this tenant's users."],
  ["TENANT_MANAGEMENT_ADMIN", "Create subtenants and register devices into them."],
  ["DEVICE_BOOTSTRAP", "Only the devices' request for their credentials."],
];
// Only the management tenant's users can hold these.
export const MANAGEMENT_ONLY_PERMISSIONS = new Set(["TENANT_MANAGEMENT_ADMIN", "DEVICE_BOOTSTRAP"]);
