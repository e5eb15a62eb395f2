"""Who may do what: roles per organization and the one check every API call makes.

Roles, from least to most: ``viewer`` (read), ``editor`` (projects, connections, mappings,
runs), ``owner`` (everything, including members, flags and policies). Each public API
function starts with ``require(store, ACTION)``; the role is read from the store on every
call, so a removed or demoted member loses rights at once, not at the next login.

The database enforces the organization boundary on its own (row-level security keyed on the
transaction's ``workbench.organization_id``, see ``store/tenancy.py``); this module enforces
the role inside an organization, which PostgreSQL cannot know about.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Literal

from sqlalchemy import select

from workbench.errors import PermissionDeniedError
from workbench.store.models import MEMBERSHIP_ROLES, Membership

if TYPE_CHECKING:
    from workbench.store.handle import Store

Action = Literal["read", "edit", "manage"]

# the least role each action needs
NEEDS: dict[str, str] = {"read": "viewer", "edit": "editor", "manage": "owner"}
RANK = {role: rank for rank, role in enumerate(("viewer", "editor", "owner"), start=1)}
assert set(RANK) == set(MEMBERSHIP_ROLES)


def current_role(store: Store) -> str | None:
    """The current user's role in the current organization, read now; None when not a member.
    (A server that read it for this request passes it along: ``Store.knowing_role``.)"""
    if store.role_hint is not None:
        return store.role_hint
    with store.session() as session:
        return session.scalar(
            select(Membership.role).where(
                Membership.organization_id == store.identity.organization_id,
                Membership.user_id == store.identity.user_id,
            )
        )


def allows(role: str | None, action: Action) -> bool:
    return role is not None and RANK[role] >= RANK[NEEDS[action]]


def require(store: Store, action: Action, what: str | None = None) -> str:
    """Refuse with :class:`PermissionDeniedError` unless the current user may ``action``.

    ``what`` names the attempted operation in the message (e.g. "delete project 'shop'").
    Returns the role, for callers that show it.
    """
    role = current_role(store)
    if allows(role, action):
        assert role is not None
        return role
    ident = store.identity
    doing = what or f"{action} in organization {ident.organization!r}"
    needed = NEEDS[action]
    if role is None:
        raise PermissionDeniedError(
            f"User {ident.user!r} is not a member of organization {ident.organization!r} and "
            f"cannot {doing}; an owner can add them with "
            f"`workbench member add {ident.user} --role {needed}`",
            user=ident.user,
            organization=ident.organization,
            needed=needed,
        )
    raise PermissionDeniedError(
        f"User {ident.user!r} is {role} in organization {ident.organization!r}; to {doing} "
        f"needs {needed} or above. An owner can change it with "
        f"`workbench member set {ident.user} --role {needed}`",
        user=ident.user,
        organization=ident.organization,
        role=role,
        needed=needed,
    )
