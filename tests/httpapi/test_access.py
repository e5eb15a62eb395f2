"""Who may do what through the API: tokens, roles, organizations, rate limits, the error
shape, and secrets that never come back."""

from __future__ import annotations

import socket
import time

import psycopg

from tests.httpapi.conftest import client, member, serving
from workbench.store import organizations
from workbench.store.tokens import create_token, list_tokens, revoke_token


def _error(response) -> dict:
    body = response.json()
    assert set(body) == {"error"} and set(body["error"]) == {"type", "message", "fields"}
    return body["error"]


def test_no_token_or_an_unknown_one_is_refused_with_one_error_shape(api, store):
    anonymous = client(api, None).get("/api/v1/projects")
    assert anonymous.status_code == 401
    assert anonymous.headers["WWW-Authenticate"] == "Bearer"
    assert _error(anonymous)["type"] == "NotAuthenticatedError"
    assert "workbench token create" in _error(anonymous)["message"]
    made_up = client(api, "wbt_" + "x" * 43).get("/api/v1/projects")
    assert made_up.status_code == 401 and _error(made_up)["type"] == "NotAuthenticatedError"


def test_a_token_acts_as_its_user_and_stops_at_once_when_revoked(
    api, store, owner_token, store_url
):
    http = client(api, owner_token)
    me = http.get("/api/v1/me").json()
    assert me == {"user": "tester", "organization": "default", "role": "owner"}
    assert http.post("/api/v1/projects", json={"name": "shop"}).status_code == 201
    assert [p["name"] for p in http.get("/api/v1/projects").json()] == ["shop"]
    # only the hash is kept: the token itself is nowhere in the store
    with psycopg.connect(store_url) as conn:
        dump = [r for (r,) in conn.execute("SELECT row_to_json(t)::text FROM api_tokens t")]
    assert len(dump) == 1 and owner_token not in dump[0] and owner_token[:20] not in dump[0]
    revoke_token(store, "ci")
    assert [t.active for t in list_tokens(store)] == [False]
    assert http.get("/api/v1/projects").status_code == 401


def test_a_viewer_reads_but_every_write_is_refused(api, store):
    vera = member(store, "vera", "viewer")
    try:
        token = create_token(vera, "dash")[1]
    finally:
        vera.close()
    owner = client(api, create_token(store, "ci")[1])
    owner.post("/api/v1/projects", json={"name": "shop"})
    viewer = client(api, token)
    assert [p["name"] for p in viewer.get("/api/v1/projects").json()] == ["shop"]
    writes = [
        viewer.post("/api/v1/projects", json={"name": "mine"}),
        viewer.delete("/api/v1/projects/shop"),
        viewer.post(
            "/api/v1/projects/shop/connections",
            json={"name": "src", "url": "sqlite:////tmp/x.sqlite"},
        ),
        viewer.post("/api/v1/projects/shop/jobs", json={"kind": "migrate"}),
    ]
    for refused in writes:
        assert refused.status_code == 403, refused.text
        error = _error(refused)
        assert error["type"] == "PermissionDeniedError"
        assert error["fields"]["role"] == "viewer" and error["fields"]["needed"] in (
            "editor",
            "owner",
        )
    assert [p["name"] for p in owner.get("/api/v1/projects").json()] == ["shop"]
    # demoted or promoted, the token's rights follow the membership at once
    organizations.set_member_role(store, "vera", "editor")
    assert viewer.post("/api/v1/projects", json={"name": "mine"}).status_code == 201
    organizations.remove_member(store, "vera")
    assert viewer.get("/api/v1/projects").status_code == 403


def test_another_organizations_objects_are_invisible(api, store):
    owner = client(api, create_token(store, "ci")[1])
    owner.post("/api/v1/projects", json={"name": "ours"})
    organizations.create_organization(store, "beta")
    beta = store.in_organization("beta")
    organizations.add_member(beta, "bob", "owner")
    organizations.remove_member(beta, "tester")
    bob = client(api, _token_of(store, "bob", "beta"))
    assert bob.get("/api/v1/me").json()["organization"] == "beta"
    assert bob.post("/api/v1/projects", json={"name": "theirs"}).status_code == 201
    assert [p["name"] for p in bob.get("/api/v1/projects").json()] == ["theirs"]
    assert [p["name"] for p in owner.get("/api/v1/projects").json()] == ["ours"]
    missing = bob.get("/api/v1/projects/ours")
    assert missing.status_code == 404 and _error(missing)["type"] == "NotFoundError"
    assert bob.get("/api/v1/projects/ours/connections").status_code == 404
    assert owner.get("/api/v1/projects/theirs").status_code == 404


def _token_of(store, user: str, organization: str) -> str:
    from workbench.store import open_store

    theirs = open_store(store.settings.with_(user=user, organization=organization))
    try:
        return create_token(theirs, "t")[1]
    finally:
        theirs.close()


def test_the_rate_limit_answers_429_with_retry_after(store):
    token = create_token(store, "ci")[1]
    other = create_token(store, "other")[1]
    with serving(store, rate_limit="5/minute") as base:
        http = client(base, token)
        answers = [http.get("/api/v1/projects").status_code for _ in range(7)]
        assert answers == [200] * 5 + [429] * 2
        limited = http.get("/api/v1/projects")
        assert 1 <= int(limited.headers["Retry-After"]) <= 60
        error = _error(limited)
        assert error["type"] == "RateLimitedError" and error["fields"]["limit"] == "5/minute"
        assert client(base, other).get("/api/v1/projects").status_code == 200  # per token
        assert client(base, None).get("/health/live").status_code == 200  # probes are free


def test_a_connections_password_is_write_only(api, store, owner_token, tmp_path):
    http = client(api, owner_token)
    http.post("/api/v1/projects", json={"name": "shop"})
    made = http.post(
        "/api/v1/projects/shop/connections",
        json={"name": "tgt", "url": "postgresql://app:Url-Pw-31@db.example/shop", "role": "target"},
    )
    assert made.status_code == 201, made.text
    assert made.json()["has_secret"] is True
    again = http.post(
        "/api/v1/projects/shop/connections",
        json={"name": "src", "url": "mysql://app@db.example/shop", "password": "Field-Pw-47"},
    )
    assert again.status_code == 201
    for path in (
        "/api/v1/projects/shop/connections",
        "/api/v1/projects/shop/connections/tgt",
        "/api/v1/projects/shop/connections/src",
    ):
        text = http.get(path).text
        assert "Url-Pw-31" not in text and "Field-Pw-47" not in text
    listed = {c["name"]: c for c in http.get("/api/v1/projects/shop/connections").json()}
    assert listed["tgt"]["url"] == "postgresql://app@db.example/shop"
    assert listed["src"]["has_secret"] is True
    taken = http.post(
        "/api/v1/projects/shop/connections", json={"name": "src", "url": "mysql://app@db.example/x"}
    )
    assert taken.status_code == 409 and _error(taken)["type"] == "AlreadyExistsError"


def test_bad_requests_name_the_problem(api, owner_token):
    http = client(api, owner_token)
    bad = http.post("/api/v1/projects", json={"description": "no name"})
    assert bad.status_code == 422
    error = _error(bad)
    assert error["type"] == "InvalidInputError" and "body.name" in error["message"]
    nowhere = http.get("/api/v1/nothing-here")
    assert nowhere.status_code == 404 and "/api/v1/docs" in _error(nowhere)["message"]
    job = http.get("/api/v1/jobs/999999")
    assert job.status_code == 404 and _error(job)["type"] == "NotFoundError"


def test_the_openapi_document_and_its_page_are_served(api):
    http = client(api, None)
    document = http.get("/api/v1/openapi.json").json()
    assert document["info"]["title"] == "workbench"
    paths = document["paths"]
    for path in (
        "/api/v1/projects",
        "/api/v1/projects/{project}/connections",
        "/api/v1/projects/{project}/matches",
        "/api/v1/jobs/{job_id}",
        "/api/v1/jobs/{job_id}/cancel",
        "/api/v1/projects/{project}/lineage",
        "/health/ready",
    ):
        assert path in paths, path
    schemes = document["components"]["securitySchemes"]
    assert any(s.get("scheme") == "bearer" for s in schemes.values())
    page = http.get("/api/v1/docs")
    assert page.status_code == 200 and "swagger" in page.text.lower()


def test_liveness_and_readiness(api):
    http = client(api, None)
    assert http.get("/health/live").json() == {"status": "live"}
    began = time.monotonic()
    ready = http.get("/health/ready")
    assert ready.status_code == 200, ready.text
    assert ready.json()["checks"]["store"]["ok"] is True
    assert time.monotonic() - began < 5


def test_readiness_checks_the_dask_scheduler_within_its_timeout(store, shared_dask):
    with serving(store, dask_address=shared_dask) as base:
        ready = client(base, None).get("/health/ready")
        assert ready.status_code == 200, ready.text
        dask = ready.json()["checks"]["dask"]
        assert dask["ok"] is True and "worker(s)" in dask["detail"]
    with socket.socket() as unused:  # a port nobody listens on
        unused.bind(("127.0.0.1", 0))
        nowhere = f"tcp://127.0.0.1:{unused.getsockname()[1]}"
    with serving(store, dask_address=nowhere, ready_timeout=1.0) as base:
        began = time.monotonic()
        down = client(base, None).get("/health/ready")
        assert time.monotonic() - began < 5
        assert down.status_code == 503
        body = down.json()
        assert body["checks"]["dask"]["ok"] is False and body["checks"]["store"]["ok"] is True


def test_the_servers_disk_and_code_running_options_are_refused(store, tmp_path):
    token = create_token(store, "ci")[1]
    allowed = tmp_path / "exports"
    allowed.mkdir()
    with serving(store, files_under=(allowed,)) as base:
        http = client(base, token)
        http.post("/api/v1/projects", json={"name": "shop"})
        for url in (
            "sqlite:////etc/passwd",
            "csv:///etc",
            "duckdb:////root/secrets.duckdb",
            f"sqlite:///{allowed}/../../elsewhere.db",
        ):
            refused = http.post("/api/v1/projects/shop/connections", json={"name": "x", "url": url})
            assert refused.status_code == 403, (url, refused.text)
            assert "--files-under" in _error(refused)["message"]
        inside = http.post(
            "/api/v1/projects/shop/connections",
            json={"name": "lake", "url": f"parquet://{allowed}"},
        )
        assert inside.status_code == 201, inside.text
        http.post(
            "/api/v1/projects/shop/connections",
            json={"name": "tgt", "url": "postgresql://app@db.example/x", "role": "target"},
        )
        for options in (
            {"after_sql": ["DROP TABLE users"]},
            {"dask_address": "tcp://evil:8786"},
            {"transforms": {}},
            {"source_options": {}},
        ):
            job = http.post(
                "/api/v1/projects/shop/jobs",
                json={"kind": "copy", "source": "lake", "target": "tgt", "options": options},
            )
            assert job.status_code == 403, (options, job.text)
            assert _error(job)["fields"]["refused"] == sorted(options)
    with serving(store) as base:  # no folder allowed: a file connection made elsewhere is refused
        job = client(base, token).post(
            "/api/v1/projects/shop/jobs", json={"kind": "copy", "source": "lake", "target": "tgt"}
        )
        assert job.status_code == 403 and "path on the server" in _error(job)["message"]
