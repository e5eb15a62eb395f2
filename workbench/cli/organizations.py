"""``workbench org list|create|delete`` and ``workbench member list|add|set|remove``."""

from __future__ import annotations

import click

from workbench.cli import state
from workbench.cli.output import emit, table
from workbench.store.models import MEMBERSHIP_ROLES

_ROLE = click.Choice(MEMBERSHIP_ROLES)


@click.group()
def org() -> None:
    """Organizations you belong to; create one (you own it) or delete an empty one."""


@org.command("list")
def org_list() -> None:
    """Your organizations and your role in each (* = the one you work in)."""
    from workbench.store import organizations

    store = state().store()
    rows = [o.to_dict() for o in organizations.list_organizations(store)]
    shown = [
        {**r, "current": "*" if r["id"] == store.identity.organization_id else ""} for r in rows
    ]
    emit(rows, lambda: table(shown, ["current", "name", "role", "created_at"]))


@org.command("create")
@click.argument("name")
def org_create(name: str) -> None:
    """Create organization NAME, owned by you."""
    from workbench.store import organizations

    record = organizations.create_organization(state().store(), name)
    emit(
        record.to_dict(),
        f"Organization {name!r} created; you own it. Work in it with `workbench --org {name} ...`"
        " or WORKBENCH_ORGANIZATION.",
    )


@org.command("delete")
@click.argument("name")
def org_delete(name: str) -> None:
    """Delete organization NAME (the one you work in; it must have no projects)."""
    from workbench.store import organizations

    organizations.delete_organization(state().store(), name)
    emit({"deleted": name}, f"Organization {name!r} deleted.")


@click.group()
def member() -> None:
    """Members of the current organization and their roles (owner, editor, viewer)."""


@member.command("list")
def member_list() -> None:
    """Members and roles."""
    from workbench.store import organizations

    rows = [m.to_dict() for m in organizations.list_members(state().store())]
    emit(rows, lambda: table(rows, ["user", "role", "since"]))


@member.command("add")
@click.argument("user")
@click.option("--role", type=_ROLE, default="viewer", show_default=True)
def member_add(user: str, role: str) -> None:
    """Add USER with a role (owners only)."""
    from workbench.store import organizations

    record = organizations.add_member(state().store(), user, role)
    emit(record.to_dict(), f"{user!r} is now {role} of {state().store().identity.organization!r}.")


@member.command("set")
@click.argument("user")
@click.option("--role", type=_ROLE, required=True)
def member_set(user: str, role: str) -> None:
    """Change USER's role (owners only; an organization keeps one owner at least)."""
    from workbench.store import organizations

    record = organizations.set_member_role(state().store(), user, role)
    emit(record.to_dict(), f"{user!r} is now {role}.")


@member.command("remove")
@click.argument("user")
def member_remove(user: str) -> None:
    """Remove USER from the organization (owners only)."""
    from workbench.store import organizations

    organizations.remove_member(state().store(), user)
    emit({"removed": user}, f"{user!r} removed.")


commands = [org, member]
