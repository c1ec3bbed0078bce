"""GraphQL at ``/graphql``: a module per domain (types, unions, fields), the schema, the view.

A field reads its arguments, calls one function in ``resolvers/`` and turns the
result or the domain error into the schema's type (``../shared/CONVENTIONS.md``).
"""
