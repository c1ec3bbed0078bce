"""Relay-style connection pieces shared by every paginated list."""

import strawberry


@strawberry.type
class PageInfo:
    has_next_page: bool
    end_cursor: str | None
