"""Domain errors raised by the service layer.

Each carries a ``code`` from API.md's list of problem codes; ``graph/`` turns
them into the matching Problem type or into a GraphQL error with that code.
Anything that is not a :class:`DomainError` is unexpected and gets masked.
"""

from __future__ import annotations


class DomainError(Exception):
    code = "INVALID_INPUT"

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class Forbidden(DomainError):
    code = "FORBIDDEN"


class InvalidInput(DomainError):
    code = "INVALID_INPUT"


class NotFound(DomainError):
    code = "NOT_FOUND"

    def __init__(self, message: str, id: str) -> None:
        super().__init__(message)
        self.id = id


class AlreadyExists(DomainError):
    code = "ALREADY_EXISTS"


class InvalidOption(DomainError):
    code = "INVALID_OPTION"
