"""Broker and gateway callbacks (API.md §6): one module per protocol, each with ``routes()``.

Every path is under ``/auth/``, admitted for ``GATEHOUSE_INTERNAL_NETWORKS``
only (403 otherwise, nothing checked). Each adapter reads its protocol's
request, asks ``services.device_logins`` (``resolvers/device_logins.py``) and
writes its protocol's answer; the rules themselves are in
``resolvers/device_auth.py`` and ``resolvers/topics.py``.
"""
