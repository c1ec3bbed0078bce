"""GraphQL documents that more than one test module sends."""

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

SET_TENANT_OPTION = """
mutation($category: String!, $key: String!, $value: String!) {
  setTenantOption(category: $category, key: $key, value: $value) {
    __typename
    ... on TenantOption { category key value }
    ... on Problem { code message }
  }
}"""

CREATE_GROUP = """
mutation($name: String!, $parentId: ID) {
  createGroup(name: $name, parentId: $parentId) { id name parent { id name } }
}"""
