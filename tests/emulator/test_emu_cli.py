"""``python -m include.emulator`` serves until killed and says when it is ready."""

from __future__ import annotations

import os
import selectors
import signal
import subprocess
import sys
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parents[2]


def test_cli_prints_ready_line_and_serves_until_killed():
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "include.emulator",
            "--host",
            "127.0.0.1",
            "--port",
            "0",
            "--ocds-scale",
            "200",
            "--seed",
            "3",
            "--ocds-user",
            "u",
            "--ocds-password",
            "p",
            "--ocds-client-id",
            "c",
            "--ocds-client-secret",
            "s",
        ],
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        selector = selectors.DefaultSelector()
        selector.register(proc.stdout, selectors.EVENT_READ)
        assert selector.select(timeout=30), "no ready line within 30 s"
        line = proc.stdout.readline().strip()
        assert line.startswith("emulator ready at http://127.0.0.1:"), line
        url = line.rsplit(" ", 1)[-1]
        response = httpx.get(f"{url}/ords/ocds/omnichannel/v2/item", auth=("u", "p"))
        assert response.status_code == 200 and response.json()["count"] == 200
        token = httpx.post(
            f"{url}/ords/ocds/oauth/token", data={"grant_type": "client_credentials"}, auth=("c", "s")
        )
        assert token.status_code == 200
    finally:
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(timeout=15) == 0
