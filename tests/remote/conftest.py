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


@pytest.fixture(scope="module")
def merchant_processes(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[tuple[str, str | None], MerchantSystem]]:
    """The merchant systems a module started, by what they serve: one process serves every test of
    the module that asks for the same catalog (starting one is ~2.5 s of imports)."""
    running: dict[tuple[str, str | None], MerchantSystem] = {}
    yield running
    for system in running.values():
        if system.process.poll() is None:
            system.process.terminate()
            system.process.wait(timeout=10)


@pytest.fixture
def merchant_system(merchant_processes: dict[tuple[str, str | None], MerchantSystem],
                    tmp_path_factory: pytest.TempPathFactory) -> Callable[..., MerchantSystem]:
    def start(catalog: str = "aurelian", after: str | None = None) -> MerchantSystem:
        """Serving the demo ``catalog``, loaded ``after`` another (so its ids are not jimu's); a
        test gets it answering well (and its calls counted from 0), as a fresh one would."""
        system = merchant_processes.get((catalog, after))
        if system is not None and system.process.poll() is None:
            system.behave()
            return system
        paths = [str(p) for name in (after, catalog) for p in demo_files() if p.stem == name]
        port = free_port()
        database_url = f"sqlite+aiosqlite:///{tmp_path_factory.mktemp('merchant') / f'merchant-{port}.db'}"
        env = {**os.environ, "MERCHANT_DATABASE_URL": database_url, "MERCHANT_CATALOG": os.pathsep.join(paths),
               "MERCHANT_SECRET": SECRET}
        process = subprocess.Popen([sys.executable, "-m", "examples.merchant", "--port", str(port)], env=env,
                                   stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        url = f"http://127.0.0.1:{port}"
        wait_until_up(url, process, lambda: process.stderr.read().decode() if process.stderr else "")
        system = merchant_processes[(catalog, after)] = MerchantSystem(url, SECRET, database_url, process)
        return system

    return start
