"""Users of a tenant: create, list, update, set and change passwords, delete (API.md §2, §9.1).

Every operation stays inside the caller's own tenant. A change to a login
(password, permissions, deletion) is committed first and then invalidated on
every process through the broker (:data:`LOGIN_TOPIC`), so the login caches
(``resolvers/auth.py``) drop it within a second instead of when their entries
expire. Nobody can update or delete themselves through ``updateUser`` or
``deleteUser``, so no tenant loses its last administrator by accident.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable

from tortoise.exceptions import IntegrityError

from models.tenants import User
from resolvers import live, validation
from resolvers.errors import AlreadyExists, InvalidInput, NotFound
from resolvers.metrics import LOGIN_FAILURES
from resolvers.pagination import CountedPage, decode_int_cursor, page_size
from resolvers.passwords import hash_password, verify_password
from resolvers.permissions import (
    MANAGEMENT_ONLY_PERMISSIONS,
    Actor,
    Permission,
    permission_names,
)
from resolvers.throttling import Throttles

log = logging.getLogger(__name__)

CURSOR_KIND = "user"
#: Invalidation topic of logins; the key is ``tenant/username``.
LOGIN_TOPIC = "login"
USER_ID_MAX = 2**31 - 1


def _allowed_permissions(actor: Actor, permissions: Iterable[Permission]) -> list[str]:
    """TENANT_MANAGEMENT_ADMIN and DEVICE_BOOTSTRAP exist only in the management tenant."""
    wanted = frozenset(permissions)
    management_only = wanted & MANAGEMENT_ONLY_PERMISSIONS
    if management_only and not actor.is_management:
        # A subtenant's bootstrap user could collect any tenant's device credentials:
        # device ids are platform-wide, and so is the bootstrap endpoint.
        names = " and ".join(sorted(p.value for p in management_only))
        raise InvalidInput(f"{names} can only be given in the management tenant")
    return permission_names(wanted)


async def _find_user(tenant_id: str, username: str) -> User:
    # A name no user can have (too long, odd characters) is looked up nowhere.
    found = None
    plain = validation.USERNAME.fullmatch(username) is not None
    if plain:
        found = await User.get_or_none(tenant_id=tenant_id, username=username)
    if found is None:
        shown = username if plain else repr(username[:64])
        raise NotFound(f"no user {tenant_id}/{shown}", username[:64])
    return found


async def _own_user(actor: Actor, username: str) -> User:
    return await _find_user(actor.tenant_id, username)


def _not_oneself(actor: Actor, username: str, what: str) -> None:
    if username == actor.username:
        raise InvalidInput(
            f"you cannot {what} yourself; ask another user with USER_MANAGEMENT_ADMIN"
        )


async def _forget_login(tenant_id: str, username: str) -> None:
    await live.invalidate(LOGIN_TOPIC, f"{tenant_id}/{username}")


async def create_user(
    actor: Actor, username: str, password: str, permissions: Iterable[Permission]
) -> User:
    """A user in the caller's own tenant."""
    actor.require(Permission.USER_MANAGEMENT_ADMIN)
    validation.username(username)
    validation.password(password)
    names = _allowed_permissions(actor, permissions)
    password_hash = await hash_password(password)
    try:
        user = await User.create(
            tenant_id=actor.tenant_id,
            username=username,
            password_hash=password_hash,
            permissions=names,
        )
    except IntegrityError:
        raise AlreadyExists(f"user {actor.tenant_id}/{username} already exists") from None
    log.info("%s created user %s/%s", actor.name, actor.tenant_id, username)
    return user


async def list_users(actor: Actor, first: int | None, after: str | None) -> CountedPage[User]:
    """The caller's tenant's users, oldest first, keyset-paginated."""
    actor.require(Permission.USER_MANAGEMENT_ADMIN)
    size = page_size(first)
    query = User.filter(tenant_id=actor.tenant_id)
    total = await query.count()
    if after is not None:
        after_id = decode_int_cursor(CURSOR_KIND, after)
        if after_id > USER_ID_MAX:
            raise InvalidInput(f"invalid cursor {after[:60]!r}")
        query = query.filter(id__gt=after_id)
    rows = await query.order_by("id").limit(size + 1)
    return CountedPage(items=rows[:size], has_next_page=len(rows) > size, total_count=total)


async def update_user(actor: Actor, username: str, permissions: Iterable[Permission]) -> User:
    """Replace another user's permissions (the rules of ``createUser`` hold)."""
    actor.require(Permission.USER_MANAGEMENT_ADMIN)
    _not_oneself(actor, username, "change the permissions of")
    names = _allowed_permissions(actor, permissions)
    user = await _own_user(actor, username)
    user.permissions = names
    await user.save(update_fields=["permissions"])
    await _forget_login(actor.tenant_id, username)
    log.info("%s set the permissions of %s/%s", actor.name, actor.tenant_id, username)
    return user


async def set_user_password(actor: Actor, username: str, password: str) -> User:
    """Give a user of the caller's tenant a new password; the old one stops working at once."""
    actor.require(Permission.USER_MANAGEMENT_ADMIN)
    validation.password(password)
    user = await _own_user(actor, username)
    user.password_hash = await hash_password(password)
    await user.save(update_fields=["password_hash"])
    await _forget_login(actor.tenant_id, username)
    log.info("%s set the password of %s/%s", actor.name, actor.tenant_id, username)
    return user


async def delete_user(actor: Actor, username: str) -> str:
    """Delete another user of the caller's tenant; their login stops working at once."""
    actor.require(Permission.USER_MANAGEMENT_ADMIN)
    _not_oneself(actor, username, "delete")
    user = await _own_user(actor, username)
    await user.delete()
    await _forget_login(actor.tenant_id, username)
    log.info("%s deleted user %s/%s", actor.name, actor.tenant_id, username)
    return username


class WrongCurrentPassword(InvalidInput):
    """``changeMyPassword`` with a wrong current password (counts as a failed login)."""


async def change_my_password(
    actor: Actor,
    current_password: str,
    new_password: str,
    *,
    throttles: Throttles | None = None,
    client_address: str | None = None,
) -> None:
    """Any logged-in user: a new password, given the current one.

    A wrong current password counts as a failed login of ``client_address``
    (API.md §9.1, §9.2), so the mutation cannot be used to guess passwords.
    """
    validation.password(new_password)
    user = await User.get_or_none(tenant_id=actor.tenant_id, username=actor.username)
    if user is None or not await verify_password(user.password_hash, current_password):
        LOGIN_FAILURES.inc()
        if throttles is not None and client_address is not None:
            await throttles.login_failed(client_address)
        raise WrongCurrentPassword("the current password is wrong")
    user.password_hash = await hash_password(new_password)
    await user.save(update_fields=["password_hash"])
    await _forget_login(actor.tenant_id, actor.username)
    log.info("%s changed their password", actor.name)


async def reset_password(tenant_id: str, username: str, password: str) -> None:
    """``gatehouse set-password``: no caller, straight on the database (the lost-password way)."""
    validation.password(password)
    user = await _find_user(tenant_id, username)
    user.password_hash = await hash_password(password)
    await user.save(update_fields=["password_hash"])
    await _forget_login(tenant_id, username)
    log.info("the password of %s/%s was set from the command line", tenant_id, username)
