"""The response cache across real worker processes: Redis shares entries and invalidations."""

from __future__ import annotations

import os
import time
from collections.abc import Callable
from typing import Any

import httpx
import redis

from gateway.wiring import Adapters

REDIS_URL = os.environ.get("JIMU_TEST_REDIS_URL", "redis://127.0.0.1:6379/9")
STOCK = '{ sku(code: "DIAPER-L54") { availability(region: "1_72_2799_0") { quantityAvailable } } }'
TITLE = '{ product(handle: "diaper-soft") { id title } }'
STOCK_SET = 'mutation { stockSet(skuCode: "DIAPER-L54", warehouse: "BJ-01", quantity: %d) { userErrors { code } } }'


def ask(url: str, query: str, key: str = "pk_demo_panda", variables: dict[str, Any] | None = None) -> dict[str, Any]:
    # A new connection each time, so that the reads spread over the workers.
    with httpx.Client(timeout=10) as client:
        return client.post(f"{url}/graphql", json={"query": query, "variables": variables},
                           headers={"X-Jimu-Key": key}).json()["data"]


def units(url: str) -> int:
    return ask(url, STOCK)["sku"]["availability"]["quantityAvailable"]


def title(url: str) -> str:
    return ask(url, TITLE)["product"]["title"]


def set_stock(url: str, quantity: int) -> None:
    body = httpx.post(f"{url}/graphql", json={"query": STOCK_SET % quantity}, headers={"X-Jimu-Key": "sk_demo_panda"},
                      timeout=10).json()
    assert body["data"]["stockSet"]["userErrors"] == []


def test_a_merchant_write_in_one_worker_is_seen_at_once_by_all(demo: Adapters, server_with: Callable[..., Any]):
    redis.Redis.from_url(REDIS_URL).flushdb()
    # given 4 workers sharing Redis, with entries that would live 30 s, all warm
    with server_with(JIMU_REDIS_URL=REDIS_URL, JIMU_RESPONSE_CACHE_SECONDS="30",
                     JIMU_REFERENCE_CACHE_SECONDS="30") as url:
        assert {units(url) for _ in range(40)} == {500}
        # when one worker takes the merchant's stockSet
        set_stock(url, 321)
        # then no worker answers from what it held
        assert {units(url) for _ in range(40)} == {321}
        # and so for the catalog changed over the API: a product retitled through one worker
        before = {title(url) for _ in range(40)}
        changed = ask(url, 'mutation($id: ID!) { productUpdate(id: $id, input: {title: "Panda Soft II"}) '
                      "{ userErrors { code } } }", "sk_demo_panda", {"id": ask(url, TITLE)["product"]["id"]})
        assert changed["productUpdate"]["userErrors"] == []
        assert len(before) == 1 and "Panda Soft II" not in before  # every worker held the old title
        assert {title(url) for _ in range(40)} == {"Panda Soft II"}


def test_without_redis_a_stock_change_shows_in_every_workers_hot_listing_within_two_seconds(
    demo: Adapters, server_with: Callable[..., Any]
):
    # given 4 workers, each with its own one-second cache, all warm
    with server_with(JIMU_RESPONSE_CACHE_SECONDS="1", JIMU_REFERENCE_CACHE_SECONDS="1") as url:
        assert {units(url) for _ in range(20)} == {500}
        # when the stock changes through one worker (the others are not told)
        set_stock(url, 123)
        time.sleep(2)
        # then every worker's answer has aged out and been recomputed
        assert {units(url) for _ in range(20)} == {123}
