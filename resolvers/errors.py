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


class InvalidStatus(DomainError):
    code = "INVALID_STATUS"

    def __init__(self, message: str, id: str, status: str) -> None:
        super().__init__(message)
        self.id = id
        self.status = status


class SecurityTokenMismatch(DomainError):
    code = "SECURITY_TOKEN_MISMATCH"

    def __init__(self, message: str, id: str, failed_attempts: int, attempts_left: int) -> None:
        super().__init__(message)
        self.id = id
        self.failed_attempts = failed_attempts
        self.attempts_left = attempts_left


class RegistrationBlocked(DomainError):
    code = "BLOCKED"

    def __init__(self, message: str, id: str) -> None:
        super().__init__(message)
        self.id = id


class DeviceProblem(DomainError):
    """One bad device of a ``register`` call; ``code`` is set per instance."""

    def __init__(self, code: str, message: str, id: str) -> None:
        super().__init__(message)
        self.code = code
        self.id = id


class RegisterRefused(DomainError):
    """``register`` is all or nothing: this names every device that stopped it."""

    def __init__(self, problems: list[DeviceProblem]) -> None:
        codes = {p.code for p in problems}
        code = codes.pop() if len(codes) == 1 else "INVALID_INPUT"
        count = len(problems)
        super().__init__(
            f"{count} device{'s' if count > 1 else ''} could not be registered; none was registered"
        )
        self.code = code
        self.problems = problems


class Throttled(DomainError):
    """Too many requests of one kind (API.md §9.2); try again after ``retry_after`` seconds."""

    code = "TOO_MANY_REQUESTS"

    def __init__(self, message: str, retry_after: int) -> None:
        super().__init__(message)
        self.retry_after = retry_after


class ServiceUnavailable(DomainError):
    """A system Gatehouse depends on did not confirm in time; nothing was changed, try again."""

    code = "SERVICE_UNAVAILABLE"
