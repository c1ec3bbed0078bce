"""Permissions and the acting user.

Every service function takes an :class:`Actor` and checks the permission its
operation needs with :meth:`Actor.require`, so the device REST endpoint and
the GraphQL fields enforce the same table (API.md §2).
"""

from __future__ import annotations

import enum
from collections.abc import Iterable
from dataclasses import dataclass

from resolvers.errors import Forbidden

MANAGEMENT_TENANT = "management"


class Permission(enum.Enum):
    DEVICE_CONTROL_READ = "DEVICE_CONTROL_READ"
    DEVICE_CONTROL_ADMIN = "DEVICE_CONTROL_ADMIN"
    INVENTORY_READ = "INVENTORY_READ"
    INVENTORY_ADMIN = "INVENTORY_ADMIN"
    OPTION_MANAGEMENT_READ = "OPTION_MANAGEMENT_READ"
    OPTION_MANAGEMENT_ADMIN = "OPTION_MANAGEMENT_ADMIN"
    USER_MANAGEMENT_ADMIN = "USER_MANAGEMENT_ADMIN"
    TENANT_MANAGEMENT_ADMIN = "TENANT_MANAGEMENT_ADMIN"
    DEVICE_BOOTSTRAP = "DEVICE_BOOTSTRAP"


#: What ``management/admin`` gets on first start.
MANAGEMENT_ADMIN_PERMISSIONS = frozenset(Permission) - {Permission.DEVICE_BOOTSTRAP}
#: Permissions that only a management tenant user may hold.
MANAGEMENT_ONLY_PERMISSIONS = frozenset(
    {Permission.TENANT_MANAGEMENT_ADMIN, Permission.DEVICE_BOOTSTRAP}
)
#: What ``<tenant>/admin`` gets from ``createTenant``.
TENANT_ADMIN_PERMISSIONS = MANAGEMENT_ADMIN_PERMISSIONS - {Permission.TENANT_MANAGEMENT_ADMIN}


def permission_names(permissions: Iterable[Permission]) -> list[str]:
    """Permissions as a user row stores them: sorted names."""
    return sorted(p.value for p in permissions)


def parse_permissions(names: list[str]) -> frozenset[Permission]:
    """Read stored permission names, skipping any this server version does not know."""
    known = {p.value for p in Permission}
    return frozenset(Permission(name) for name in names if name in known)


@dataclass(frozen=True)
class Actor:
    """Who is calling: a verified ``tenant/username`` and what it may do."""

    tenant_id: str
    username: str
    permissions: frozenset[Permission]

    @property
    def name(self) -> str:
        return f"{self.tenant_id}/{self.username}"

    @property
    def is_management(self) -> bool:
        return self.tenant_id == MANAGEMENT_TENANT

    def can(self, permission: Permission) -> bool:
        return permission in self.permissions

    def require(self, permission: Permission) -> None:
        """Raise :class:`Forbidden` unless the actor holds ``permission``."""
        if permission not in self.permissions:
            raise Forbidden(f"{self.name} lacks the {permission.value} permission")
