"""The fuzz suite's world: the whole app on the demo shops, driven from hypothesis.

``JIMU_FUZZ_EXAMPLES`` sets how many examples each fuzz test runs: a bounded
number by default (CI runs it on both databases in a few minutes); the long
local profile is ``JIMU_FUZZ_EXAMPLES=20000 pytest tests/fuzz``.
"""

from __future__ import annotations

import asyncio
import os
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import httpx
import pytest

from adapters.db import Database
from gateway.app import create_app
from gateway.settings import Settings
from gateway.wiring import sql_adapters
from tests.conftest import _empty, load_demo

EXAMPLES = int(os.environ.get("JIMU_FUZZ_EXAMPLES", "150"))
KEYS = ("pk_demo_panda", "sk_demo_panda", "pk_demo_aurelian", "sk_demo_aurelian")


@dataclass
class Answer:
    status: int
    body: Any  # the decoded JSON, or None when the answer is not JSON
    text: str


@dataclass
class World:
    runner: asyncio.Runner
    client: httpx.AsyncClient
    tokens: dict[str, str]  # shop key -> a shopper token for that shop

    def send(self, method: str, path: str, **kwargs: Any) -> Answer:
        response = self.runner.run(self.client.request(method, path, **kwargs))
        try:
            body = response.json()
        except ValueError:
            body = None
        return Answer(response.status_code, body, response.text[:2000])


@pytest.fixture(scope="module")
def world(database_url: str) -> Iterator[World]:
    runner = asyncio.Runner()
    settings = Settings(database_url=database_url, response_cache_seconds=0, reference_cache_seconds=0, demo=True)
    db = Database(database_url)

    async def start() -> tuple[httpx.AsyncClient, dict[str, str]]:
        await _empty(db)
        adapters = sql_adapters(settings, db)
        await load_demo(adapters)
        client = httpx.AsyncClient(transport=httpx.ASGITransport(app=create_app(settings, adapters)),
                                   base_url="http://jimu.test", timeout=60)
        tokens = {}
        for key in KEYS:
            login = await client.post("/graphql", headers={"X-Jimu-Key": key}, json={
                "query": 'mutation { shopperLogin(code: "dev:fuzzer") { token } }'})
            tokens[key] = login.json()["data"]["shopperLogin"]["token"]
        return client, tokens

    client, tokens = runner.run(start())
    yield World(runner, client, tokens)
    runner.run(client.aclose())
    runner.run(db.dispose())
    runner.close()


def assert_served(answer: Answer, what: object) -> None:
    """No 5xx, JSON with every error coded, and never INTERNAL_SERVER_ERROR."""
    assert answer.status < 500, (answer.status, answer.text, what)
    assert isinstance(answer.body, dict), (answer.status, answer.text, what)
    for error in answer.body.get("errors") or []:
        code = (error.get("extensions") or {}).get("code")
        assert code, (error, what)
        assert code != "INTERNAL_SERVER_ERROR", (error, what)


def assert_healthy(world: World) -> None:
    health = world.send("GET", "/healthz")
    assert health.status == 200, health.text
    shop = world.send("POST", "/graphql", headers={"X-Jimu-Key": "pk_demo_panda"},
                      json={"query": "{ shop { handle } products(first: 3) { nodes { handle skus { code } } } }"})
    assert shop.status == 200 and shop.body["data"]["shop"]["handle"] == "panda-care", shop.text
