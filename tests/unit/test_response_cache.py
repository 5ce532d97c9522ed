"""The response cache as middleware in front of a counting app, on the local and the Redis state."""

from __future__ import annotations

import asyncio
import json
import os
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest
from starlette.types import Receive, Scope, Send

from adapters.shops.port import KeyKind, Shop
from gateway.auth import ShopAccess
from gateway.edge import Edge, Guarded
from gateway.response_cache import _ENTRY_OVERHEAD, ResponseCache
from gateway.shared import LocalState, RedisState, SharedState

REDIS_URL = os.environ.get("JIMU_TEST_REDIS_URL", "redis://127.0.0.1:6379/9")
LISTING = "{ products(first: 2) { nodes { handle } } }"
WITH_VARIABLES = "query Q($a: Int, $b: Int, $n: Int) { products(first: $a) { nodes { handle } } }"


class Keys:
    """Two shops, one key each."""

    async def access_for(self, key: str) -> ShopAccess | None:
        shop_id = {"pk_one": 1, "pk_two": 2, "sk_one": 1}.get(key)
        if shop_id is None:
            return None
        kind = KeyKind.SECRET if key.startswith("sk_") else KeyKind.PUBLISHABLE
        return ShopAccess(Shop(id=shop_id, handle=f"s{shop_id}", name="S", online_payment_cap=5_000_000), kind)


class Counting:
    """An app that answers with how often it was asked, optionally slowly or with errors."""

    def __init__(self, delay: float = 0.0) -> None:
        self.calls = 0
        self.delay = delay
        self.version = 1

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        self.calls += 1
        message = await receive() if scope["method"] == "POST" else {"body": b""}
        if self.delay:
            await asyncio.sleep(self.delay)
        query = json.loads(message["body"])["query"] if scope["method"] == "POST" else ""
        answer: dict[str, Any] = {"data": {"version": self.version}}
        if "broken" in query:
            answer["errors"] = [{"message": "no", "extensions": {"code": "BAD_USER_INPUT"}}]
        body = json.dumps(answer).encode()
        await send({"type": "http.response.start", "status": 200, "headers": [(b"content-type", b"application/json")]})
        await send({"type": "http.response.body", "body": body})


@pytest.fixture(params=["local", "redis"])
async def shared(request: pytest.FixtureRequest) -> AsyncIterator[SharedState]:
    if request.param == "local":
        yield LocalState()
        return
    state = RedisState(REDIS_URL)
    await state._redis.flushdb()
    await state.wait_subscribed()
    yield state
    await state.close()


def cached(app: Counting, shared: SharedState, ttl: float = 30.0, max_bytes: int = 1 << 20) -> ResponseCache:
    return ResponseCache(app, keys=Keys(), shared=shared, ttl_seconds=ttl, max_bytes=max_bytes)  # type: ignore[arg-type]


def client(cache: ResponseCache) -> httpx.AsyncClient:
    edge = Edge(cache, routes={"/graphql": Guarded(1 << 20, graphql=True)})  # in front of it, as in the app
    return httpx.AsyncClient(transport=httpx.ASGITransport(app=edge), base_url="http://jimu.test")


async def post(c: httpx.AsyncClient, query: str = LISTING, key: str = "pk_one", **extra: Any) -> httpx.Response:
    headers = {"X-Jimu-Key": key, **extra.pop("headers", {})}
    return await c.post("/graphql", json={"query": query, **extra}, headers=headers)


async def test_an_anonymous_query_is_answered_once_per_entry(shared: SharedState):
    # given
    app = Counting()
    async with client(cached(app, shared)) as c:
        # when
        first, second = await post(c), await post(c)
        # then
        assert first.content == second.content == b'{"data": {"version": 1}}'
        assert app.calls == 1


async def test_the_key_is_the_shop_key_document_operation_and_canonical_variables(shared: SharedState):
    # given
    app = Counting()
    async with client(cached(app, shared)) as c:
        # when: the same variables in another order, with one the document does not declare,
        # then another shop, then other variables
        await post(c, WITH_VARIABLES, variables={"a": 1, "b": 2})
        await post(c, WITH_VARIABLES, variables={"b": 2, "a": 1})
        await post(c, WITH_VARIABLES, variables={"b": 2, "a": 1, "junk": "x" * 100})
        await post(c, WITH_VARIABLES, key="pk_two", variables={"a": 1, "b": 2})
        await post(c, WITH_VARIABLES, variables={"a": 2, "b": 2})
        await post(c, WITH_VARIABLES, operationName=None, variables={"a": 1, "b": 2})
        # then
        assert app.calls == 3


async def test_a_second_shop_key_header_is_not_the_one_the_cache_keys_on(shared: SharedState):
    # given shop one's answer cached under its key
    app = Counting()
    async with client(cached(app, shared)) as c:
        await post(c)
        # when a request names shop two first and shop one second
        two_then_one = httpx.Headers([("X-Jimu-Key", "pk_two"), ("X-Jimu-Key", "pk_one")])
        await c.post("/graphql", json={"query": LISTING}, headers=two_then_one)
        # then it was answered as shop two (the first header, as the app reads it), not from shop one's entry
        assert app.calls == 2


@pytest.mark.parametrize(
    ("query", "key", "headers"),
    [
        ("mutation { stockSet { id } }", "pk_one", {}),  # mutations never
        ("{ me { id } }", "pk_one", {}),  # a shopper's own data never
        ("query Q { ...F } fragment F on Query { cart(id: 1) { id } }", "pk_one", {}),
        (LISTING, "pk_one", {"Authorization": "Bearer token"}),  # token-bearing requests never
        (LISTING, "pk_unknown", {}),  # an unknown key: the app refuses it
        ("{ broken }", "pk_one", {}),  # answers with errors are not kept
        ("{ products(", "pk_one", {}),  # nor what does not parse
    ],
)
async def test_what_is_never_served_from_the_cache(shared: SharedState, query: str, key: str, headers: dict[str, str]):
    # given
    app = Counting()
    async with client(cached(app, shared)) as c:
        # when
        answers = [await post(c, query, key=key, headers=headers) for _ in range(2)]
        # then
        assert app.calls == 2
    if "Authorization" in headers:
        assert all(a.headers["cache-control"] == "private, no-store" for a in answers)


async def test_off_means_off(shared: SharedState):
    # given a cache of 0 seconds
    app = Counting()
    async with client(cached(app, shared, ttl=0)) as c:
        # when
        for _ in range(3):
            await post(c)
        # then
        assert app.calls == 3


async def test_an_invalidation_drops_the_shops_entries_at_once(shared: SharedState):
    # given both shops cached
    app = Counting()
    async with client(cached(app, shared)) as c:
        await post(c)
        await post(c, key="pk_two")
        # when the first shop is invalidated and the data changes
        app.version = 2
        await shared.invalidate(1)
        one, two = await post(c), await post(c, key="pk_two")
    # then
    assert one.json() == {"data": {"version": 2}}
    assert two.json() == {"data": {"version": 1}}
    assert app.calls == 3


async def test_a_stampede_on_a_missing_entry_recomputes_once(shared: SharedState):
    # given a slow app and nothing cached
    app = Counting(delay=0.2)
    async with client(cached(app, shared)) as c:
        # when 20 shoppers ask at once
        answers = await asyncio.gather(*(post(c) for _ in range(20)))
    # then
    assert app.calls == 1
    assert {a.content for a in answers} == {b'{"data": {"version": 1}}'}


async def test_an_expired_entry_is_recomputed_once_while_the_others_get_it_stale(shared: SharedState):
    # given an entry that has just expired
    app = Counting(delay=0.2)
    cache = cached(app, shared, ttl=0.05)
    async with client(cache) as c:
        await post(c)
        await asyncio.sleep(0.1)
        app.version = 2
        # when 10 shoppers ask at once
        answers = await asyncio.gather(*(post(c) for _ in range(10)))
        # then one recomputed, the others were not kept waiting for it
        assert app.calls == 2
        versions = sorted(a.json()["data"]["version"] for a in answers)
        assert versions == [1] * 9 + [2]
        assert (await post(c)).json() == {"data": {"version": 2}}


async def test_memory_is_bounded_in_bytes_least_recently_used_out_first():
    # given room for two answers
    app = Counting()
    cache = cached(app, LocalState(), max_bytes=2 * (len(b'{"data": {"version": 1}}') + _ENTRY_OVERHEAD))
    async with client(cache) as c:
        # when three are cached, the first used again before the third comes
        await post(c, WITH_VARIABLES, variables={"n": 1})
        await post(c, WITH_VARIABLES, variables={"n": 2})
        await post(c, WITH_VARIABLES, variables={"n": 1})
        await post(c, WITH_VARIABLES, variables={"n": 3})
        # then the second went out and the first stayed
        calls = app.calls
        await post(c, WITH_VARIABLES, variables={"n": 1})
        assert app.calls == calls
        await post(c, WITH_VARIABLES, variables={"n": 2})
        assert app.calls == calls + 1
    assert cache.memory.size <= cache.memory.max_bytes


async def test_get_answers_say_how_long_a_cdn_may_keep_them_and_304_on_the_same_etag(shared: SharedState):
    # given
    app = Counting()
    async with client(cached(app, shared, ttl=10)) as c:
        # when
        first = await c.get("/graphql", params={"query": LISTING}, headers={"X-Jimu-Key": "pk_one"})
        again = await c.get("/graphql", params={"query": LISTING},
                            headers={"X-Jimu-Key": "pk_one", "If-None-Match": first.headers["etag"]})
        private = await c.get("/graphql", params={"query": LISTING},
                              headers={"X-Jimu-Key": "pk_one", "Authorization": "Bearer t"})
    # then
    assert first.status_code == 200 and first.content == b'{"data": {"version": 1}}'
    max_age = int(first.headers["cache-control"].split("max-age=")[1].split(",")[0])
    assert 9 <= max_age <= 10
    assert first.headers["cache-control"].endswith("stale-while-revalidate=90")
    assert again.status_code == 304 and again.content == b"" and again.headers["etag"] == first.headers["etag"]
    assert first.headers["vary"] == "X-Jimu-Key, Authorization"  # a CDN keys on the shop too
    assert private.headers["cache-control"] == "private, no-store"


async def test_two_workers_share_entries_and_invalidations_through_redis():
    # given two workers' caches on one Redis
    first_state, second_state = RedisState(REDIS_URL), RedisState(REDIS_URL)
    await first_state._redis.flushdb()
    await first_state.wait_subscribed()
    await second_state.wait_subscribed()
    first_app, second_app = Counting(), Counting()
    try:
        async with client(cached(first_app, first_state)) as one, client(cached(second_app, second_state)) as two:
            # when the first computes, the second finds it
            await post(one)
            assert (await post(two)).json() == {"data": {"version": 1}}
            assert (first_app.calls, second_app.calls) == (1, 0)
            # and when the first invalidates, the second drops what it held too
            second_app.version = 2
            await first_state.invalidate(1)
            await asyncio.sleep(0.2)  # the message crosses Redis
            assert (await post(two)).json() == {"data": {"version": 2}}
    finally:
        await first_state.close()
        await second_state.close()



class PeerHoldsTheClaim(LocalState):
    """Another worker claimed every key and never shares an answer (its answers have errors)."""

    async def claim(self, key: str, ttl_seconds: float) -> bool:
        return False


async def test_requests_that_wait_on_a_peer_that_never_answers_are_all_answered():
    # given a peer that holds the claim and never stores an entry
    app = Counting(delay=0.05)
    async with client(cached(app, PeerHoldsTheClaim())) as c:
        # when several ask at once, and again
        answers = await asyncio.gather(*(post(c) for _ in range(4)))
        again = await asyncio.wait_for(post(c), timeout=5)
    # then every one was answered (after waiting for the peer, by computing it here)
    assert [a.status_code for a in answers] == [200] * 4 and again.status_code == 200
