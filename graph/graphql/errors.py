"""What a client sees of a failure, and what the log keeps.

Expected failures (a :class:`~resolvers.errors.DomainError`, a permission
refusal, a validation error) reach the client with ``extensions.code``.
Anything else is a bug: the client gets a generic message carrying the
request id, and the log gets the stack trace under the same id.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Iterator

from graphql import GraphQLError
from strawberry.extensions import SchemaExtension
from strawberry.types import ExecutionContext

from graph.graphql.redaction import without_values
from resolvers import availability
from resolvers.errors import DomainError, Throttled

log = logging.getLogger("gatehouse.errors")


def _request_id(execution_context: ExecutionContext | None) -> str:
    context = execution_context.context if execution_context else None
    return getattr(context, "request_id", "-")


def is_unexpected(error: GraphQLError) -> bool:
    original = error.original_error
    return (
        original is not None
        and not isinstance(original, DomainError | GraphQLError)
        and not availability.is_unavailable(original)
    )


def is_unavailable(error: GraphQLError) -> bool:
    original = error.original_error
    return original is not None and availability.is_unavailable(original)


def log_errors(errors: list[GraphQLError], execution_context: ExecutionContext | None) -> None:
    """Log unexpected errors with their stack trace; expected ones only at DEBUG."""
    request_id = _request_id(execution_context)
    for error in errors:
        if is_unexpected(error):
            log.error(
                "unexpected error in %s (request %s)",
                ".".join(str(p) for p in error.path or ()) or "operation",
                request_id,
                exc_info=error.original_error,
            )
        elif is_unavailable(error):
            log.warning("request %s: database unavailable: %r", request_id, error.original_error)
        else:
            log.debug("request %s: %s", request_id, without_values(error.message))


_SUGGESTION = re.compile(r"\s*Did you mean .*\?$", re.DOTALL)


#: The code of an error that says the request does not fit the schema (API.md §9.6).
VALIDATION_FAILED = "GRAPHQL_VALIDATION_FAILED"
#: The code of an error that says the document is not GraphQL at all.
PARSE_FAILED = "GRAPHQL_PARSE_FAILED"


def _with_code(error: GraphQLError, code: str) -> GraphQLError:
    if not (error.extensions or {}).get("code"):
        error.extensions = {**(error.extensions or {}), "code": code}
    return error


def client_error(
    error: GraphQLError, request_id: str, phase_code: str | None = None
) -> GraphQLError:
    """What the client sees of ``error``; ``phase_code`` names the stage that refused the
    request before execution (parsing or validation), for errors that carry no code."""
    original = error.original_error
    if not isinstance(original, DomainError) and not is_unexpected(error):
        error.message = without_values(error.message)  # no input echoed back (§9.6)
    if original is None and "Did you mean" in error.message:
        # graphql-core suggests names in argument, type and enum errors too; strawberry's
        # disable_field_suggestions covers only fields. Suggestions would reveal the schema.
        error.message = _SUGGESTION.sub("", error.message)
    if original is None or isinstance(original, GraphQLError):
        if phase_code is not None:
            return _with_code(error, phase_code)
        if not error.path:
            # A request error raised by graphql-core's execution: variables that do not
            # fit their types, an unknown operation name.
            return _with_code(error, VALIDATION_FAILED)
        return error
    if isinstance(original, DomainError):
        extensions: dict[str, object] = {"code": original.code}
        if isinstance(original, Throttled):
            extensions["retryAfter"] = original.retry_after
        message = original.message
    elif is_unavailable(error):
        extensions = {"code": "SERVICE_UNAVAILABLE"}
        message = availability.MESSAGE
    elif is_unexpected(error):
        extensions = {"code": "INTERNAL_SERVER_ERROR", "requestId": request_id}
        message = f"Internal server error (request id {request_id})"
    else:
        return error
    return GraphQLError(
        message,
        nodes=error.nodes,
        source=error.source,
        positions=error.positions,
        path=error.path,
        extensions=extensions,
    )


class ClientErrors(SchemaExtension):
    """Turns every error of a result into what the client may see (see module doc)."""

    def __init__(self) -> None:
        #: Errors of parsing and validation, by ``id()``, with the code of their stage.
        self._phase: dict[int, str] = {}

    def _rewrite(self, result: object) -> None:
        errors = getattr(result, "errors", None)
        if errors:
            request_id = _request_id(self.execution_context)
            result.errors = [  # type: ignore[attr-defined]
                client_error(e, request_id, self._phase.get(id(e))) for e in errors
            ]

    def _note_phase(self, code: str) -> None:
        for error in self.execution_context.pre_execution_errors or ():
            self._phase.setdefault(id(error), code)

    def on_parse(self) -> Iterator[None]:
        yield
        self._note_phase(PARSE_FAILED)

    def on_validate(self) -> Iterator[None]:
        yield
        self._note_phase(VALIDATION_FAILED)

    def on_operation(self) -> Iterator[None]:
        yield
        self._rewrite(self.execution_context.result)

    def on_stream_result(self, result: object) -> Iterator[None]:
        """Each result of a subscription (or an operation over a websocket)."""
        self._rewrite(result)
        yield
