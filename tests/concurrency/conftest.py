"""The real server, for races that go through HTTP: uvicorn with several worker processes."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator

import httpx
import pytest

from gateway.settings import Settings
from gateway.wiring import Adapters

WORKERS = 4


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture
def server(settings: Settings, sql: Adapters) -> Iterator[str]:
    port = free_port()
    env = {**os.environ, "JIMU_DATABASE_URL": settings.database_url, "JIMU_SECRET": settings.secret}
    process = subprocess.Popen(
        [sys.executable, "-m", "uvicorn", "gateway.app:create_app_from_env", "--factory", "--workers", str(WORKERS),
         "--host", "127.0.0.1", "--port", str(port), "--log-level", "warning"],
        env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
    )
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                if httpx.get(f"{url}/healthz", timeout=1).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            if process.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"the server did not start: {process.stderr.read().decode() if process.stderr else ''}")
            time.sleep(0.2)
        yield url
    finally:
        process.terminate()
        process.wait(timeout=30)
