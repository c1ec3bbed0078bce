"""GraphQL documents shared by the kit's helpers and the test modules."""

# ---------------------------------------------------------------- accounts and tenants

ME = "{ me { tenantId username permissions } }"

CREATE_TENANT = """
mutation($id: String!, $name: String!, $password: String!) {
  createTenant(id: $id, name: $name, adminPassword: $password) { id name }
}"""

CREATE_USER = """
mutation($username: String!, $password: String!, $permissions: [Permission!]!) {
  createUser(username: $username, password: $password, permissions: $permissions) {
    tenantId username permissions
  }
}"""

# ---------------------------------------------------------------- options and groups

SET_TENANT_OPTION = """
mutation($category: String!, $key: String!, $value: String!) {
  setTenantOption(category: $category, key: $key, value: $value) {
    __typename
    ... on TenantOption { category key value }
    ... on Problem { code message }
  }
}"""

SECURITY_TOKEN_POLICY = "{ securityTokenPolicy }"

CREATE_GROUP = """
mutation($name: String!, $parentId: ID) {
  createGroup(name: $name, parentId: $parentId) { id name parent { id name } }
}"""

# ---------------------------------------------------------------- registration operations

REGISTER = """
mutation($devices: [RegisterDeviceInput!]!) {
  register(devices: $devices) {
    __typename
    ... on RegisterSuccess { registrations { id status owner tenantId group { id name } } }
    ... on RegisterFailure { code message problems { code message id } }
  }
}"""

ACCEPT = """
mutation($id: ID!, $token: String) {
  accept(id: $id, securityToken: $token) {
    __typename
    ... on Registration { id status acceptedBy acceptedAt usesSecurityToken }
    ... on Problem { code message }
    ... on SecurityTokenMismatch { failedAttempts attemptsLeft }
    ... on InvalidStatus { status }
  }
}"""

ACCEPT_NOT_FOUND = """
mutation($id: ID!, $token: String) {
  accept(id: $id, securityToken: $token) { __typename ... on NotFound { id code message } }
}"""

ACCEPT_ALL = """
mutation {
  acceptAll {
    accepted { id status acceptedBy acceptedAt }
    notAccepted { code message id }
    warning
  }
}"""

REMOVE = """
mutation($id: ID!) {
  removeRegistration(id: $id) {
    __typename
    ... on Removed { id }
    ... on NotFound { id code message }
  }
}"""

# ---------------------------------------------------------------- reading registrations back

REGISTRATION = """
query($id: ID!) {
  registration(id: $id) {
    id status connectedAt usesSecurityToken failedAttempts acceptedBy credentialsDeliveredAt
    blockedReason
  }
}"""

STAMPS = "query($id: ID!) { registration(id: $id) { status acceptedAt updatedAt } }"

REGISTRATIONS = """
query($status: [RegistrationStatus!], $groupId: ID, $first: Int, $after: String) {
  registrations(status: $status, groupId: $groupId, first: $first, after: $after) {
    totalCount
    pageInfo { hasNextPage endCursor }
    edges { cursor node { id status } }
  }
}"""

REGISTERED_IDS = "{ registrations { totalCount edges { node { id } } } }"

# ---------------------------------------------------------------- the device's GraphQL twin of REST

REQUEST_CREDENTIALS = """
mutation($id: ID!, $token: String) {
  requestDeviceCredentials(id: $id, securityToken: $token) { id tenantId username password }
}"""

# ---------------------------------------------------------------- device credentials at work (§6)

RESET_CREDENTIALS = """
mutation($id: ID!) {
  resetCredentials(id: $id) {
    __typename
    ... on Registration { id status credentialsDeliveredAt lastAuthenticatedAt }
    ... on Problem { code message }
    ... on InvalidStatus { status }
  }
}"""

LAST_AUTHENTICATED = "query($id: ID!) { registration(id: $id) { lastAuthenticatedAt } }"
