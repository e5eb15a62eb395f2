"""The HTTP API served for real: uvicorn on a free port of 127.0.0.1, over a store in a fresh
database; tests talk to it with httpx over TCP, as an orchestrator would."""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import httpx
import pytest
import uvicorn

from workbench.httpapi.app import create_app
from workbench.store import open_store, organizations
from workbench.store.handle import Store
from workbench.store.tokens import create_token


@contextmanager
def serving(store: Store, **options: Any) -> Iterator[str]:
    """``create_app(store, **options)`` served until the block ends; its base URL."""
    app = create_app(store, **options)
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    server = uvicorn.Server(uvicorn.Config(app, log_level="warning", lifespan="on"))
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    deadline = time.monotonic() + 20
    while not server.started:
        assert thread.is_alive() and time.monotonic() < deadline, "the API did not start"
        time.sleep(0.02)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(30)
        sock.close()


def client(base: str, token: str | None) -> httpx.Client:
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    return httpx.Client(base_url=base, headers=headers, timeout=60)


def member(store: Store, user: str, role: str) -> Store:
    """``user`` added to the store's organization with ``role``; the store as they see it."""
    organizations.add_member(store, user, role)
    return open_store(store.settings.with_(user=user), create_user=False)


@pytest.fixture
def api(store) -> Iterator[str]:
    with serving(store) as base:
        yield base


@pytest.fixture
def owner_token(store) -> str:
    return create_token(store, "ci")[1]
