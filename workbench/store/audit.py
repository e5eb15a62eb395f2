"""Audit events: who changed what, on which object, when. Written in the same transaction as
the change they describe, so a change and its event are stored together or not at all."""

from __future__ import annotations

from dataclasses import asdict, dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any

from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from workbench.errors import NotFoundError
from workbench.store.access import require
from workbench.store.models import AuditEvent
from workbench.store.redact import redact

if TYPE_CHECKING:
    from workbench.store.handle import Store


@dataclass(frozen=True)
class AuditRecord:
    id: int
    at: datetime
    actor: str
    action: str
    object_type: str
    object_id: int | None
    object_name: str | None
    project_id: int | None
    details: dict[str, Any]

    def to_dict(self) -> dict[str, Any]:
        data = asdict(self)
        data["at"] = self.at.isoformat()
        return data


def record_event(
    session: Session,
    store: Store,
    action: str,
    *,
    object_type: str,
    object_id: int | None = None,
    object_name: str | None = None,
    project_id: int | None = None,
    organization_id: int | None = None,
    **details: Any,
) -> None:
    """Add an audit event to ``session`` (the caller's transaction); details are redacted.

    The event belongs to the current organization unless ``organization_id`` names another
    (creating an organization); the database accepts only the transaction's organization.
    """
    session.add(
        AuditEvent(
            actor=store.user,
            action=action,
            object_type=object_type,
            object_id=object_id,
            object_name=object_name,
            organization_id=organization_id or store.identity.organization_id,
            project_id=project_id,
            details=redact(details, key_depth=1),
        )
    )


def record_dashboard_login(store: Store, dashboard: str, via: str) -> None:
    """A user opened a dashboard (Panel monitor login, Voilà report view): who, which, how."""
    with store.session() as session:
        record_event(
            session,
            store,
            "dashboard.login",
            object_type="dashboard",
            object_name=dashboard,
            via=via,
        )


def record_dashboard_view(store: Store, dashboard: str) -> None:
    """A user viewed a dashboard page (each Voilà report page is one view)."""
    with store.session() as session:
        record_event(
            session, store, "dashboard.view", object_type="dashboard", object_name=dashboard
        )


def list_events(
    store: Store, project: str | int | None = None, limit: int = 100
) -> list[AuditRecord]:
    """Newest events first; with ``project`` (name or id), only that project's events.

    A deleted project is still found by the name it had when it was deleted.
    """
    require(store, "read")
    query = select(AuditEvent).order_by(AuditEvent.at.desc(), AuditEvent.id.desc()).limit(limit)
    if project is not None:
        query = query.where(AuditEvent.project_id.in_(_project_ids(store, project)))
    with store.session() as session:
        return [audit_record(row) for row in session.scalars(query)]


def _project_ids(store: Store, project: str | int) -> list[int]:
    from workbench.store.projects import project_row  # a cycle: projects imports this module

    if isinstance(project, int):
        return [project]
    with store.session() as session:
        row = project_row(session, store, project, missing_ok=True)
        if row is not None:
            return [row.id]
        # deleted projects: their events keep the id, and the delete event keeps the name
        found = session.scalars(
            select(AuditEvent.project_id)
            .where(
                AuditEvent.object_type == "project",
                AuditEvent.organization_id == store.identity.organization_id,
                or_(
                    AuditEvent.object_name == project,
                    AuditEvent.details["name"].astext == project,
                ),
            )
            .distinct()
        ).all()
    ids = [i for i in found if i is not None]
    if not ids:
        raise NotFoundError(
            f"No project named {project!r} and no audit events of one; "
            "list projects with `workbench project list --all`",
            project=project,
        )
    return ids


def audit_record(row: AuditEvent) -> AuditRecord:
    """The plain record of a stored event (for modules that query events themselves)."""
    return AuditRecord(
        id=row.id,
        at=row.at,
        actor=row.actor,
        action=row.action,
        object_type=row.object_type,
        object_id=row.object_id,
        object_name=row.object_name,
        project_id=row.project_id,
        details=row.details,
    )
