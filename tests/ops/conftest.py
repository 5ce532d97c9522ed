"""``jimu serve`` as a newcomer runs it: a real process, its log in a file."""

from __future__ import annotations

import os
import shutil
import subprocess
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import pytest

from gateway.settings import Settings
from tests.concurrency.conftest import free_port, wait_until_up


@dataclass
class Served:
    url: str
    process: subprocess.Popen[bytes]
    log: Path

    def lines(self) -> list[str]:
        return self.log.read_text(encoding="utf-8").splitlines()


@contextmanager
def jimu_serve(settings: Settings, log: Path, *args: str, **env: str) -> Iterator[Served]:
    """``jimu serve`` on the suite's database (development, caches off unless ``env`` says),
    its stderr in ``log``; stopped with SIGTERM at the end unless the test stopped it."""
    port = free_port()
    environ = {**os.environ, "JIMU_ENV": "development", "JIMU_DATABASE_URL": settings.database_url,
               "JIMU_SECRET": settings.secret, "JIMU_RESPONSE_CACHE_SECONDS": "0",
               "JIMU_REFERENCE_CACHE_SECONDS": "0", **env}
    jimu = shutil.which("jimu")
    assert jimu, "the jimu command is installed with the project (pip install -e .)"
    with log.open("wb") as sink:
        process = subprocess.Popen([jimu, "serve", "--port", str(port), *args], env=environ,
                                   stdout=sink, stderr=subprocess.STDOUT)
    served = Served(f"http://127.0.0.1:{port}", process, log)
    try:
        wait_until_up(served.url, process, lambda: log.read_text(encoding="utf-8"), "/readyz")
        yield served
    finally:
        if process.poll() is None:
            process.terminate()
            process.wait(timeout=60)


@pytest.fixture
def serve(settings: Settings, tmp_path: Path) -> Callable[..., object]:
    return lambda *args, **env: jimu_serve(settings, tmp_path / "server.log", *args, **env)
