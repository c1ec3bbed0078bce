"""GraphQL error messages without the values that caused them (API.md §9.6).

graphql-core quotes the offending input in its coercion and validation
messages (``String cannot represent a non string value: 12345678``, ``...
found: {"password": ...}``). A password sent with the wrong type would come
back in the answer and go into the log. The message keeps what was wrong and
where; the value itself is cut.
"""

from __future__ import annotations

import re

_CANNOT_REPRESENT = re.compile(r"(cannot represent[^:]*):\s.*", re.DOTALL)
_FOUND = re.compile(r"[;,.]?\s+[Ff]ound:?\s.*", re.DOTALL)


def without_values(message: str) -> str:
    """``message`` with any quoted input value removed."""
    cut = _FOUND.sub("", _CANNOT_REPRESENT.sub(r"\1", message))
    return cut if cut == message or cut.endswith((".", "?", "!")) else cut + "."
