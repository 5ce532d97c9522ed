"""``merchant_system``: the reference merchant system (examples/merchant) as a real process,
serving the Aurelian demo catalog from its own SQLite file.

    merchant = merchant_system()
    merchant.behave(mode="fail")  # or delay=2.0, mode="garbage" | "wrong-ids" | "duplicates"
"""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest

from gateway.demo import demo_files
from tests.concurrency.conftest import free_port, wait_until_up

SECRET = "merchant-test-secret"


@dataclass
class MerchantSystem:
    url: str
    secret: str
    database_url: str  # its own database, for tests that compare with what it holds
    process: subprocess.Popen

    def behave(self, mode: str = "ok", delay: float = 0.0, paths: list[str] | None = None) -> None:
        """How it answers from now: ``mode`` and ``delay`` on ``paths`` (every route when None)."""
        answer = httpx.post(f"{self.url}/control", json={"mode": mode, "delay": delay, "paths": paths},
                            headers={"X-Control-Token": self.secret}, timeout=5)
        assert answer.status_code == 200, answer.text

    def calls(self) -> int:
        return httpx.get(f"{self.url}/control/calls", timeout=5).json()["calls"]


@pytest.fixture
def merchant_system(tmp_path: Path) -> Iterator[Callable[..., MerchantSystem]]:
    started: list[MerchantSystem] = []

    def start(catalog: str = "aurelian", after: str | None = None) -> MerchantSystem:
        """Serving the demo ``catalog``, loaded ``after`` another (so its ids are not jimu's)."""
        paths = [str(p) for name in (after, catalog) for p in demo_files() if p.stem == name]
        port = free_port()
        database_url = f"sqlite+aiosqlite:///{tmp_path / f'merchant-{port}.db'}"
        env = {**os.environ, "MERCHANT_DATABASE_URL": database_url, "MERCHANT_CATALOG": os.pathsep.join(paths),
               "MERCHANT_SECRET": SECRET}
        process = subprocess.Popen([sys.executable, "-m", "examples.merchant", "--port", str(port)], env=env,
                                   stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        url = f"http://127.0.0.1:{port}"
        wait_until_up(url, process, lambda: process.stderr.read().decode() if process.stderr else "")
        system = MerchantSystem(url, SECRET, database_url, process)
        started.append(system)
        return system

    yield start
    for system in started:
        system.process.terminate()
        system.process.wait(timeout=10)
