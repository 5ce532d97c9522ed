"""Shop reference data held per worker for a short while.

A listing page reads the same things for every shopper: the shop's categories,
its delivery offer (tiers and slots), its claimable coupons, and the page's
products and their SKUs. They change when a merchant changes them (an import,
a coupon, a campaign), and the invalidation that drops the shop's cached
responses then drops them too; what a write from outside the API changes (an
import run from the command line) ages out after ``ttl_seconds``. Stock is
not reference data: it is read on every request. Checkout and pricing never
read through here: they ask the adapters themselves, exactly.

One load per key at a time: concurrent requests for an expired value wait for
the one load in flight instead of each reading it again. The number of keys
is bounded (least recently stored out first): search pages are many.

``view`` keeps the API object made from a held value for as long as the value
is held, so that a value read again is the same object again, and the fast
path can reuse what it serialized of it.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable, Hashable, Sequence
from typing import Any, TypeVar

from gateway.shared import ALL_SHOPS

T = TypeVar("T")
K = TypeVar("K")
V = TypeVar("V")
_MAX_VIEWS = 5_000


class ReferenceCache:
    def __init__(self, ttl_seconds: float, max_entries: int = 4096, clock: Callable[[], float] = time.monotonic) -> None:
        self._ttl = ttl_seconds
        self._max = max_entries
        self._clock = clock
        self._held: dict[tuple[Hashable, int], tuple[float, Any]] = {}
        self._loading: dict[tuple[Hashable, int], asyncio.Future[Any]] = {}
        self._generation = 0  # moves on at every drop: a load that began before it is not kept
        self._views: dict[tuple[Any, ...], tuple[Any, Any]] = {}

    @property
    def enabled(self) -> bool:
        return self._ttl > 0

    async def get(self, kind: Hashable, shop_id: int, load: Callable[[], Awaitable[T]]) -> T:
        if self._ttl <= 0:
            return await load()
        key = (kind, shop_id)
        held = self._held.get(key)
        if held is not None and held[0] > self._clock():
            return held[1]  # type: ignore[no-any-return]
        loading = self._loading.get(key)
        if loading is not None:
            try:
                return await asyncio.shield(loading)  # type: ignore[no-any-return]
            except asyncio.CancelledError:
                if not loading.cancelled() or _cancelling():
                    raise
                return await self.get(kind, shop_id, load)  # the leader was cancelled, not us: load
        future: asyncio.Future[Any] = asyncio.get_running_loop().create_future()
        self._loading[key] = future
        generation = self._generation
        try:
            value = await load()
        except asyncio.CancelledError:
            future.cancel()  # the waiters load for themselves (see above)
            raise
        except BaseException as exc:
            future.set_exception(exc)
            future.exception()  # retrieved: waiters get it, nobody is warned of it
            raise
        finally:
            if self._loading.get(key) is future:
                del self._loading[key]
        if self._generation == generation:
            self._keep(key, value)
        future.set_result(value)
        return value

    async def get_many(
        self, kind: str, shop_id: int, keys: Sequence[K], load: Callable[[list[K]], Awaitable[list[V]]]
    ) -> list[V]:
        """One value per key, loading the missing ones in one call; keys another request is
        loading are waited for, not loaded again (16 requests meeting an expired page's SKUs
        load them once)."""
        if self._ttl <= 0:
            return await load(list(keys))
        now = self._clock()
        found: dict[K, V] = {}
        waiting: dict[K, asyncio.Future[Any]] = {}
        for key in keys:
            full = ((kind, key), shop_id)
            held = self._held.get(full)
            if held is not None and held[0] > now:
                found[key] = held[1]
            elif full in self._loading:
                waiting[key] = self._loading[full]
        missing = [k for k in dict.fromkeys(keys) if k not in found and k not in waiting]
        if missing:
            futures = {k: asyncio.get_running_loop().create_future() for k in missing}
            for key, future in futures.items():
                self._loading[((kind, key), shop_id)] = future
            generation = self._generation
            try:
                loaded = await load(missing)
            except asyncio.CancelledError:
                for future in futures.values():
                    future.cancel()
                raise
            except BaseException as exc:
                for future in futures.values():
                    future.set_exception(exc)
                    future.exception()
                raise
            finally:
                for key, future in futures.items():
                    if self._loading.get(((kind, key), shop_id)) is future:
                        del self._loading[((kind, key), shop_id)]
            for key, value in zip(missing, loaded, strict=True):
                found[key] = value
                futures[key].set_result(value)
                if self._generation == generation:
                    self._keep(((kind, key), shop_id), value)
        for key, future in waiting.items():
            try:
                found[key] = await asyncio.shield(future)
            except asyncio.CancelledError:
                if not future.cancelled() or _cancelling():
                    raise
                [found[key]] = await load([key])  # the leader was cancelled, not us
        return [found[k] for k in keys]

    def view(self, value: Any, make: Callable[[Any], T]) -> T:
        """``make(value)``, the same object each time for the same held value."""
        if self._ttl <= 0:
            return make(value)
        key = (id(value), make)
        kept = self._views.get(key)
        if kept is not None and kept[0] is value:
            return kept[1]  # type: ignore[no-any-return]
        if len(self._views) >= _MAX_VIEWS:
            self._views.clear()
        made = make(value)
        self._views[key] = (value, made)  # holding value keeps its id from being reused
        return made

    def derived(self, parts: tuple[Any, ...], make: Callable[[], T]) -> T:
        """``make()``, the same object again while ``parts`` are the same held objects
        (a product's coupons, say: made of the held templates, SKUs and categories)."""
        if self._ttl <= 0:
            return make()
        key = (make.__code__, *map(id, parts))
        kept = self._views.get(key)
        if kept is not None and all(a is b for a, b in zip(kept[0], parts, strict=True)):
            return kept[1]  # type: ignore[no-any-return]
        if len(self._views) >= _MAX_VIEWS:
            self._views.clear()
        made = make()
        self._views[key] = (parts, made)
        return made

    def _keep(self, key: tuple[Hashable, int], value: Any) -> None:
        self._held.pop(key, None)
        self._held[key] = (self._clock() + self._ttl, value)
        while len(self._held) > self._max:
            del self._held[next(iter(self._held))]

    def drop(self, shop_id: int) -> None:
        """Forget the shop's data (every shop's for ``ALL_SHOPS``). Loads in flight finish for
        those already waiting, but a request that asks after this loads anew."""
        self._generation += 1
        for key in [k for k in self._held if shop_id in (k[1], ALL_SHOPS)]:
            del self._held[key]
        for key in [k for k in self._loading if shop_id in (k[1], ALL_SHOPS)]:
            del self._loading[key]


def _cancelling() -> bool:
    task = asyncio.current_task()
    return task is not None and task.cancelling() > 0
