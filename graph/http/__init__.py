"""HTTP plumbing shared by every surface: the gate, client addresses, logins, refusals.

Every route of the app is wrapped in a :class:`~graph.http.gate.Gate` that
declares who may call it (:mod:`graph.http.access`) and how its refusals look
(:mod:`graph.http.refusals`). Surfaces (``graph/graphql``, ``graph/rest``, ...)
build their routes with :func:`~graph.http.gate.gated` and never authenticate
on their own.
"""
