"""Projects, their connections (passwords write-only) and profiles."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request, status

from workbench.httpapi import guard
from workbench.httpapi.auth import CallerStore
from workbench.httpapi.bodies import NewConnection, NewProject, ProfileRequest
from workbench.store import access, connections, projects

router = APIRouter(tags=["projects"])


def connection_view(record: connections.ConnectionRecord) -> dict[str, Any]:
    """The stored connection: its URL never holds the password (``has_secret`` says if one
    is set)."""
    return record.to_dict()


@router.get("/me", tags=["identity"])
def me(store: CallerStore) -> dict[str, Any]:
    """Who the token acts as: user, organization and role there."""
    ident = store.identity
    return {"user": ident.user, "organization": ident.organization,
            "role": access.current_role(store)}  # fmt: skip


@router.get("/projects")
def list_projects(store: CallerStore, include_archived: bool = False) -> list[dict[str, Any]]:
    return [_project(p) for p in projects.list_projects(store, include_archived)]


@router.post("/projects", status_code=status.HTTP_201_CREATED)
def create_project(store: CallerStore, body: NewProject) -> dict[str, Any]:
    return _project(projects.create_project(store, body.name, body.description))


@router.get("/projects/{project}")
def get_project(store: CallerStore, project: str) -> dict[str, Any]:
    return _project(projects.get_project(store, project))


@router.delete("/projects/{project}")
def delete_project(store: CallerStore, project: str) -> dict[str, Any]:
    """Delete the project with its connections, mappings and jobs (what went is returned)."""
    return projects.delete_project(store, project)


@router.get("/projects/{project}/connections")
def list_connections(store: CallerStore, project: str) -> list[dict[str, Any]]:
    return [connection_view(c) for c in connections.list_connections(store, project)]


@router.post("/projects/{project}/connections", status_code=status.HTTP_201_CREATED)
def add_connection(
    store: CallerStore, project: str, body: NewConnection, request: Request
) -> dict[str, Any]:
    """Store a connection; its password (in the URL or ``password``) is kept encrypted and
    never returned. A path on the server's disk is refused (see httpapi/guard.py)."""
    access.require(store, "edit", f"add connection {body.name!r} to project {project!r}")
    guard.check_url(body.url, request.app.state.file_roots, f"Connection {body.name!r}")
    if body.replace:
        try:
            connections.get_connection(store, project, body.name)
        except LookupError:
            pass
        else:
            connections.remove_connection(store, project, body.name)
    record = connections.add_connection(
        store, project, body.name, body.url, password=body.password, role=body.role
    )
    return connection_view(record)


@router.get("/projects/{project}/connections/{name}")
def get_connection(store: CallerStore, project: str, name: str) -> dict[str, Any]:
    return connection_view(connections.get_connection(store, project, name))


@router.delete("/projects/{project}/connections/{name}", status_code=status.HTTP_204_NO_CONTENT)
def remove_connection(store: CallerStore, project: str, name: str) -> None:
    connections.remove_connection(store, project, name)


@router.post("/projects/{project}/connections/{name}/profiles")
def profile(
    store: CallerStore, project: str, name: str, body: ProfileRequest, request: Request
) -> list[Any]:
    """Profile the connection's tables (unchanged tables' stored profiles are reused)."""
    from workbench.profiling import profiles_for

    access.require(store, "edit", f"profile connection {name!r}")
    record = connections.get_connection(store, project, name)
    guard.check_url(record.url, request.app.state.file_roots, f"Connection {name!r}")
    found = profiles_for(
        store,
        connections.connection_url(store, record),
        body.tables,
        refresh=body.refresh,
        connect_options=dict(record.options or {}),
    )
    return [p.as_dict() for p in found]


def _project(record: projects.ProjectRecord) -> dict[str, Any]:
    return record.to_dict()
