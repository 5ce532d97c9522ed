"""Revocation across real worker processes: ``jimu serve --workers 2``, one keep-alive
connection held on each worker (told apart by the socket each worker process owns), a key
or a shopper's tokens revoked through one, and every worker refusing it within 5 s."""

from __future__ import annotations

import http.client
import json
import os
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest
import redis

from gateway.settings import Settings
from gateway.wiring import Adapters
from tests.unit.test_response_cache import REDIS_URL

pytestmark = pytest.mark.skipif(not Path("/proc/net/tcp").exists(), reason="tells workers apart through /proc")

PORTS = range(18100, 18200)
WORKERS = 2
BOUND = 5.0  # what the issue asks: every worker refuses a revoked key within this
SK = "sk_demo_panda"
SHOP = "{ shop { handle } }"
ME = "{ me { id } }"


def _port() -> int:
    for port in PORTS:
        with socket.socket() as s:
            try:
                s.bind(("127.0.0.1", port))
            except OSError:
                continue
            return port
    raise RuntimeError("no free port in 18100-18199")


@contextmanager
def jimu_serve(settings: Settings, **env: str) -> Iterator[tuple[int, int]]:
    """``jimu serve --workers 2`` on the suite's database: (port, the server's pid)."""
    port = _port()
    env = {**os.environ, "JIMU_ENV": "development", "JIMU_DATABASE_URL": settings.database_url, "JIMU_SECRET": settings.secret, **env}
    jimu = str(Path(sys.executable).with_name("jimu"))
    with tempfile.TemporaryFile() as log:
        process = subprocess.Popen([jimu, "serve", "--workers", str(WORKERS), "--port", str(port)], env=env,
                                   stdout=subprocess.DEVNULL, stderr=log)
        try:
            deadline = time.monotonic() + 120
            while len(_children(process.pid)) < WORKERS or not _healthy(port):
                if process.poll() is not None or time.monotonic() > deadline:
                    log.seek(0)
                    raise RuntimeError(f"jimu serve did not start: {log.read().decode()}")
                time.sleep(0.2)
            yield port, process.pid
        finally:
            process.terminate()
            process.wait(timeout=30)


def _healthy(port: int) -> bool:
    try:
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=1)
        conn.request("GET", "/healthz")
        return conn.getresponse().status == 200
    except OSError:
        return False


def _children(pid: int) -> set[int]:
    """The server's worker processes (not multiprocessing's resource tracker)."""
    found = set()
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                stat = Path(f"/proc/{entry}/stat").read_text()
                command = Path(f"/proc/{entry}/cmdline").read_bytes()
            except OSError:
                continue
            if int(stat.rsplit(")", 1)[1].split()[1]) == pid and b"spawn_main" in command:
                found.add(int(entry))
    return found


def _owner(conn: http.client.HTTPConnection, port: int, pids: set[int]) -> int | None:
    """Which worker process holds the server end of this connection."""
    assert conn.sock is not None
    mine = conn.sock.getsockname()[1]
    inode = None
    for line in Path("/proc/net/tcp").read_text().splitlines()[1:]:
        fields = line.split()
        if int(fields[1].split(":")[1], 16) == port and int(fields[2].split(":")[1], 16) == mine:
            inode = fields[9]
    for pid in pids:
        try:
            if any(os.readlink(f"/proc/{pid}/fd/{fd}") == f"socket:[{inode}]" for fd in os.listdir(f"/proc/{pid}/fd")):
                return pid
        except OSError:
            continue
    return None


def ask(conn: http.client.HTTPConnection, query: str, key: str, token: str | None = None) -> dict[str, Any]:
    headers = {"content-type": "application/json", "X-Jimu-Key": key}
    if token:
        headers["Authorization"] = f"Bearer {token}"
    conn.request("POST", "/graphql", json.dumps({"query": query}), headers)
    return json.loads(conn.getresponse().read())


def one_connection_per_worker(port: int, server: int, key: str) -> list[http.client.HTTPConnection]:
    """Keep-alive connections, one held on each worker, each having asked once with ``key``.
    An idle worker tends to win every accept, so the workers reached already are paused
    (SIGSTOP) while the next connection is made: another worker must take it."""
    pids, held = _children(server), {}
    for _ in range(20):
        paused = list(held)
        for pid in paused:
            os.kill(pid, signal.SIGSTOP)
        try:
            conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
            assert ask(conn, SHOP, key)["data"]["shop"]["handle"] == "panda-care"
        finally:
            for pid in paused:
                os.kill(pid, signal.SIGCONT)
        owner = _owner(conn, port, pids)
        if owner is not None and owner not in held:
            held[owner] = conn
        else:
            conn.close()
        if len(held) == WORKERS:
            return list(held.values())
    raise AssertionError(f"reached {len(held)} of {WORKERS} workers")


def refused_after(conns: list[http.client.HTTPConnection], refused: Any, limit: float = 8.0) -> list[float]:
    """Seconds until each connection's worker first refuses, asking every 50 ms; then once more each."""
    start, seen = time.monotonic(), [None] * len(conns)  # type: list[float | None]
    while None in seen and time.monotonic() - start < limit:
        for n, conn in enumerate(conns):
            if seen[n] is None and refused(conn):
                seen[n] = time.monotonic() - start
        time.sleep(0.05)
    assert None not in seen, f"a worker still accepts it after {limit} s: {seen}"
    assert all(refused(conn) for conn in conns)  # and keeps refusing
    return seen  # type: ignore[return-value]


def unauthenticated(body: dict[str, Any]) -> bool:
    return [e["extensions"]["code"] for e in body.get("errors", [])] == ["UNAUTHENTICATED"]


@pytest.mark.parametrize("with_redis", [False, True], ids=["without-redis", "with-redis"])
def test_a_key_revoked_through_one_worker_is_refused_by_all_within_5_s(
    demo: Adapters, settings: Settings, with_redis: bool
):
    # given two workers, a 30 s response cache, and a new publishable key each worker has
    # answered (and cached: its key hit, and the shop's answer); with Redis each worker
    # may believe a key for the whole 5 s, so only the message can make it quicker
    env = {"JIMU_RESPONSE_CACHE_SECONDS": "30", "JIMU_REFERENCE_CACHE_SECONDS": "30"}
    if with_redis:
        redis.Redis.from_url(REDIS_URL).flushdb()
        env |= {"JIMU_REDIS_URL": REDIS_URL, "JIMU_REVOCATION_SECONDS": "5"}
    with jimu_serve(settings, **env) as (port, server):
        setup = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
        made = ask(setup, 'mutation { shopKeyCreate(kind: PUBLISHABLE) { key shopKey { id } } }', SK)
        key, key_id = made["data"]["shopKeyCreate"]["key"], made["data"]["shopKeyCreate"]["shopKey"]["id"]
        conns = one_connection_per_worker(port, server, key)
        # when the first worker takes the revocation
        done = ask(conns[0], 'mutation { shopKeyRevoke(id: "%s") { userErrors { code } } }' % key_id, SK)
        assert done["data"]["shopKeyRevoke"]["userErrors"] == []
        # then every worker refuses the key within 5 s (with Redis: at once)
        seconds = refused_after(conns, lambda conn: unauthenticated(ask(conn, SHOP, key)))
        assert max(seconds) < (1.5 if with_redis else BOUND), seconds
        assert seconds[0] < 0.5  # the worker that revoked it, at once
        assert all(ask(conn, SHOP, SK)["data"]["shop"]["handle"] == "panda-care" for conn in conns)


@pytest.mark.parametrize("with_redis", [False, True], ids=["without-redis", "with-redis"])
def test_a_shoppers_tokens_revoked_through_one_worker_are_refused_by_all_within_5_s(
    demo: Adapters, settings: Settings, with_redis: bool
):
    # given a signed-in shopper whose token each worker has accepted
    env = {"JIMU_REDIS_URL": REDIS_URL, "JIMU_REVOCATION_SECONDS": "5"} if with_redis else {}
    if with_redis:
        redis.Redis.from_url(REDIS_URL).flushdb()
    with jimu_serve(settings, **env) as (port, server):
        conns = one_connection_per_worker(port, server, "pk_demo_panda")
        login = ask(conns[0], 'mutation { shopperLogin(code: "dev:everywhere") { token shopper { id } } }',
                    "pk_demo_panda")["data"]["shopperLogin"]
        assert all(ask(c, ME, "pk_demo_panda", login["token"])["data"]["me"] == login["shopper"] for c in conns)
        # when the merchant revokes them through the first worker
        done = ask(conns[0], 'mutation { shopperTokensRevoke(shopperId: "%s") { userErrors { code } } }'
                   % login["shopper"]["id"], SK)
        assert done["data"]["shopperTokensRevoke"]["userErrors"] == []
        # then every worker refuses the token within 5 s (with Redis: at once), and a new one works
        seconds = refused_after(conns, lambda conn: unauthenticated(ask(conn, ME, "pk_demo_panda", login["token"])))
        assert max(seconds) < (1.5 if with_redis else BOUND), seconds
        again = ask(conns[1], 'mutation { shopperLogin(code: "dev:everywhere") { token } }', "pk_demo_panda")
        token = again["data"]["shopperLogin"]["token"]
        assert all(ask(c, ME, "pk_demo_panda", token)["data"]["me"] == login["shopper"] for c in conns)
