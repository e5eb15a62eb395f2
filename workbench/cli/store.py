"""``workbench init``, ``workbench doctor`` and ``workbench audit``: the store itself."""

from __future__ import annotations

import functools
import time
from collections.abc import Callable
from typing import Any

import click

from workbench.cli import state
from workbench.cli.output import emit, fields, table
from workbench.errors import WorkbenchError


@click.command()
def init() -> None:
    """Create the metadata store, or upgrade it to this version's schema (safe to repeat)."""
    from workbench.store.access import current_role

    store = state().store(migrate=True)
    store.cipher.ensure_key()
    before, after = store.schema_before, store.schema_revision
    action = "created" if before is None else ("current" if before == after else "upgraded")
    data = {
        "action": action,
        "store": store.url,
        "embedded": store.is_embedded,
        "pgdata": str(store.pgdata) if store.pgdata else None,
        "revision": after,
        "previous_revision": before,
        "key": store.cipher.key_source,
        "user": store.user,
        "organization": store.identity.organization,
        "role": current_role(store),
        "works_as": store.engine.url.username,  # the non-superuser role row-level security binds
    }
    verb = {"created": "Created", "upgraded": "Upgraded", "current": "Checked"}[action]

    def human() -> None:
        click.echo(f"{verb} the metadata store (schema revision {after}).")
        fields([(k, v) for k, v in data.items() if k != "action"])

    emit(data, human)


@click.command()
@click.option("--project", help="Also check that each connection of this project answers.")
@click.option(
    "--dask",
    "dask_address",
    help="Check this Dask scheduler's workers (default: WORKBENCH_DASK_ADDRESS); with "
    "--project, also that every worker reaches each connection.",
)
@click.option(
    "--follow",
    is_flag=True,
    help="With --project: also check that each source's changes can be followed after a copy "
    "(MySQL/MariaDB binlog, PostgreSQL logical replication), naming each setting to change.",
)
def doctor(project: str | None, dask_address: str | None, follow: bool) -> None:
    """Check the store, its schema revision, Dask and (with --project) connections."""
    cli = state()
    checks: list[dict[str, Any]] = []
    store = _check(checks, "store", lambda: _store_check(cli))
    if store is not None:
        _check(checks, "secrets", lambda: _secrets_check(store))
    address = dask_address or cli.settings.dask_address
    _check(checks, "dask", lambda: _dask_check(cli.settings, address))
    if project is not None and store is not None:
        found = _check(checks, "project", lambda: _project_check(store, project))
        for conn in found or []:
            advice = _check(
                checks,
                f"connection {conn.name}",
                functools.partial(_connection_check, store, conn),
            )
            if advice:  # server settings that slow a load: the check passes, with tips
                checks[-1]["advice"] = advice
            answered = checks[-1]["ok"]
            if address and answered:
                _check(
                    checks,
                    f"workers reach {conn.name}",
                    functools.partial(_workers_reach_check, store, conn, address),
                )
            if follow and answered and conn.role == "source":
                _check(checks, f"follow {conn.name}", functools.partial(_follow_check, store, conn))
    ok = all(c["ok"] for c in checks)

    def human() -> None:
        for c in checks:
            click.echo(f"{'ok  ' if c['ok'] else 'FAIL'}  {c['check']}: {c['detail']}")
            for tip in c.get("advice", []):
                click.echo(f"tip   {c['check']}: {tip}")

    emit({"ok": ok, "checks": checks}, human)
    if not ok:
        raise click.exceptions.Exit(1)


@click.command()
@click.option("--project", help="Only events of this project (name; also a deleted one's).")
@click.option("--limit", default=100, show_default=True, type=click.IntRange(1, 100_000))
def audit(project: str | None, limit: int) -> None:
    """List audit events, newest first: who changed what, and when."""
    from workbench.store.audit import list_events

    events = [e.to_dict() for e in list_events(state().store(), project, limit)]
    emit(
        events,
        lambda: table(
            events,
            ["at", "actor", "action", "object_type", "object_name", "details"],
            empty="No audit events.",
        ),
    )


# --- checks ------------------------------------------------------------------------------------


def _check(checks: list[dict[str, Any]], name: str, run: Callable[[], tuple[Any, str]]) -> Any:
    """Run one check (it returns a value and a detail); record the outcome, return the value."""
    from workbench.urls import mask_text

    started = time.monotonic()
    try:
        result, detail = run()
    except Exception as exc:  # the boundary of one check: recorded, reported, exit code 1
        message = exc.message if isinstance(exc, WorkbenchError) else f"{type(exc).__name__}: {exc}"
        checks.append({"check": name, "ok": False, "detail": mask_text(" ".join(message.split()))})
        return None
    checks.append(
        {
            "check": name,
            "ok": True,
            "detail": mask_text(str(detail)),
            "seconds": round(time.monotonic() - started, 3),
        }
    )
    return result


def _store_check(cli: Any) -> tuple[Any, str]:
    store = cli.store(migrate=False)
    kind = "embedded" if store.is_embedded else "server"
    return store, f"{store.url} ({kind}), schema revision {store.schema_revision} (current)"


def _project_check(store: Any, project: str) -> tuple[list[Any], str]:
    from workbench.store import connections

    found = connections.list_connections(store, project)
    return found, f"{project!r} has {len(found)} connection(s)"


def _secrets_check(store: Any) -> tuple[None, str]:
    from sqlalchemy import select

    from workbench.store.models import Connection

    with store.session() as session:
        row = session.execute(
            select(Connection.name, Connection.secret)
            .where(Connection.secret.is_not(None))
            .limit(1)
        ).first()
    if row is None:
        return None, f"no stored secrets yet; key from {store.cipher.key_source}"
    store.cipher.decrypt(row.secret, f"the password of connection {row.name!r}")
    return None, f"stored secrets decrypt with the key from {store.cipher.key_source}"


def _dask_check(settings: Any, address: str | None) -> tuple[None, str]:
    import operator

    from distributed import Client, LocalCluster

    if address:
        from workbench.engine.cluster import dask_client, installed_versions, worker_problems

        with dask_client(address, timeout=settings.connect_timeout) as client:
            if client.submit(operator.add, 1, 2).result(timeout=60) != 3:
                raise RuntimeError(f"a worker of {address} returned a wrong result")
            workers, problems = worker_problems(client)
        if problems:
            raise RuntimeError("; ".join(problems))
        have = installed_versions()
        return None, (
            f"scheduler {address} ran a task; {workers} workers, each with "
            f"workbench {have['workbench']}, pyarrow {have['pyarrow']} and Python "
            f"{have['python']} as the driver"
        )
    import logging

    with (
        LocalCluster(
            n_workers=1,
            threads_per_worker=1,
            processes=True,
            dashboard_address=":0",
            silence_logs=logging.ERROR,
        ) as cluster,
        Client(cluster) as client,
    ):
        if client.submit(operator.add, 1, 2).result(timeout=60) != 3:
            raise RuntimeError("a local Dask worker returned a wrong result")
    return None, "local cluster (1 worker process) started and ran a task"


def _follow_check(store: Any, conn: Any) -> tuple[None, str]:
    """The source's change stream can be followed: each missing setting or privilege named."""
    from workbench.connectors import connect
    from workbench.store.connections import connection_to_test

    url, label, options = connection_to_test(store, conn.project_id, conn.id)
    connector = connect(url, connect_timeout=store.settings.connect_timeout, options=options)
    try:
        problems = connector.change_stream_problems()
    finally:
        connector.close()
    if problems is None:
        raise RuntimeError(
            f"{label} ({conn.kind}) has no change stream to follow; copy it again to refresh it"
        )
    if problems:
        raise RuntimeError(f"{label} cannot be followed yet: " + "; ".join(map(str, problems)))
    return None, "ready to follow: every setting and privilege a follower needs is there"


def _workers_reach_check(store: Any, conn: Any, address: str) -> tuple[None, str]:
    """Every worker of the cluster opens the connection itself, as a job's tasks will."""
    from workbench.engine.cluster import dask_client, unreachable_from_workers
    from workbench.store.connections import connection_to_test

    url, label, options = connection_to_test(store, conn.project_id, conn.id)
    with dask_client(address, timeout=store.settings.connect_timeout) as client:
        workers = len(client.scheduler_info()["workers"])
        problems = unreachable_from_workers(
            client, label, url, options, store.settings.connect_timeout
        )
    if problems:
        raise RuntimeError("; ".join(problems))
    return None, f"each of {workers} workers opened it"


def _connection_check(store: Any, conn: Any) -> tuple[list[str], str]:
    """The connection answers; and its server's settings that would slow a load, if any."""
    from workbench.cli.connections import check_stored, stored_load_advice

    result = check_stored(store, conn.project_id, conn.id)
    advice = [str(a) for a in stored_load_advice(store, conn.project_id, conn.id)]
    return advice, f"{result.url} answered in {result.latency_ms:.0f} ms ({result.server_version})"


commands = [init, doctor, audit]
