"""What a client sees of a failure, and what the log keeps.

Expected failures (a :class:`~resolvers.errors.DomainError`, a permission
refusal, a validation error) reach the client with ``extensions.code``.
Anything else is a bug: the client gets a generic message carrying the
request id, and the log gets the stack trace under the same id.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator

from graphql import GraphQLError
from strawberry.extensions import SchemaExtension
from strawberry.types import ExecutionContext

from resolvers.errors import DomainError

log = logging.getLogger("gatehouse.errors")


def _request_id(execution_context: ExecutionContext | None) -> str:
    context = execution_context.context if execution_context else None
    return getattr(context, "request_id", "-")


def is_unexpected(error: GraphQLError) -> bool:
    original = error.original_error
    return original is not None and not isinstance(original, DomainError | GraphQLError)


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
        else:
            log.debug("request %s: %s", request_id, error.message)


def client_error(error: GraphQLError, request_id: str) -> GraphQLError:
    original = error.original_error
    if isinstance(original, DomainError):
        extensions = {"code": original.code}
        message = original.message
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

    def on_operation(self) -> Iterator[None]:
        yield
        result = self.execution_context.result
        errors = getattr(result, "errors", None)
        if errors:
            request_id = _request_id(self.execution_context)
            result.errors = [client_error(e, request_id) for e in errors]  # type: ignore[union-attr]
