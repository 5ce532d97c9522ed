"""Reference data held per worker: loaded once however many ask, dropped by an invalidation."""

from __future__ import annotations

import asyncio

from gateway.reference import ReferenceCache
from gateway.shared import ALL_SHOPS


async def test_reference_data_is_loaded_once_however_many_ask_at_once():
    # given nothing held, and a slow load
    cache = ReferenceCache(30)
    loads: list[list[int]] = []

    async def load(keys: list[int]) -> list[str]:
        loads.append(keys)
        await asyncio.sleep(0.05)
        return [f"v{k}" for k in keys]

    # when 16 requests ask for overlapping keys at once, then again
    answers = await asyncio.gather(*(cache.get_many("skus", 1, [1, 2, 3], load) for _ in range(16)))
    again = await cache.get_many("skus", 1, [3, 4], load)
    # then each key was loaded once
    assert answers == [["v1", "v2", "v3"]] * 16 and again == ["v3", "v4"]
    assert loads == [[1, 2, 3], [4]]
    # and a shop's invalidation drops them
    cache.drop(1)
    await cache.get_many("skus", 1, [1], load)
    assert loads[-1] == [1]


class Slow:
    """A database whose answer takes 50 ms: a load reads ``version`` when it is asked."""

    def __init__(self) -> None:
        self.version = 1

    async def load(self) -> int:
        seen = self.version
        await asyncio.sleep(0.05)
        return seen

    async def changed_during_a_load(self, cache: ReferenceCache) -> asyncio.Future[int]:
        """A load of the offer in flight, then the value changed and the shop invalidated."""
        pending = asyncio.ensure_future(cache.get("offer", 1, self.load))
        await asyncio.sleep(0.01)
        self.version = 2
        cache.drop(1)
        return pending


async def test_a_load_that_began_before_an_invalidation_is_not_kept():
    # given a load in flight when the shop is invalidated
    cache, database = ReferenceCache(30), Slow()
    pending = await database.changed_during_a_load(cache)
    # when it lands, and the value is asked for again
    assert await pending == 1
    # then the next read loads anew
    assert await cache.get("offer", 1, database.load) == 2


async def test_held_values_live_their_seconds_and_all_shops_can_be_dropped():
    now = [0.0]
    cache = ReferenceCache(1, clock=lambda: now[0])
    loads = 0

    async def load() -> int:
        nonlocal loads
        loads += 1
        return loads

    assert await cache.get("categories", 1, load) == 1
    now[0] = 0.9
    assert await cache.get("categories", 1, load) == 1
    now[0] = 1.1
    assert await cache.get("categories", 1, load) == 2
    cache.drop(ALL_SHOPS)
    assert await cache.get("categories", 1, load) == 3


def test_a_view_is_the_same_object_for_the_same_held_value_only():
    cache = ReferenceCache(30)
    value, other = [1], [1]
    assert cache.view(value, tuple) is cache.view(value, tuple)
    assert cache.view(other, tuple) is not cache.view(value, tuple)
    assert ReferenceCache(0).view(value, list) is not ReferenceCache(0).view(value, list)


async def test_when_the_loading_request_is_cancelled_the_waiters_load_for_themselves():
    # given a slow load led by a request that is then cancelled
    cache = ReferenceCache(30)
    calls = 0

    async def load() -> int:
        nonlocal calls
        calls += 1
        await asyncio.sleep(0.05)
        return calls

    leader = asyncio.ensure_future(cache.get("offer", 1, load))
    await asyncio.sleep(0.01)
    waiter = asyncio.ensure_future(cache.get("offer", 1, load))
    await asyncio.sleep(0.01)
    leader.cancel()
    # then the waiter still gets an answer, its own
    assert await waiter == 2


async def test_a_request_after_an_invalidation_does_not_join_a_load_begun_before_it():
    cache, database = ReferenceCache(30), Slow()
    before = await database.changed_during_a_load(cache)
    after = await cache.get("offer", 1, database.load)
    assert (await before, after) == (1, 2)
