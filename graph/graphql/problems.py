"""The ``Problem`` interface shared by every expected failure in the schema."""

import strawberry


@strawberry.interface(
    description="Every expected failure is a value that implements Problem; "
    "clients switch on __typename or code."
)
class Problem:
    code: str
    message: str
