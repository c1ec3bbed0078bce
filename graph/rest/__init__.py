"""REST adapters: each module is one surface with its ``routes(services)``.

A REST endpoint parses the request, calls one service function in
``resolvers/`` and translates its result or domain error into the answer; the
gate in front of it (``graph/http/gate.py``) has already checked the caller.
"""
