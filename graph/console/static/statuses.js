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
