"""State the workers share: cached responses, recompute claims, invalidations.

One small port with two implementations, chosen by ``JIMU_REDIS_URL``:

- ``LocalState``: a single process. It holds nothing itself (each worker's own
  memory is the response cache's first level); a claim is always granted, and
  an invalidation reaches this process's listeners only.
- ``RedisState``: every worker of a deployment. Entries live in Redis under a
  per-shop index, so one worker's recompute serves all; a claim is
  ``SET NX PX``, so one worker recomputes an expired entry; an invalidation
  deletes the shop's entries and is published, and every worker's listener
  drops what it holds.

A revocation (a key, or a shopper's tokens) is a second kind of message on the same
channel, ``revoke:<shop>[:<shopper>]``: the workers drop what they believe of the shop's
keys or of the shopper's token version, and nothing else (their cached responses stay).
Without Redis it reaches this process only; the others follow within their bound.

Redis trouble never fails a request: a read becomes a miss, a write is skipped
and logged, and the answer is computed as if there were no cache.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Callable
from typing import Protocol

log = logging.getLogger("jimu.shared")

Listener = Callable[[int], None]
RevocationListener = Callable[[int, int | None], None]  # shop id, shopper id (None: the shop's keys)
ALL_SHOPS = -1  # a listener told this drops what it holds for every shop
CHANNEL = "jimu:invalidate"
_REVOKE = "revoke:"
_PREFIX = "jimu:rc:"

# Deletes every entry of a shop and tells every worker, in one step.
_INVALIDATE = """
local keys = redis.call('SMEMBERS', KEYS[1])
for i = 1, #keys, 500 do
  redis.call('DEL', unpack(keys, i, math.min(i + 499, #keys)))
end
redis.call('DEL', KEYS[1])
redis.call('PUBLISH', ARGV[1], ARGV[2])
return #keys
"""


class SharedState(Protocol):
    """What the workers of one deployment share."""

    async def get(self, key: str) -> bytes | None: ...

    async def put(self, shop_id: int, key: str, value: bytes, ttl_seconds: float) -> None: ...

    async def claim(self, key: str, ttl_seconds: float) -> bool:
        """True when this worker is the one to recompute ``key`` now."""
        ...

    async def release(self, key: str) -> None: ...

    async def invalidate(self, shop_id: int) -> None:
        """Forget the shop's entries here and in every worker."""
        ...

    def subscribe(self, listener: Listener) -> None: ...

    async def ping(self) -> bool:
        """Whether what is shared answers (for readiness)."""
        ...

    async def revoked(self, shop_id: int, shopper_id: int | None = None) -> None:
        """Tell every worker a key of the shop, or the shopper's tokens, were revoked."""
        ...

    def on_revoked(self, listener: RevocationListener) -> None: ...

    async def close(self) -> None: ...


class LocalState:
    def __init__(self) -> None:
        self._listeners: list[Listener] = []
        self._revocation_listeners: list[RevocationListener] = []

    async def get(self, key: str) -> bytes | None:
        return None

    async def put(self, shop_id: int, key: str, value: bytes, ttl_seconds: float) -> None:
        return None

    async def claim(self, key: str, ttl_seconds: float) -> bool:
        return True

    async def release(self, key: str) -> None:
        return None

    async def invalidate(self, shop_id: int) -> None:
        _tell(self._listeners, shop_id)

    def subscribe(self, listener: Listener) -> None:
        self._listeners.append(listener)

    async def ping(self) -> bool:
        return True

    async def revoked(self, shop_id: int, shopper_id: int | None = None) -> None:
        _tell_revoked(self._revocation_listeners, shop_id, shopper_id)

    def on_revoked(self, listener: RevocationListener) -> None:
        self._revocation_listeners.append(listener)

    async def close(self) -> None:
        return None


class RedisState:
    def __init__(self, url: str) -> None:
        # Imported here: the single-process default must not need the package loaded.
        from redis import asyncio as aioredis

        self._redis = aioredis.Redis.from_url(url)
        self._errors: tuple[type[BaseException], ...] = (aioredis.RedisError, OSError)
        self._invalidate = self._redis.register_script(_INVALIDATE)
        self._listeners: list[Listener] = []
        self._revocation_listeners: list[RevocationListener] = []
        self._subscriber: asyncio.Task[None] | None = None
        self._subscribed = asyncio.Event()

    async def get(self, key: str) -> bytes | None:
        self._listen()
        try:
            return await self._redis.get(_PREFIX + key)
        except self._errors as exc:
            log.warning("redis get failed, answering without the shared cache: %s", exc)
            return None

    async def put(self, shop_id: int, key: str, value: bytes, ttl_seconds: float) -> None:
        index = f"{_PREFIX}shop:{shop_id}"
        ms = max(int(ttl_seconds * 1000), 1)
        try:
            async with self._redis.pipeline(transaction=True) as pipe:
                pipe.set(_PREFIX + key, value, px=ms)
                pipe.sadd(index, _PREFIX + key)
                pipe.pexpire(index, ms, gt=True)
                pipe.pexpire(index, ms, nx=True)
                await pipe.execute()
        except self._errors as exc:
            log.warning("redis put failed, entry kept in this worker only: %s", exc)

    async def claim(self, key: str, ttl_seconds: float) -> bool:
        try:
            return bool(await self._redis.set(f"{_PREFIX}claim:{key}", b"1", nx=True, px=max(int(ttl_seconds * 1000), 1)))
        except self._errors:
            return True  # no way to agree: recompute here

    async def release(self, key: str) -> None:
        with contextlib.suppress(*self._errors):
            await self._redis.delete(f"{_PREFIX}claim:{key}")

    async def invalidate(self, shop_id: int) -> None:
        _tell(self._listeners, shop_id)  # this worker at once, the others by the channel
        try:
            await self._invalidate(keys=[f"{_PREFIX}shop:{shop_id}"], args=[CHANNEL, str(shop_id)])
        except self._errors as exc:
            log.error("redis invalidation of shop %s failed; other workers expire it by age: %s", shop_id, exc)

    def subscribe(self, listener: Listener) -> None:
        self._listeners.append(listener)
        self._listen()

    async def revoked(self, shop_id: int, shopper_id: int | None = None) -> None:
        _tell_revoked(self._revocation_listeners, shop_id, shopper_id)
        message = f"{_REVOKE}{shop_id}" + ("" if shopper_id is None else f":{shopper_id}")
        try:
            await self._redis.publish(CHANNEL, message)
        except self._errors as exc:
            log.error("redis could not tell the workers of a revocation in shop %s; they follow by age: %s",
                      shop_id, exc)

    def on_revoked(self, listener: RevocationListener) -> None:
        self._revocation_listeners.append(listener)
        self._listen()

    async def wait_subscribed(self, timeout: float = 5.0) -> None:
        self._listen()
        await asyncio.wait_for(self._subscribed.wait(), timeout)

    def _listen(self) -> None:
        if self._subscriber is None or self._subscriber.done():
            self._subscriber = asyncio.get_running_loop().create_task(self._run_subscriber())

    async def _run_subscriber(self) -> None:
        while True:
            try:
                async with self._redis.pubsub(ignore_subscribe_messages=True) as pubsub:
                    await pubsub.subscribe(CHANNEL)
                    self._subscribed.set()
                    async for message in pubsub.listen():
                        if message.get("type") == "message":
                            with contextlib.suppress(ValueError):
                                self._heard(message["data"])
            except asyncio.CancelledError:
                raise
            except self._errors as exc:
                self._subscribed.clear()
                log.warning("redis subscription lost, retrying: %s", exc)
                # What was published meanwhile is lost: drop everything held locally.
                _tell(self._listeners, ALL_SHOPS)
                _tell_revoked(self._revocation_listeners, ALL_SHOPS, None)
                await asyncio.sleep(1)

    async def ping(self) -> bool:
        try:
            return bool(await asyncio.wait_for(self._redis.ping(), timeout=1.0))
        except (TimeoutError, *self._errors):
            return False

    def _heard(self, data: bytes) -> None:
        """One message of the channel: a shop id to invalidate, or a revocation."""
        text = data.decode("ascii")
        if not text.startswith(_REVOKE):
            _tell(self._listeners, int(text))
            return
        shop, _, shopper = text.removeprefix(_REVOKE).partition(":")
        _tell_revoked(self._revocation_listeners, int(shop), int(shopper) if shopper else None)

    async def close(self) -> None:
        if self._subscriber is not None:
            self._subscriber.cancel()
            with contextlib.suppress(asyncio.CancelledError, *self._errors):
                await self._subscriber
        with contextlib.suppress(*self._errors):
            await self._redis.aclose()


def _tell(listeners: list[Listener], shop_id: int) -> None:
    for listener in listeners:
        listener(shop_id)


def _tell_revoked(listeners: list[RevocationListener], shop_id: int, shopper_id: int | None) -> None:
    for listener in listeners:
        listener(shop_id, shopper_id)


def shared_state(redis_url: str | None) -> SharedState:
    return RedisState(redis_url) if redis_url else LocalState()
