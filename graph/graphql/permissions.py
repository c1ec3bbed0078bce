"""Field-level permission checks: ``permission_classes=[can(Permission.X)]``."""

from __future__ import annotations

from functools import cache
from typing import Any

from strawberry.permission import BasePermission

from resolvers.permissions import Permission


@cache
def can(permission: Permission) -> type[BasePermission]:
    """A permission class allowing callers that hold ``permission`` (one class per permission)."""

    class HasPermission(BasePermission):
        required = permission
        message = f"this operation needs the {permission.value} permission"
        error_extensions = {"code": "FORBIDDEN"}

        def has_permission(self, source: Any, info: Any, **kwargs: Any) -> bool:
            actor = info.context.actor
            return actor is not None and actor.can(permission)

    HasPermission.__name__ = HasPermission.__qualname__ = f"Can_{permission.value}"
    return HasPermission
