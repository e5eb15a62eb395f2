"""`workbench dashboard` as a service manager runs it: a SIGTERM stops the server it started.

It used to start the server as a child and wait: a SIGTERM ended the command and left the
child serving on the port. Now the command becomes the server, so the signal reaches it."""

from __future__ import annotations

import os
import signal
import subprocess
import time

import pytest

from tests.cli.conftest import WORKBENCH
from tests.servers import free_port, port_open

pytestmark = pytest.mark.slow  # starts a Panel server


def test_sigterm_stops_the_monitor_and_frees_its_port(cli_env):
    port = free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith("WORKBENCH_")} | cli_env
    proc = subprocess.Popen(
        [str(WORKBENCH), "dashboard", "monitor", "--port", str(port), "--auth", "none"],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        stdin=subprocess.DEVNULL,
        text=True,
    )
    try:
        deadline = time.monotonic() + 90
        while not port_open("127.0.0.1", port):
            assert proc.poll() is None, proc.stderr.read() if proc.stderr else ""
            assert time.monotonic() < deadline, "the monitor never listened"
            time.sleep(0.3)
        proc.send_signal(signal.SIGTERM)
        proc.wait(timeout=30)
        deadline = time.monotonic() + 10
        while port_open("127.0.0.1", port) and time.monotonic() < deadline:
            time.sleep(0.2)
        assert not port_open("127.0.0.1", port), "a server still holds the port after SIGTERM"
    finally:
        if proc.poll() is None:
            proc.kill()
