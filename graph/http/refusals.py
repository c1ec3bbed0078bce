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
    Reason.THROTTLED: 429,
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
    if denied.retry_after is not None:
        response.headers["Retry-After"] = str(denied.retry_after)
    return response


class GraphQLRefusal:
    """A GraphQL response whose one error carries ``extensions.code`` (API.md §1)."""

    CODES = {
        Reason.NO_LOGIN: "UNAUTHENTICATED",
        Reason.BAD_LOGIN: "UNAUTHENTICATED",
        Reason.FORBIDDEN: "FORBIDDEN",
        Reason.NOT_INTERNAL: "FORBIDDEN",
        Reason.THROTTLED: "TOO_MANY_REQUESTS",
        Reason.TOO_LARGE: "PAYLOAD_TOO_LARGE",
        Reason.UNAVAILABLE: "SERVICE_UNAVAILABLE",
    }

    def response(self, denied: Denied, caller: Caller) -> Response:
        extensions: dict[str, object] = {"code": self.CODES[denied.reason]}
        if denied.retry_after is not None:
            extensions["retryAfter"] = denied.retry_after
        body = {"data": None, "errors": [{"message": denied.message, "extensions": extensions}]}
        return _challenge(JSONResponse(body, status_code=_STATUS[denied.reason]), denied, caller)


class CumulocityRefusal:
    """Cumulocity's error body ``{"error": "<domain>/<kind>", "message"}`` (API.md §4, §8)."""

    ERRORS = {
        Reason.NO_LOGIN: "security/Unauthorized",
        Reason.BAD_LOGIN: "security/Unauthorized",
        Reason.FORBIDDEN: "security/Forbidden",
        Reason.NOT_INTERNAL: "security/Forbidden",
        Reason.THROTTLED: "security/Too Many Requests",
        Reason.TOO_LARGE: "general/Request Entity Too Large",
        Reason.UNAVAILABLE: "general/Service Unavailable",
    }
    INFO = "see the Gatehouse README, section 'Cumulocity REST for operators'"

    def response(self, denied: Denied, caller: Caller) -> Response:
        body = {"error": self.ERRORS[denied.reason], "message": denied.message, "info": self.INFO}
        return _challenge(JSONResponse(body, status_code=_STATUS[denied.reason]), denied, caller)


class PlainRefusal:
    """A plain-text reason, for machine endpoints with no error format of their own."""

    def response(self, denied: Denied, caller: Caller) -> Response:
        response = PlainTextResponse(denied.message + "\n", status_code=_STATUS[denied.reason])
        return _challenge(response, denied, caller)


GRAPHQL = GraphQLRefusal()
CUMULOCITY = CumulocityRefusal()
PLAIN = PlainRefusal()


# ---------------------------------------------------------------- broker and gateway callbacks
# API.md §6: a caller outside the internal networks gets 403 on every callback path,
# with nothing checked; every other refusal is the protocol's own "deny".


class RabbitMQRefusal:
    """``rabbitmq_auth_backend_http``: 200 ``deny`` (plain text, no newline); 403 from outside."""

    def response(self, denied: Denied, caller: Caller) -> Response:
        status = 403 if denied.reason is Reason.NOT_INTERNAL else 200
        return PlainTextResponse("deny", status_code=status)


class EMQXRefusal:
    """EMQX HTTP authn/authz: 200 ``{"result": "deny"}``; 403 from outside (never ``ignore``)."""

    def response(self, denied: Denied, caller: Caller) -> Response:
        status = 403 if denied.reason is Reason.NOT_INTERNAL else 200
        return JSONResponse({"result": "deny"}, status_code=status)


class MosquittoRefusal:
    """mosquitto-go-auth: 403 ``{"ok": false, "error": ...}``, deny in every response mode."""

    def response(self, denied: Denied, caller: Caller) -> Response:
        return JSONResponse({"ok": False, "error": denied.message}, status_code=403)


class GatewayRefusal:
    """nginx ``auth_request``, Traefik ForwardAuth, Envoy: an empty 401 with the Basic
    challenge (the gateway passes it on, so a browser prompts); an empty 403 from outside."""

    def response(self, denied: Denied, caller: Caller) -> Response:
        if denied.reason is Reason.NOT_INTERNAL or denied.reason is Reason.FORBIDDEN:
            return Response(status_code=403)
        return Response(status_code=401, headers={"WWW-Authenticate": REALM})


RABBITMQ = RabbitMQRefusal()
EMQX = EMQXRefusal()
MOSQUITTO = MosquittoRefusal()
GATEWAY = GatewayRefusal()
