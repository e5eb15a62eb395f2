"""Organizations and their members: create, list, delete; add, change and remove members.

Anyone may create an organization and owns it; only its owners manage its members. An
organization always keeps at least one owner. Every change is an audit event.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any, cast

from sqlalchemy import Table, func, select, text
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from workbench.errors import AlreadyExistsError, InUseError, InvalidInputError, NotFoundError
from workbench.store.access import require
from workbench.store.audit import record_event
from workbench.store.database import create_store_engine
from workbench.store.handle import ensure_user, set_tenant
from workbench.store.models import MEMBERSHIP_ROLES, Membership, Organization, Project, User
from workbench.store.names import clean_name

if TYPE_CHECKING:
    from workbench.store.handle import Store


@dataclass(frozen=True)
class OrganizationRecord:
    id: int
    name: str
    role: str  # the current user's role in it
    created_at: datetime

    def to_dict(self) -> dict[str, Any]:
        return {**asdict(self), "created_at": self.created_at.isoformat()}


@dataclass(frozen=True)
class MemberRecord:
    user: str
    role: str
    since: datetime

    def to_dict(self) -> dict[str, Any]:
        return {**asdict(self), "since": self.since.isoformat()}


def create_organization(store: Store, name: str) -> OrganizationRecord:
    """A new organization owned by the current user. Work in it with ``store.in_organization``."""

    name = clean_name(name, "organization name")
    with store.session() as session:
        if session.scalar(select(Organization.id).where(Organization.name == name)) is not None:
            raise _exists(name)
        # the new row must already be "ours" for row-level security: take its id first
        org_id = session.scalar(
            text("SELECT nextval(pg_get_serial_sequence('organizations', 'id'))")
        )
        set_tenant(session, org_id, store.identity.user_id)
        session.add(Organization(id=org_id, name=name))
        try:
            session.flush()
        except IntegrityError as exc:  # another org with this name, invisible to us
            if "uq_organizations_name" in str(exc):
                raise _exists(name) from exc
            raise
        session.add(
            Membership(organization_id=org_id, user_id=store.identity.user_id, role="owner")
        )
        _audit(session, store, org_id, "organization.create", name)
        created = session.scalar(select(Organization.created_at).where(Organization.id == org_id))
    assert created is not None
    return OrganizationRecord(id=org_id, name=name, role="owner", created_at=created)


def list_organizations(store: Store) -> list[OrganizationRecord]:
    """The organizations the current user belongs to, with their role in each."""
    with store.session() as session:
        rows = session.execute(
            select(Organization, Membership.role)
            .join(Membership, Membership.organization_id == Organization.id)
            .where(Membership.user_id == store.identity.user_id)
            .order_by(Organization.name)
        ).all()
    return [OrganizationRecord(o.id, o.name, role, o.created_at) for o, role in rows]


def delete_organization(store: Store, name: str) -> None:
    """Delete the current organization (named again, as a safeguard); owners only.

    Refused while it has projects: delete or move them first.
    """
    if name != store.identity.organization:
        raise InvalidInputError(
            f"Only the organization you work in can be deleted; you are in "
            f"{store.identity.organization!r}, not {name!r} (choose it with --org)"
        )
    require(store, "manage", f"delete organization {name!r}")
    with store.session() as session:
        projects = session.scalar(
            select(func.count())
            .select_from(Project)
            .where(Project.organization_id == store.identity.organization_id)
        )
        if projects:
            raise InUseError(
                f"Organization {name!r} still has {projects} project(s); delete them first "
                "(`workbench project list --all`)",
                organization=name,
            )
        _audit(session, store, store.identity.organization_id, "organization.delete", name)
        table = cast(Table, Organization.__table__)  # typed FromClause; a model's is a Table
        session.execute(table.delete().where(Organization.id == store.identity.organization_id))


def list_members(store: Store) -> list[MemberRecord]:
    require(store, "read", "list members")
    with store.session() as session:
        rows = session.execute(
            select(User.name, Membership.role, Membership.created_at)
            .join(User, User.id == Membership.user_id)
            .where(Membership.organization_id == store.identity.organization_id)
            .order_by(User.name)
        ).all()
    return [MemberRecord(u, r, c) for u, r, c in rows]


def add_member(store: Store, user: str, role: str = "viewer") -> MemberRecord:
    """Add ``user`` (created if new) to the current organization with ``role``; owners only."""
    user, role = clean_name(user, "user name"), _role(role)
    require(store, "manage", f"add members to organization {store.identity.organization!r}")
    user_id = _user_id(store, user)
    with store.session() as session:
        if _membership(session, store, user_id) is not None:
            raise AlreadyExistsError(
                f"{user!r} is already a member of {store.identity.organization!r}; change the "
                f"role with `workbench member set {user} --role {role}`"
            )
        row = Membership(organization_id=store.identity.organization_id, user_id=user_id, role=role)
        session.add(row)
        session.flush()
        _audit(session, store, store.identity.organization_id, "member.add", user, role=role)
        session.refresh(row)
        return MemberRecord(user, role, row.created_at)


def set_member_role(store: Store, user: str, role: str) -> MemberRecord:
    role = _role(role)
    require(store, "manage", f"change roles in organization {store.identity.organization!r}")
    with store.session() as session:
        row = _require_member(session, store, user)
        before = row.role
        if before == "owner" and role != "owner":
            _keep_an_owner(session, store, user)
        row.role = role
        _audit(
            session,
            store,
            store.identity.organization_id,
            "member.role",
            user,
            before=before,
            after=role,
        )
        return MemberRecord(user, role, row.created_at)


def remove_member(store: Store, user: str) -> None:
    require(store, "manage", f"remove members from organization {store.identity.organization!r}")
    with store.session() as session:
        row = _require_member(session, store, user)
        if row.role == "owner":
            _keep_an_owner(session, store, user)
        session.delete(row)
        _audit(session, store, store.identity.organization_id, "member.remove", user, role=row.role)


# --- helpers -------------------------------------------------------------------------------


def _role(role: str) -> str:
    if role not in MEMBERSHIP_ROLES:
        raise InvalidInputError(
            f"Unknown role {role!r}; choose one of {', '.join(MEMBERSHIP_ROLES)}"
        )
    return role


def _user_id(store: Store, name: str) -> int:
    """The id of user ``name``, recorded (with a role of their own) when new: only with the
    owner's login, since a user's role is part of what keeps organizations apart."""
    with store.session() as session:
        user_id = session.scalar(select(User.id).where(User.name == name))
    if user_id is not None:
        return user_id
    if store.admin_url is None:
        raise NotFoundError(
            f"No user {name!r} in this store yet. Users are recorded by the store's admin "
            f"(their login is bound the first time they open the store with "
            f"WORKBENCH_DATABASE_ADMIN_URL set), then an owner adds them",
            user=name,
        )

    admin = create_store_engine(store.admin_url, store.settings.connect_timeout)
    try:
        return ensure_user(admin, name)[0]
    finally:
        admin.dispose()


def _membership(session: Session, store: Store, user_id: int) -> Membership | None:
    return session.get(Membership, (store.identity.organization_id, user_id))


def _require_member(session: Session, store: Store, user: str) -> Membership:
    user_id = session.scalar(select(User.id).where(User.name == user))
    row = None if user_id is None else _membership(session, store, user_id)
    if row is None:
        raise NotFoundError(
            f"{user!r} is not a member of {store.identity.organization!r}; see "
            "`workbench member list`",
            user=user,
        )
    return row


def _keep_an_owner(session: Session, store: Store, user: str) -> None:
    owners = session.scalar(
        select(func.count())
        .select_from(Membership)
        .where(
            Membership.organization_id == store.identity.organization_id,
            Membership.role == "owner",
        )
    )
    if (owners or 0) <= 1:
        raise InvalidInputError(
            f"{user!r} is the last owner of {store.identity.organization!r}; make another "
            "member owner first",
            user=user,
        )


def _audit(
    session: Session, store: Store, org_id: int, action: str, name: str, **details: Any
) -> None:
    record_event(
        session,
        store,
        action,
        object_type=action.split(".", 1)[0],
        object_name=name,
        organization_id=org_id,
        **details,
    )


def _exists(name: str) -> AlreadyExistsError:
    return AlreadyExistsError(
        f"An organization named {name!r} already exists; choose another name", organization=name
    )
