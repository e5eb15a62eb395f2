"""``workbench serve`` (the HTTP API) and ``workbench token create|list|revoke`` (its tokens)."""

from __future__ import annotations

import click

from workbench.cli import state
from workbench.cli.output import emit, table


@click.command("serve")
@click.option(
    "--host",
    default="127.0.0.1",
    show_default=True,
    help="Address to listen on (0.0.0.0: every interface; put TLS in front).",
)
@click.option("--port", type=click.IntRange(0, 65535), default=8750, show_default=True)
@click.option(
    "--rate-limit",
    default="600/minute",
    show_default=True,
    metavar="N/PERIOD",
    help="Requests per token, in a moving window ('20/second', '1000/hour').",
)
@click.option(
    "--rate-limit-storage",
    metavar="URL",
    help="Share the limit between server processes: redis://host:6379.",
)
@click.option(
    "--dask",
    "dask_address",
    metavar="ADDRESS",
    help="The scheduler /health/ready checks (default WORKBENCH_DASK_ADDRESS).",
)
@click.option("--workers", type=click.IntRange(1), default=1, show_default=True,
              help="Server processes (one per core serves the most requests; with more than "
              "one, give --rate-limit-storage so that they share each token's limit).")  # fmt: skip
@click.option("--files-under", multiple=True, metavar="DIR",
              help="Allow SQLite/DuckDB/CSV/Parquet sources under DIR (default: none; the "
              "server would read its own disk for its callers).")  # fmt: skip
def serve(host, port, rate_limit, rate_limit_storage, dask_address, workers, files_under) -> None:
    """Serve the HTTP API under /api/v1 (OpenAPI at /api/v1/docs) until interrupted.

    Callers send a user's token (`workbench token create NAME`) as 'Authorization: Bearer
    TOKEN' and act as that user. The server needs the store owner's login (the embedded
    store, or WORKBENCH_DATABASE_URL/WORKBENCH_DATABASE_ADMIN_URL).
    """
    try:
        import uvicorn

        from workbench.httpapi.app import create_app
    except ImportError as exc:
        raise click.ClickException(
            f"The HTTP API needs the `api` extra ({exc.name} is missing): "
            "pip install 'workbench[api]'"
        ) from exc

    cli = state()
    options = {
        "rate_limit": rate_limit,
        "rate_limit_storage": rate_limit_storage,
        "dask_address": dask_address or cli.settings.dask_address,
        "files_under": list(files_under),
    }
    store = cli.store()  # opened (and upgraded) once here, whatever the number of workers
    click.echo(f"workbench API on http://{host}:{port}/api/v1 (docs: /api/v1/docs)", err=True)
    if workers == 1:
        uvicorn.run(create_app(store, **options), host=host, port=port, log_level="warning")
        return
    import json
    import os

    from workbench.httpapi.app import SERVE_OPTIONS

    os.environ[SERVE_OPTIONS] = json.dumps(options)
    os.environ["WORKBENCH_USER"] = store.user
    uvicorn.run("workbench.httpapi.app:from_environment", factory=True, workers=workers,
                host=host, port=port, log_level="warning")  # fmt: skip


@click.group()
def token() -> None:
    """Tokens for the HTTP API: each acts as you, in the organization you work in."""


@token.command("create")
@click.argument("name")
@click.option("--expires-days", type=click.IntRange(1), help="Valid for this many days.")
def token_create(name: str, expires_days: int | None) -> None:
    """Make token NAME; it is printed once (only its hash is kept)."""
    from workbench.store.tokens import create_token

    record, secret = create_token(state().store(), name, expires_days=expires_days)
    emit(
        {**record.to_dict(), "token": secret},
        lambda: click.echo(
            f"{secret}\n(token {record.name!r} for {record.user}; shown this once: keep it in "
            "your orchestrator's secret store)"
        ),
    )


@token.command("list")
@click.option("--all", "every_user", is_flag=True, help="Every member's tokens (owners).")
def token_list(every_user: bool) -> None:
    """Your tokens (never the tokens themselves: their first characters)."""
    from workbench.store.tokens import list_tokens

    rows = [t.to_dict() for t in list_tokens(state().store(), every_user=every_user)]
    emit(
        rows, lambda: table(rows, ["name", "user", "prefix", "created_at", "expires_at", "active"])
    )


@token.command("revoke")
@click.argument("name")
@click.option("--user", help="Another member's token (owners).")
def token_revoke(name: str, user: str | None) -> None:
    """Revoke token NAME: it stops working at once."""
    from workbench.store.tokens import revoke_token

    record = revoke_token(state().store(), name, user=user)
    emit(record.to_dict(), f"Token {record.name!r} of {record.user} revoked.")


commands = [serve, token]
