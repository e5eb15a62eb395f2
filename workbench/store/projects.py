"""Projects: create, list, get, rename, archive, restore, delete.

Every function takes the open :class:`~workbench.store.Store` first; a project is named by
its name (within the current organization) or its id. Each change records an audit event.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any, Literal, overload

from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from workbench.errors import AlreadyExistsError, InvalidInputError, NotFoundError
from workbench.store.access import require
from workbench.store.audit import record_event
from workbench.store.models import Connection, MigrationJob, Project
from workbench.store.names import clean_description, clean_name

if TYPE_CHECKING:
    from workbench.store.handle import Store

ProjectRef = str | int  # a project's name or id


@dataclass(frozen=True)
class ProjectRecord:
    id: int
    name: str
    description: str | None
    status: str
    organization: str
    created_by: str
    created_at: datetime
    updated_at: datetime

    @property
    def is_archived(self) -> bool:
        return self.status == "archived"

    def to_dict(self) -> dict[str, Any]:
        data = asdict(self)
        data["created_at"] = self.created_at.isoformat()
        data["updated_at"] = self.updated_at.isoformat()
        return data


def create_project(store: Store, name: str, description: str | None = None) -> ProjectRecord:
    require(store, "edit")
    name = clean_name(name, "project name")
    description = clean_description(description)
    with store.session() as session:
        if project_row(session, store, name, missing_ok=True) is not None:
            raise _exists(name)
        row = Project(
            organization_id=store.identity.organization_id,
            name=name,
            description=description,
            created_by=store.user,
        )
        session.add(row)
        _flush_unique(session, name)
        record_event(
            session,
            store,
            "project.create",
            object_type="project",
            object_id=row.id,
            object_name=name,
            project_id=row.id,
            description=description,
        )
        return _record(store, row)


def list_projects(store: Store, include_archived: bool = False) -> list[ProjectRecord]:
    require(store, "read")
    query = select(Project).where(Project.organization_id == store.identity.organization_id)
    if not include_archived:
        query = query.where(Project.status == "active")
    with store.session() as session:
        return [_record(store, row) for row in session.scalars(query.order_by(Project.name))]


def get_project(store: Store, project: ProjectRef) -> ProjectRecord:
    require(store, "read")
    with store.session() as session:
        return _record(store, project_row(session, store, project))


def rename_project(store: Store, project: ProjectRef, new_name: str) -> ProjectRecord:
    require(store, "edit")
    new_name = clean_name(new_name, "project name")
    with store.session() as session:
        row = project_row(session, store, project)
        old_name = row.name
        if new_name == old_name:
            return _record(store, row)
        if project_row(session, store, new_name, missing_ok=True) is not None:
            raise _exists(new_name)
        row.name = new_name
        _flush_unique(session, new_name)
        record_event(
            session,
            store,
            "project.rename",
            object_type="project",
            object_id=row.id,
            object_name=new_name,
            project_id=row.id,
            old_name=old_name,
            name=new_name,
        )
        return _record(store, row)


def describe_project(store: Store, project: ProjectRef, description: str | None) -> ProjectRecord:
    require(store, "edit")
    description = clean_description(description)
    with store.session() as session:
        row = project_row(session, store, project)
        row.description = description
        session.flush()
        record_event(
            session,
            store,
            "project.describe",
            object_type="project",
            object_id=row.id,
            object_name=row.name,
            project_id=row.id,
            description=description,
        )
        return _record(store, row)


def archive_project(store: Store, project: ProjectRef) -> ProjectRecord:
    """Hide a project from the default listing and refuse changes to it; keeps all its data."""
    require(store, "edit")
    return _set_status(store, project, "archived")


def restore_project(store: Store, project: ProjectRef) -> ProjectRecord:
    require(store, "edit")
    return _set_status(store, project, "active")


def delete_project(store: Store, project: ProjectRef) -> dict[str, Any]:
    """Delete a project with its connections, mappings and jobs; returns what was deleted."""
    require(store, "manage")
    with store.session() as session:
        row = project_row(session, store, project)
        counts = {
            "connections": session.scalar(
                select(func.count()).where(Connection.project_id == row.id)
            ),
            "jobs": session.scalar(select(func.count()).where(MigrationJob.project_id == row.id)),
        }
        session.delete(row)
        session.flush()
        record_event(
            session,
            store,
            "project.delete",
            object_type="project",
            object_id=row.id,
            object_name=row.name,
            project_id=row.id,
            name=row.name,
            deleted=counts,
        )
        return {"id": row.id, "name": row.name, "deleted": counts}


@overload
def project_row(
    session: Session, store: Store, project: ProjectRef, *, missing_ok: Literal[False] = False
) -> Project: ...
@overload
def project_row(
    session: Session, store: Store, project: ProjectRef, *, missing_ok: bool
) -> Project | None: ...
def project_row(
    session: Session, store: Store, project: ProjectRef, *, missing_ok: bool = False
) -> Project | None:
    """The project's row in the current organization, by name or id."""
    query = select(Project).where(Project.organization_id == store.identity.organization_id)
    if isinstance(project, bool) or not isinstance(project, str | int):
        raise InvalidInputError(f"A project is named by its name or id, got {project!r}")
    if isinstance(project, int):
        query = query.where(Project.id == project)
    else:
        query = query.where(Project.name == project.strip())
    row = session.scalars(query).one_or_none()
    if row is None and not missing_ok:
        raise NotFoundError(
            f"No project {project!r} in organization {store.identity.organization!r}; "
            "list projects with `workbench project list --all` or create it with "
            "`workbench project create`",
            project=project,
        )
    return row


def require_active(row: Project) -> None:
    if row.status != "active":
        raise InvalidInputError(
            f"Project {row.name!r} is archived; restore it before changing it",
            project=row.name,
        )


def _set_status(store: Store, project: ProjectRef, status: str) -> ProjectRecord:
    with store.session() as session:
        row = project_row(session, store, project)
        if row.status == status:
            return _record(store, row)
        row.status = status
        session.flush()
        record_event(
            session,
            store,
            "project.archive" if status == "archived" else "project.restore",
            object_type="project",
            object_id=row.id,
            object_name=row.name,
            project_id=row.id,
        )
        return _record(store, row)


def _flush_unique(session: Session, name: str) -> None:
    """Flush, turning a lost race on the unique name into AlreadyExistsError."""
    try:
        session.flush()
    except IntegrityError as exc:
        if getattr(exc.orig, "sqlstate", None) == "23505":
            raise _exists(name) from exc
        raise


def _exists(name: str) -> AlreadyExistsError:
    return AlreadyExistsError(
        f"A project named {name!r} already exists; choose another name, or see it with "
        f"`workbench project show {name!r}`",
        project=name,
    )


def _record(store: Store, row: Project | None) -> ProjectRecord:
    assert row is not None
    return ProjectRecord(
        id=row.id,
        name=row.name,
        description=row.description,
        status=row.status,
        organization=store.identity.organization,
        created_by=row.created_by,
        created_at=row.created_at,
        updated_at=row.updated_at,
    )
