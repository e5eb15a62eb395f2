"""Who is calling: a user's token, checked on every request, and its rate limit.

Both run on the event loop (an asyncio engine, the limits package's asyncio limiter): the
request's one trip to a worker thread is its endpoint's own.

The server opens the store once with the owner's login (a trusted process, like the
dashboards' server); a token is looked up by its hash with that login, and the request then
works through the store's gateway as the token's user, in the token's organization: row-level
security and the role checks apply exactly as they do for that user's notebook.
"""

from __future__ import annotations

import math
import threading
import time
from typing import Annotated

import psycopg
from fastapi import Depends, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from limits import RateLimitItem, parse
from limits.aio.storage import MemoryStorage
from limits.aio.storage import Storage as AsyncStorage
from limits.aio.strategies import MovingWindowRateLimiter
from limits.storage import storage_from_string
from psycopg_pool import AsyncConnectionPool

from workbench.errors import InvalidInputError
from workbench.httpapi.problems import NotAuthenticatedError, RateLimitedError
from workbench.httpapi.tracing import tag_caller
from workbench.store.handle import Store
from workbench.store.tokens import TokenOwner, find_token_async

bearer = HTTPBearer(auto_error=False, description="A token from `workbench token create NAME`")


class RateLimit:
    """At most ``limit`` requests per token (``"600/minute"``, ``"20/second"``), in a moving
    window; kept in memory, or in Redis (``storage="redis://host:6379"``) when several server
    processes share the limit."""

    def __init__(self, limit: str, storage: str | None = None) -> None:
        try:
            self.item: RateLimitItem = parse(limit)
        except ValueError as exc:
            raise InvalidInputError(
                f"A rate limit reads like '600/minute' or '20/second', got {limit!r}"
            ) from exc
        self.limit = limit
        if storage and not storage.startswith("async+"):
            storage = "async+" + storage  # the limits package's asyncio storages
        backend = storage_from_string(storage) if storage else MemoryStorage()
        assert isinstance(backend, AsyncStorage)
        self.limiter = MovingWindowRateLimiter(backend)

    async def hit(self, token_id: int) -> None:
        key = f"token-{token_id}"
        if await self.limiter.hit(self.item, key):
            return
        reset = (await self.limiter.get_window_stats(self.item, key)).reset_time
        retry_after = max(1, math.ceil(reset - time.time()))
        raise RateLimitedError(
            f"This token made more than {self.limit} requests; retry after {retry_after} s",
            limit=self.limit,
            retry_after=retry_after,
        )


class Callers:
    """Tokens to the store as their user sees it; one store (and pool) per user and
    organization, made on first use."""

    def __init__(self, store: Store, admin: AsyncConnectionPool, rate_limit: RateLimit) -> None:
        self.store, self.admin, self.rate_limit = store, admin, rate_limit
        self._stores: dict[tuple[int, str], Store] = {}
        self._lock = threading.Lock()

    async def store_for(self, token: str) -> Store:
        owner = await self._find(token)
        if owner is None:
            raise NotAuthenticatedError(
                "The token is unknown, revoked or expired; make one with "
                "`workbench token create NAME` and send it as 'Authorization: Bearer TOKEN'"
            )
        tag_caller(owner.user, owner.organization)
        await self.rate_limit.hit(owner.token_id)
        with self._lock:
            known = self._stores.get((owner.user_id, owner.organization))
        # a user's first request resolves their identity in the store (a blocking read)
        store = known if known is not None else await run_in_threadpool(self._user_store, owner)
        # the role was read with the token, a moment ago: this request's checks use it
        return store.knowing_role(owner.role)

    async def _find(self, token: str) -> TokenOwner | None:
        """The lookup; when the connection the pool gave was lost (the store restarted), the
        pool's idle connections are checked (the lost ones dropped) and it is tried once more."""
        try:
            async with self.admin.connection() as conn:
                return await find_token_async(conn, token)
        except psycopg.OperationalError:
            await self.admin.check()
        async with self.admin.connection() as conn:
            return await find_token_async(conn, token)

    def _user_store(self, owner: TokenOwner) -> Store:
        key = (owner.user_id, owner.organization)
        with self._lock:
            found = self._stores.get(key)
        if found is None:
            if owner.db_role is None:
                raise NotAuthenticatedError(
                    f"User {owner.user!r} has no role in the store yet; run `workbench init` "
                    "once as the store's owner"
                )
            found = self.store.as_user(owner.user, owner.user_id, owner.db_role, owner.organization)
            with self._lock:
                self._stores[key] = found
        return found


async def caller_store(
    request: Request,
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(bearer)],
) -> Store:
    """The dependency every ``/api/v1`` route takes: the store as the token's user sees it."""
    if credentials is None:
        raise NotAuthenticatedError(
            "No token: send 'Authorization: Bearer TOKEN' with a token from "
            "`workbench token create NAME`"
        )
    callers: Callers = request.app.state.callers
    return await callers.store_for(credentials.credentials)


CallerStore = Annotated[Store, Depends(caller_store)]
