"""/metrics on real worker processes: whichever worker answers a scrape, it adds up every worker's numbers."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import httpx
from prometheus_client.multiprocess import MultiProcessCollector

from gateway.settings import Settings
from gateway.wiring import Adapters
from tests.concurrency.conftest import WORKERS, free_port, wait_until_up
from tests.scrape import total

QUERY = "query ShopName { shop { name } }"
N = 60


def ask(url: str, n: int) -> list[int]:
    def one(_: int) -> int:
        with httpx.Client(timeout=20) as client:  # a connection each: spread over the workers
            return client.post(f"{url}/graphql", json={"query": QUERY}, headers={"X-Jimu-Key": "pk_demo_panda"}).status_code

    with ThreadPoolExecutor(8) as pool:
        return list(pool.map(one, range(n)))


def scrapes(url: str, n: int) -> list[str]:
    found = []
    for _ in range(n):
        with httpx.Client(timeout=20) as client:  # a new connection: any worker may take it
            response = client.get(f"{url}/metrics")
            assert response.status_code == 200, response.text
            found.append(response.text)
    return found


async def test_every_scrape_adds_up_every_workers_requests(demo: Adapters, server_with: Callable[..., Any],
                                                           tmp_path: Path):
    # given four workers sharing one metrics directory
    with server_with(PROMETHEUS_MULTIPROC_DIR=str(tmp_path)) as url:
        all_serving(url, WORKERS)
        # when N requests are spread over them, then /metrics is read again and again
        assert ask(url, N) == [200] * N
        texts = scrapes(url, 12)
        # and one worker is killed outright, and replaced
        killed = worker_pids(tmp_path)[0]
        os.kill(killed, signal.SIGKILL)
        deadline = time.monotonic() + 60
        while killed in worker_pids(tmp_path) or len(worker_pids(tmp_path)) < WORKERS:
            assert time.monotonic() < deadline, "the killed worker was not replaced"
            time.sleep(0.2)
        after = scrapes(url, 4)
    # then every scrape counts the N requests, however few each worker answered itself
    assert [total(t, "jimu_graphql_requests_total", operation="ShopName", outcome="ok") for t in texts] == [N] * 12
    assert [total(t, "jimu_graphql_request_duration_seconds_count") for t in texts] == [N] * 12
    assert {total(t, "jimu_workers") for t in texts} == {WORKERS}
    assert total(texts[-1], "jimu_sweeps_total") >= WORKERS  # each worker sweeps once as it starts
    assert 0 <= total(texts[-1], "jimu_sweep_lag_seconds") < 60
    # and they are the sum of what several workers counted, each in its own file
    served = per_worker(tmp_path)
    assert len(served) == WORKERS + 1 and sum(served) == N and sum(1 for n in served if n) >= 2, served
    # and the killed worker's requests still count, while it no longer counts as serving
    assert [total(t, "jimu_graphql_requests_total") for t in after] == [N] * 4
    assert {total(t, "jimu_workers") for t in after} == {WORKERS}


def worker_pids(directory: Path) -> list[int]:
    """The workers that say they serve: each keeps a live gauge file until it stops or is found dead."""
    return sorted(int(p.stem.rpartition("_")[2]) for p in directory.glob("gauge_livesum_*.db"))


def per_worker(directory: Path) -> list[float]:
    """The GraphQL requests each worker counted, read from its own file alone."""
    counted = []
    for path in sorted(directory.glob("counter_*.db")):
        families = MultiProcessCollector.merge([str(path)], accumulate=True)
        counted.append(sum(s.value for f in families for s in f.samples if s.name == "jimu_graphql_requests_total"))
    return counted


def all_serving(url: str, workers: int) -> None:
    """Wait until every worker has started (the first one up answers while the others import)."""
    deadline = time.monotonic() + 60
    while total(scrapes(url, 1)[0], "jimu_workers") < workers:
        assert time.monotonic() < deadline, "the workers did not all start"
        time.sleep(0.2)


async def test_jimu_serve_makes_the_directory_and_removes_it(settings: Settings, demo: Adapters, tmp_path: Path):
    # given `jimu serve` with two workers and no PROMETHEUS_MULTIPROC_DIR
    port = free_port()
    env = {k: v for k, v in os.environ.items() if k != "PROMETHEUS_MULTIPROC_DIR"}
    env.update(JIMU_ENV="development", JIMU_DATABASE_URL=settings.database_url, JIMU_SECRET=settings.secret,
               JIMU_RESPONSE_CACHE_SECONDS="0", TMPDIR=str(tmp_path))
    process = subprocess.Popen(
        [sys.executable, "-c", "from gateway.cli import app; app()", "serve", "--workers", "2", "--port", str(port)],
        env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    url = f"http://127.0.0.1:{port}"
    try:
        wait_until_up(url, process, lambda: process.stderr.read().decode() if process.stderr else "")
        all_serving(url, 2)
        made = [p for p in tmp_path.iterdir() if p.name.startswith("jimu-metrics-")]
        # when requests are spread over its workers
        assert ask(url, 20) == [200] * 20
        texts = scrapes(url, 6)
    finally:
        process.send_signal(signal.SIGTERM)
        process.wait(timeout=60)
    # then each scrape adds up both workers, and the directory it made is gone with it
    assert [total(t, "jimu_graphql_requests_total") for t in texts] == [20] * 6
    assert {total(t, "jimu_workers") for t in texts} == {2}
    assert len(made) == 1 and not made[0].exists()
