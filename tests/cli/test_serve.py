"""`workbench token` and `workbench serve` as a newcomer runs them: a token made, shown once,
used against the served API over HTTP, listed without itself, and revoked."""

from __future__ import annotations

import json
import os
import subprocess
import time

import httpx
import pytest

from tests.cli.conftest import WORKBENCH, run_process
from tests.servers import free_port


@pytest.mark.slow  # a `workbench serve` process
def test_a_token_from_the_cli_opens_the_served_api_until_revoked(cli_env):
    made = run_process("token", "create", "airflow", "--expires-days", "30", "--json", env=cli_env)
    assert made.returncode == 0, made.stderr
    token = json.loads(made.stdout)["token"]
    assert token.startswith("wbt_") and len(token) > 40
    listed = run_process("token", "list", "--json", env=cli_env)
    assert token not in listed.stdout and token[:12] in listed.stdout
    [row] = json.loads(listed.stdout)
    assert row["name"] == "airflow" and row["active"] is True and row["expires_at"]

    port = free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith("WORKBENCH_")} | cli_env
    server = subprocess.Popen(
        [str(WORKBENCH), "serve", "--port", str(port)], env=env,
        stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True,
    )  # fmt: skip
    try:
        base = f"http://127.0.0.1:{port}"
        deadline = time.monotonic() + 60
        while True:
            try:
                if httpx.get(f"{base}/health/live").status_code == 200:
                    break
            except httpx.TransportError:
                pass
            assert server.poll() is None, server.stderr.read() if server.stderr else ""
            assert time.monotonic() < deadline, "workbench serve did not answer"
            time.sleep(0.2)
        headers = {"Authorization": f"Bearer {token}"}
        assert httpx.get(f"{base}/health/ready").status_code == 200
        me = httpx.get(f"{base}/api/v1/me", headers=headers).json()
        assert me == {"user": "tester", "organization": "default", "role": "owner"}
        revoked = run_process("token", "revoke", "airflow", env=cli_env)
        assert revoked.returncode == 0 and "revoked" in revoked.stdout
        assert httpx.get(f"{base}/api/v1/me", headers=headers).status_code == 401
    finally:
        server.terminate()
        server.wait(30)
    assert token not in (server.stderr.read() if server.stderr else "")
