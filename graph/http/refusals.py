"""How a route's refusals look: one style per protocol, chosen by the route.

The same :class:`~graph.http.access.Denied` becomes a GraphQL error, a
Cumulocity error body, or plain text, so a rule written once answers each
client in the form it understands.
"""

from __future__ import annotations

from typing import Protocol

from starlette.responses import JSONResponse, PlainTextResponse, Response

from graph.http.access import Caller, Denied, Reason
from graph.http.logins import REALM, XBASIC_REALM

_STATUS = {
    Reason.NO_LOGIN: 401,
    Reason.BAD_LOGIN: 401,
    Reason.FORBIDDEN: 403,
    Reason.NOT_INTERNAL: 403,
    Reason.TOO_LARGE: 413,
    Reason.UNAVAILABLE: 503,
}


class Refusal(Protocol):
    def response(self, denied: Denied, caller: Caller) -> Response: ...


def wants_xbasic(caller: Caller) -> bool:
    """A web page with its own login form (API.md §1): answer XBasic, so no browser prompt."""
    headers = caller.headers
    return (
        headers.get("x-requested-with", "").lower() == "xmlhttprequest"
        or headers.get("usexbasic", "").lower() == "true"
    )


def _challenge(response: Response, denied: Denied, caller: Caller) -> Response:
    if _STATUS[denied.reason] == 401:
        response.headers["WWW-Authenticate"] = XBASIC_REALM if wants_xbasic(caller) else REALM
    return response


class GraphQLRefusal:
    """A GraphQL response whose one error carries ``extensions.code`` (API.md §1)."""

    CODES = {
        Reason.NO_LOGIN: "UNAUTHENTICATED",
        Reason.BAD_LOGIN: "UNAUTHENTICATED",
        Reason.FORBIDDEN: "FORBIDDEN",
        Reason.NOT_INTERNAL: "FORBIDDEN",
        Reason.TOO_LARGE: "PAYLOAD_TOO_LARGE",
        Reason.UNAVAILABLE: "SERVICE_UNAVAILABLE",
    }

    def response(self, denied: Denied, caller: Caller) -> Response:
        body = {
            "data": None,
            "errors": [
                {"message": denied.message, "extensions": {"code": self.CODES[denied.reason]}}
            ],
        }
        return _challenge(JSONResponse(body, status_code=_STATUS[denied.reason]), denied, caller)


class CumulocityRefusal:
    """Cumulocity's error body ``{"error": "<domain>/<kind>", "message"}`` (API.md §4, §8)."""

    ERRORS = {
        Reason.NO_LOGIN: "security/Unauthorized",
        Reason.BAD_LOGIN: "security/Unauthorized",
        Reason.FORBIDDEN: "security/Forbidden",
        Reason.NOT_INTERNAL: "security/Forbidden",
        Reason.TOO_LARGE: "general/Request Entity Too Large",
        Reason.UNAVAILABLE: "general/Service Unavailable",
    }

    def response(self, denied: Denied, caller: Caller) -> Response:
        body = {"error": self.ERRORS[denied.reason], "message": denied.message}
        return _challenge(JSONResponse(body, status_code=_STATUS[denied.reason]), denied, caller)


class PlainRefusal:
    """A plain-text reason, for machine endpoints with no error format of their own."""

    def response(self, denied: Denied, caller: Caller) -> Response:
        response = PlainTextResponse(denied.message + "\n", status_code=_STATUS[denied.reason])
        return _challenge(response, denied, caller)


GRAPHQL = GraphQLRefusal()
CUMULOCITY = CumulocityRefusal()
PLAIN = PlainRefusal()
