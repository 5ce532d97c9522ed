"""``jimu serve --demo --remote-demo``: the Aurelian demo shop's stock kept by the reference
merchant system (examples/merchant), started beside the server as a process of its own over
its own SQLite file, and stopped with it. Aurelian's goods stay jimu's; its stock, reservations
and their expiry are the merchant's. Without ``--remote-demo`` the demo shops are jimu's again.
"""

from __future__ import annotations

import os
import secrets
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx

from adapters.db import Database
from adapters.shop_remotes.sql import SqlShopRemotes
from adapters.shops.sql import SqlShopStore
from gateway.demo import demo_files
from gateway.settings import Settings
from gateway.wiring import remote_secrets

SHOP = "aurelian"


@contextmanager
def merchant_process() -> Iterator[tuple[str, str]]:
    """The reference merchant system serving Aurelian's catalog: (its URL, its secret)."""
    [catalog] = [p for p in demo_files() if p.stem == SHOP]
    with tempfile.TemporaryDirectory(prefix="jimu-merchant-") as folder:
        port, secret = _free_port(), secrets.token_urlsafe(24)
        env = {**os.environ, "MERCHANT_DATABASE_URL": f"sqlite+aiosqlite:///{Path(folder) / 'merchant.db'}",
               "MERCHANT_CATALOG": str(catalog), "MERCHANT_SECRET": secret}
        process = subprocess.Popen([sys.executable, "-m", "examples.merchant", "--port", str(port)], env=env)
        url = f"http://127.0.0.1:{port}"
        # uvicorn, having shut down on SIGTERM, raises the signal again: with the default handler
        # that ends the process at once, past every finally. Unwinding instead stops the merchant.
        before = signal.signal(signal.SIGTERM, _unwind)
        try:
            _wait_until_up(url, process)
            yield url, secret
        finally:
            signal.signal(signal.SIGTERM, before)
            process.terminate()
            process.wait(timeout=10)


async def point_demo_at(settings: Settings, db: Database, merchant: tuple[str, str] | None) -> None:
    """Aurelian's stock from ``merchant`` (its URL and secret), or from jimu's database when None."""
    [shop] = await SqlShopStore(db).shops_by_handle([SHOP])
    if shop is None:
        return
    remotes = SqlShopRemotes(db)
    if merchant is None:
        await remotes.clear(shop.id)
        return
    url, secret = merchant
    await remotes.put(shop.id, None, url, remote_secrets(settings).seal(secret))


def _unwind(signum: int, frame: object) -> None:
    raise SystemExit(128 + signum)


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _wait_until_up(url: str, process: subprocess.Popen) -> None:
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline and process.poll() is None:
        try:
            if httpx.get(f"{url}/healthz", timeout=1).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.2)
    raise RuntimeError("the reference merchant system did not start")
