"""``workbench project create|list|show|rename|archive|restore|delete``."""

from __future__ import annotations

import click

from workbench.cli import state
from workbench.cli.output import emit, fields, table

_COLUMNS = ["name", "status", "description", "created_by", "created_at"]


@click.group()
def project() -> None:
    """Create, list, show, archive and delete projects."""


@project.command()
@click.argument("name")
@click.option("--description", "-d", help="Up to 1,000 characters.")
def create(name: str, description: str | None) -> None:
    """Create a project NAME in the current organization."""
    from workbench.store import projects

    record = projects.create_project(state().store(), name, description)
    emit(record.to_dict(), f"Created project {record.name!r} (id {record.id}).")


@project.command("list")
@click.option("--all", "include_archived", is_flag=True, help="Include archived projects.")
def list_(include_archived: bool) -> None:
    """List projects (active ones unless --all)."""
    from workbench.store import projects

    rows = [p.to_dict() for p in projects.list_projects(state().store(), include_archived)]
    emit(rows, lambda: table(rows, _COLUMNS, empty="No projects yet: `workbench project create`"))


@project.command()
@click.argument("name")
def show(name: str) -> None:
    """Show a project and its connections."""
    from workbench.store import connections, projects

    store = state().store()
    record = projects.get_project(store, name)
    conns = [c.to_dict() for c in connections.list_connections(store, record.id)]
    data = {**record.to_dict(), "connections": conns}

    def human() -> None:
        fields([(k, v) for k, v in record.to_dict().items()])
        click.echo("")
        table(conns, ["name", "kind", "role", "url", "has_secret"], empty="No connections.")

    emit(data, human)


@project.command()
@click.argument("name")
@click.argument("new_name")
def rename(name: str, new_name: str) -> None:
    """Rename project NAME to NEW_NAME."""
    from workbench.store import projects

    record = projects.rename_project(state().store(), name, new_name)
    emit(record.to_dict(), f"Renamed project {name!r} to {record.name!r}.")


@project.command()
@click.argument("name")
def archive(name: str) -> None:
    """Archive a project: hidden from `project list`, read-only, data kept."""
    from workbench.store import projects

    record = projects.archive_project(state().store(), name)
    emit(record.to_dict(), f"Archived project {record.name!r}.")


@project.command()
@click.argument("name")
def restore(name: str) -> None:
    """Make an archived project active again."""
    from workbench.store import projects

    record = projects.restore_project(state().store(), name)
    emit(record.to_dict(), f"Restored project {record.name!r}.")


@project.command()
@click.argument("name")
@click.option("--yes", is_flag=True, help="Do not ask for confirmation.")
def delete(name: str, yes: bool) -> None:
    """Delete a project with its connections, mappings and jobs (the audit trail stays)."""
    from workbench.store import projects

    store = state().store()
    record = projects.get_project(store, name)
    if not yes:
        click.confirm(
            f"Delete project {record.name!r} with all its connections, mappings and jobs?",
            abort=True,
            err=True,
        )
    result = projects.delete_project(store, record.id)
    counts = result["deleted"]
    emit(
        result,
        f"Deleted project {record.name!r} ({counts['connections']} connection(s), "
        f"{counts['jobs']} job(s)).",
    )


commands = [project]
