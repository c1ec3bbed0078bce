// Every GraphQL operation of the console, one function each. The views call these and
// never write GraphQL themselves; graphql.js carries the requests.

import { basicAuthorization, GraphQLConnection } from "./graphql.js";

// What a row of the registration table shows (round two adds connectedFrom here).
const ROW = `id status tenantId usesSecurityToken failedAttempts blockedReason
  connectedFrom credentialsDeliveredAt lastAuthenticatedAt credentialsRequestedAgainAt
  group { id name }`;

const ME = `query Me { me { tenantId username permissions } }`;

const REGISTRATIONS = `
query Registrations($status: [RegistrationStatus!], $first: Int, $after: String) {
  registrations(status: $status, first: $first, after: $after) {
    totalCount
    eventCursor
    pageInfo { hasNextPage endCursor }
    edges { node { ${ROW} } }
  }
}`;

const POLICY = `query Policy { securityTokenPolicy }`;

const EVENTS = `
subscription RegistrationEvents($after: String) {
  registrationEvents(after: $after) {
    cursor kind id status previousStatus
    registration { ${ROW} }
  }
}`;

const REGISTER = `
mutation Register($devices: [RegisterDeviceInput!]!) {
  register(devices: $devices) {
    __typename
    ... on RegisterSuccess { registrations { ${ROW} } }
    ... on RegisterFailure { code message problems { id code message } }
  }
}`;

const ACCEPT = `
mutation Accept($id: ID!, $securityToken: String) {
  accept(id: $id, securityToken: $securityToken) {
    __typename
    ... on Registration { ${ROW} }
    ... on Problem { code message }
    ... on SecurityTokenMismatch { failedAttempts attemptsLeft }
  }
}`;

const ACCEPT_ALL = `
mutation AcceptAll {
  acceptAll {
    accepted { ${ROW} }
    notAccepted { id code message }
    warning
  }
}`;

const REMOVE = `
mutation Remove($id: ID!) {
  removeRegistration(id: $id) { __typename ... on Problem { code message } }
}`;

const RESET_CREDENTIALS = `
mutation ResetCredentials($id: ID!) {
  resetCredentials(id: $id) {
    __typename
    ... on Registration { ${ROW} }
    ... on Problem { code message }
  }
}`;

// The report only: the new rows reach the table through registrationEvents.
const REGISTER_CSV = `
mutation RegisterCsv($csv: String!) {
  registerCsv(csv: $csv) {
    created failed
    lines { line id problem { code message } }
  }
}`;

const USER = `tenantId username permissions`;

const USERS = `
query Users($first: Int, $after: String) {
  users(first: $first, after: $after) {
    totalCount
    pageInfo { hasNextPage endCursor }
    edges { node { ${USER} } }
  }
}`;

const CREATE_USER = `
mutation CreateUser($username: String!, $password: String!, $permissions: [Permission!]!) {
  createUser(username: $username, password: $password, permissions: $permissions) { ${USER} }
}`;

const UPDATE_USER = `
mutation UpdateUser($username: String!, $permissions: [Permission!]!) {
  updateUser(username: $username, permissions: $permissions) { ${USER} }
}`;

const SET_USER_PASSWORD = `
mutation SetUserPassword($username: String!, $password: String!) {
  setUserPassword(username: $username, password: $password) { ${USER} }
}`;

const DELETE_USER = `
mutation DeleteUser($username: String!) { deleteUser(username: $username) }`;

const CHANGE_MY_PASSWORD = `
mutation ChangeMyPassword($currentPassword: String!, $newPassword: String!) {
  changeMyPassword(currentPassword: $currentPassword, newPassword: $newPassword)
}`;

const GROUPS = `
query Groups($after: String) {
  groups(first: 1000, after: $after) {
    edges { node { id name parent { name } } }
    pageInfo { hasNextPage endCursor }
  }
}`;

const TENANTS = `
query Tenants($after: String) {
  tenants(first: 1000, after: $after) {
    edges { node { id name } }
    pageInfo { hasNextPage endCursor }
  }
}`;

const AUDIT_LOG = `
query AuditLog($deviceId: ID, $after: String, $first: Int) {
  events(deviceId: $deviceId, after: $after, first: $first, newestFirst: true) {
    edges { node { cursor at id kind status actor } }
    pageInfo { hasNextPage endCursor }
  }
}`;

export const OPTIONS_CATEGORY = "device-registration";
export const POLICY_KEY = "security-token.policy";
export const MAX_ATTEMPTS_KEY = "security-token.max-failed-attempts";
export const DEFAULT_MAX_ATTEMPTS = 5;

const SETTINGS = `
query Settings {
  securityTokenPolicy
  maxFailedAttempts: tenantOption(category: "${OPTIONS_CATEGORY}", key: "${MAX_ATTEMPTS_KEY}") {
    value
  }
}`;

const SAVE_SETTINGS = `
mutation SaveSettings($policy: String!, $maxFailedAttempts: String!) {
  policy: setTenantOption(category: "${OPTIONS_CATEGORY}", key: "${POLICY_KEY}", value: $policy) {
    __typename ... on Problem { message }
  }
  maxFailedAttempts: setTenantOption(
    category: "${OPTIONS_CATEGORY}", key: "${MAX_ATTEMPTS_KEY}", value: $maxFailedAttempts
  ) {
    __typename ... on Problem { message }
  }
}`;

/** Every page of a connection field, for the short lists behind a select. */
async function everything(connection, query, field) {
  const nodes = [];
  let after = null;
  for (;;) {
    const page = (await connection.request(query, { after }))[field];
    nodes.push(...page.edges.map((edge) => edge.node));
    if (!page.pageInfo.hasNextPage) return nodes;
    after = page.pageInfo.endCursor;
  }
}

export class Api {
  constructor(authorization, { onLoginLost } = {}) {
    this.onLoginLost = onLoginLost;
    this.connection = new GraphQLConnection(authorization, { onLoginLost });
  }

  /** The server no longer accepts this login (a websocket closed with 4401, say). */
  loginLost() {
    this.onLoginLost?.();
  }

  async me() {
    return (await this.connection.request(ME)).me;
  }

  /** One page of registrations and the event cursor it was read at. */
  async registrations({ status, first, after }) {
    const variables = { status: status ? [status] : null, first, after };
    return (await this.connection.request(REGISTRATIONS, variables)).registrations;
  }

  async securityTokenPolicy() {
    return (await this.connection.request(POLICY)).securityTokenPolicy;
  }

  /** ``sink.next(event, receivedAt)`` for each event after ``after``; returns a stop function. */
  registrationEvents(after, sink) {
    return this.connection.subscribe(EVENTS, after ? { after } : {}, {
      next: (data, receivedAt) => sink.next(data.registrationEvents, receivedAt),
      error: sink.error,
      complete: sink.complete,
    });
  }

  onSocket(event, listener) {
    this.connection.onSocket(event, listener);
  }

  async register(devices) {
    return (await this.connection.request(REGISTER, { devices })).register;
  }

  async accept(id, securityToken) {
    return (await this.connection.request(ACCEPT, { id, securityToken })).accept;
  }

  async acceptAll() {
    return (await this.connection.request(ACCEPT_ALL)).acceptAll;
  }

  async remove(id) {
    return (await this.connection.request(REMOVE, { id })).removeRegistration;
  }

  /** Registration (credentials no longer delivered), or a Problem (NotFound, InvalidStatus). */
  async resetCredentials(id) {
    return (await this.connection.request(RESET_CREDENTIALS, { id })).resetCredentials;
  }

  /** ``{ created, failed, lines: [{ line, id, problem }] }`` for the text of a CSV file. */
  async registerCsv(csv) {
    return (await this.connection.request(REGISTER_CSV, { csv })).registerCsv;
  }

  /** A page of the tenant's users, oldest first. */
  async users({ first, after }) {
    return (await this.connection.request(USERS, { first, after })).users;
  }

  async createUser({ username, password, permissions }) {
    return (await this.connection.request(CREATE_USER, { username, password, permissions }))
      .createUser;
  }

  async updateUser(username, permissions) {
    return (await this.connection.request(UPDATE_USER, { username, permissions })).updateUser;
  }

  async setUserPassword(username, password) {
    return (await this.connection.request(SET_USER_PASSWORD, { username, password }))
      .setUserPassword;
  }

  async deleteUser(username) {
    return (await this.connection.request(DELETE_USER, { username })).deleteUser;
  }

  /**
   * Change the logged-in user's password; from then on this connection logs in with the
   * new one (``login`` is ``tenant/username``). Requests refused meanwhile for the old
   * password are sent again with the new one, so the change does not log the page out.
   */
  async changeMyPassword({ login, currentPassword, newPassword }) {
    await this.connection.switchLogin(basicAuthorization(login, newPassword), () =>
      this.connection.request(CHANGE_MY_PASSWORD, { currentPassword, newPassword },
        { changesLogin: true }));
  }

  /** The HTTP Basic header this connection sends now (after a password change, too). */
  get authorization() {
    return this.connection.authorization;
  }

  async groups() {
    return everything(this.connection, GROUPS, "groups");
  }

  async tenants() {
    return everything(this.connection, TENANTS, "tenants");
  }

  /** A page of the audit log, newest first. */
  async auditLog({ deviceId, after, first }) {
    return (await this.connection.request(AUDIT_LOG, { deviceId, after, first })).events;
  }

  async settings() {
    const data = await this.connection.request(SETTINGS);
    const limit = data.maxFailedAttempts?.value;
    return {
      policy: data.securityTokenPolicy,
      maxFailedAttempts: limit ? Number(limit) : DEFAULT_MAX_ATTEMPTS,
    };
  }

  /** Both settings in one request; returns the problems (messages), empty when saved. */
  async saveSettings({ policy, maxFailedAttempts }) {
    const data = await this.connection.request(SAVE_SETTINGS, {
      policy,
      maxFailedAttempts: String(maxFailedAttempts),
    });
    return [data.policy, data.maxFailedAttempts]
      .filter((result) => result.__typename !== "TenantOption")
      .map((result) => result.message);
  }

  close() {
    this.connection.close();
  }
}
