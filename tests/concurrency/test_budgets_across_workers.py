"""A secret key's budget across real worker processes: with Redis, 4 workers spend one
bucket exactly; a publishable key's sale-day crowd is never throttled."""

from __future__ import annotations

import http.client
import json
import math
import os
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any
from urllib.parse import urlsplit

import redis

from adapters.shops.port import ShopPolicy
from adapters.shops.rules import hash_key
from gateway.wiring import Adapters

REDIS_URL = os.environ.get("JIMU_TEST_REDIS_URL", "redis://127.0.0.1:6379/9")
SHOP = "{ shop { name onlinePaymentCap { amount } } }"  # costs 2, and its answer 2
POINTS, RESTORE, COST = 100, 1, 2


def statuses(url: str, key: str, query: str, n: int) -> list[int]:
    address = urlsplit(url)
    body = json.dumps({"query": query})
    headers = {"X-Jimu-Key": key, "Content-Type": "application/json"}

    def one(_: int) -> int:
        # A connection each, so the kernel spreads them over the workers. http.client, not an
        # httpx.Client per request: making one (its SSL context) cost more than the answer.
        connection = http.client.HTTPConnection(address.hostname, address.port, timeout=20)
        try:
            connection.request("POST", "/graphql", body, headers)
            answer = connection.getresponse()
            answer.read()
            return answer.status
        finally:
            connection.close()

    with ThreadPoolExecutor(16) as pool:
        return list(pool.map(one, range(n)))


async def test_four_workers_spend_one_secret_key_budget_exactly(demo: Adapters, server_with: Callable[..., Any]):
    redis.Redis.from_url(REDIS_URL).flushdb()
    found = await demo.shops.shop_for_key(hash_key("sk_demo_panda"))
    assert found is not None
    await demo.shops.set_policy(found[0].id, ShopPolicy(budget_points=POINTS, budget_restore=RESTORE))
    with server_with(JIMU_REDIS_URL=REDIS_URL) as url:
        started = time.monotonic()
        got = statuses(url, "sk_demo_panda", SHOP, 120)
        elapsed = time.monotonic() - started
    admitted = got.count(200)
    # floor(B / cost) and no more than what was restored while they ran
    assert POINTS // COST <= admitted <= math.floor((POINTS + RESTORE * elapsed) / COST), (admitted, elapsed)
    assert got.count(429) == len(got) - admitted


def test_a_publishable_keys_crowd_is_never_throttled(demo: Adapters, server_with: Callable[..., Any]):
    listing = '{ products(first: 20) { nodes { title skus { code availability(region: "1") { status } } } } }'
    with server_with(JIMU_REDIS_URL=REDIS_URL, JIMU_RESPONSE_CACHE_SECONDS="1") as url:
        got = statuses(url, "pk_demo_panda", listing, 1000)
    assert set(got) == {200}
