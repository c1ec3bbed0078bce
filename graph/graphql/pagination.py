"""Relay-style connection pieces shared by every paginated list."""

from __future__ import annotations

import strawberry


@strawberry.type
class PageInfo:
    has_next_page: bool
    end_cursor: str | None

    @classmethod
    def after(cls, cursors: list[str], has_next_page: bool) -> PageInfo:
        """The page info of a page whose edges have ``cursors``, in order."""
        return cls(has_next_page=has_next_page, end_cursor=cursors[-1] if cursors else None)
