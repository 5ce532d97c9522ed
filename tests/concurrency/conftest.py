"""The real server, for races that go through HTTP: uvicorn with several worker processes."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

import httpx
import pytest

from gateway.settings import Settings
from gateway.wiring import Adapters

WORKERS = 4


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_until_up(url: str, process: subprocess.Popen, output: Callable[[], str], path: str = "/healthz") -> None:
    """Until ``url + path`` answers 200 (60 s at most); RuntimeError with the server's output
    when it exits or does not answer in time."""
    deadline = time.monotonic() + 60
    while True:
        try:
            if httpx.get(f"{url}{path}", timeout=1).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        if process.poll() is not None or time.monotonic() > deadline:
            raise RuntimeError(f"the server did not start:\n{output()[-4000:]}")
        time.sleep(0.2)


@contextmanager
def running_server(settings: Settings, **env: str) -> Iterator[str]:
    """``WORKERS`` uvicorn workers on the suite's database, with extra settings from ``env``."""
    port = free_port()
    # The races read their own writes at once: both caches are off unless a test says otherwise.
    env = {**os.environ, "JIMU_ENV": "development", "JIMU_DATABASE_URL": settings.database_url, "JIMU_SECRET": settings.secret,
           "JIMU_RESPONSE_CACHE_SECONDS": "0", "JIMU_REFERENCE_CACHE_SECONDS": "0",
           # stderr is a pipe read only if the server fails to start: a line per request would
           # fill it (64 KiB, a few hundred requests) and block every worker on its next write.
           "JIMU_LOG_LEVEL": "WARNING", **env}
    process = subprocess.Popen(
        [sys.executable, "-m", "uvicorn", "gateway.app:create_app_from_env", "--factory", "--workers", str(WORKERS),
         "--host", "127.0.0.1", "--port", str(port), "--log-level", "warning", "--no-proxy-headers"],
        env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
    )
    url = f"http://127.0.0.1:{port}"
    try:
        wait_until_up(url, process, lambda: process.stderr.read().decode() if process.stderr else "")
        yield url
    finally:
        process.terminate()
        process.wait(timeout=30)


@pytest.fixture
def server(settings: Settings, sql: Adapters) -> Iterator[str]:
    with running_server(settings) as url:
        yield url


@pytest.fixture
def server_with(settings: Settings, sql: Adapters) -> Callable[..., Any]:
    """A server with extra settings: ``with server_with(JIMU_X="1") as url``."""
    return lambda **env: running_server(settings, **env)
