"""Shop reference data held per worker for a short while.

A listing page reads the same few things for every shopper: the shop's
categories, its delivery offer (tiers and slots) and its claimable coupons.
They change rarely, and when a merchant changes them the invalidation that
drops the shop's cached responses drops them too. Checkout and pricing never
read through here: they ask the adapters themselves, exactly.

One load per (kind, shop) at a time: concurrent requests for an expired value
wait for the one load in flight instead of each reading it again.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable
from typing import Any, TypeVar

from gateway.shared import ALL_SHOPS

T = TypeVar("T")


class ReferenceCache:
    def __init__(self, ttl_seconds: float, clock: Callable[[], float] = time.monotonic) -> None:
        self._ttl = ttl_seconds
        self._clock = clock
        self._held: dict[tuple[str, int], tuple[float, Any]] = {}
        self._loading: dict[tuple[str, int], asyncio.Future[Any]] = {}
        self._generation = 0  # moves on at every drop: a load that began before it is not kept

    async def get(self, kind: str, shop_id: int, load: Callable[[], Awaitable[T]]) -> T:
        if self._ttl <= 0:
            return await load()
        key = (kind, shop_id)
        held = self._held.get(key)
        if held is not None and held[0] > self._clock():
            return held[1]  # type: ignore[no-any-return]
        loading = self._loading.get(key)
        if loading is not None:
            return await asyncio.shield(loading)  # type: ignore[no-any-return]
        future: asyncio.Future[Any] = asyncio.get_running_loop().create_future()
        self._loading[key] = future
        generation = self._generation
        try:
            value = await load()
        except BaseException as exc:
            future.set_exception(exc)
            future.exception()  # retrieved: waiters get it, nobody is warned of it
            raise
        finally:
            del self._loading[key]
        if self._generation == generation:
            self._held[key] = (self._clock() + self._ttl, value)
        future.set_result(value)
        return value

    def drop(self, shop_id: int) -> None:
        """Forget the shop's data (every shop's for ``ALL_SHOPS``)."""
        self._generation += 1
        for key in [k for k in self._held if shop_id in (k[1], ALL_SHOPS)]:
            del self._held[key]
