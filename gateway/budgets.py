"""Leaky buckets: what a secret key, a shopper or a client address may still spend.

A bucket holds at most ``points`` and gets ``per_second`` back each second. Taking
``cost`` from it succeeds when that much is there (then it is gone), else says how
long until it will be. A bucket nobody took from is full, so a missing one is a
full one and the stores may forget idle buckets.

- ``LocalBuckets``: in this process's memory (one worker, or Redis unreachable).
- ``RedisBuckets``: in Redis, one atomic script per take with Redis's own clock, so
  every worker of a deployment spends one budget exactly. When Redis does not
  answer, the take falls back to this worker's own buckets and the log says so.
"""

from __future__ import annotations

import logging
import math
import time
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass
from typing import Protocol

from gateway.settings import Rate

log = logging.getLogger("jimu.budgets")

_PREFIX = "jimu:bucket:"
RETRY_REDIS_SECONDS = 5
_MAX_LOCAL = 100_000  # idle buckets past this are forgotten (forgotten is full)

# KEYS[1]: the bucket. ARGV: points, per second, cost (negative: a refund, always given, up
# to the size). Returns: taken (0/1), what is left (thousandths of a point), milliseconds
# until the cost would be there.
_MOVE = """
local points, rate, cost = tonumber(ARGV[1]), tonumber(ARGV[2]), tonumber(ARGV[3])
local clock = redis.call('TIME')
local now = tonumber(clock[1]) + tonumber(clock[2]) / 1000000
local held = redis.call('HMGET', KEYS[1], 'level', 'at')
local level, at = tonumber(held[1]), tonumber(held[2])
if level == nil then level, at = points, now end
level = math.min(points, level + math.max(0, now - at) * rate)
local taken, wait = 0, 0
if level >= cost then
  level = math.min(points, level - cost)
  taken = 1
else
  wait = math.ceil((cost - level) / rate * 1000)
end
redis.call('HSET', KEYS[1], 'level', tostring(level), 'at', tostring(now))
redis.call('PEXPIRE', KEYS[1], math.ceil((points - level) / rate * 1000) + 1000)
return {taken, math.floor(level * 1000), wait}
"""


@dataclass(frozen=True, slots=True)
class Taken:
    """What a take found: whether it took, what is left, and when it could have."""

    taken: bool
    left: float
    retry_after: float  # seconds; 0 when taken


class Buckets(Protocol):
    async def take(self, key: str, rate: Rate, cost: int) -> Taken: ...

    async def give(self, key: str, rate: Rate, refund: int) -> float:
        """Give back ``refund`` points (what an answer cost less than asked); what is left."""
        ...

    async def close(self) -> None: ...


class LocalBuckets:
    def __init__(self, clock: Callable[[], float] = time.monotonic) -> None:
        self._clock = clock
        self._held: OrderedDict[str, tuple[float, float]] = OrderedDict()  # key -> (level, at)

    async def take(self, key: str, rate: Rate, cost: int) -> Taken:
        level, now = self._level(key, rate)
        if level >= cost:  # a negative cost is a refund: always given, up to the size
            left = min(float(rate.points), level - cost)
            self._keep(key, left, now)
            return Taken(True, left, 0.0)
        self._keep(key, level, now)
        return Taken(False, level, (cost - level) / rate.per_second)

    async def give(self, key: str, rate: Rate, refund: int) -> float:
        return (await self.take(key, rate, -refund)).left

    async def close(self) -> None:
        return None

    def _level(self, key: str, rate: Rate) -> tuple[float, float]:
        now = self._clock()
        level, at = self._held.get(key, (float(rate.points), now))
        return min(float(rate.points), level + max(0.0, now - at) * rate.per_second), now

    def _keep(self, key: str, level: float, now: float) -> None:
        self._held[key] = (level, now)
        self._held.move_to_end(key)
        if len(self._held) > _MAX_LOCAL:
            self._held.popitem(last=False)


class RedisBuckets:
    def __init__(self, url: str) -> None:
        # Imported here: the single-process default must not need the package loaded.
        from redis import asyncio as aioredis

        # A take is on every charged request's path: a Redis that does not answer must cost
        # a quarter second once, then nothing until it is tried again.
        self._redis = aioredis.Redis.from_url(url, socket_timeout=0.25, socket_connect_timeout=0.25)
        self._errors: tuple[type[BaseException], ...] = (aioredis.RedisError, OSError)
        self._move = self._redis.register_script(_MOVE)
        self._local = LocalBuckets()
        self._down_until = 0.0

    async def take(self, key: str, rate: Rate, cost: int) -> Taken:
        if time.monotonic() < self._down_until:
            return await self._local.take(key, rate, cost)
        try:
            taken, left, wait = await self._move(keys=[_PREFIX + key], args=[rate.points, rate.per_second, cost])
        except self._errors as exc:
            self._fell_back(exc)
            return await self._local.take(key, rate, cost)
        return Taken(bool(taken), int(left) / 1000, int(wait) / 1000)

    async def give(self, key: str, rate: Rate, refund: int) -> float:
        return (await self.take(key, rate, -refund)).left

    async def close(self) -> None:
        try:
            await self._redis.aclose()
        except self._errors:
            pass

    def _fell_back(self, exc: BaseException) -> None:
        self._down_until = time.monotonic() + RETRY_REDIS_SECONDS
        log.warning("redis did not answer: budgets are this worker's own for %d s, then it is tried again: %s",
                    RETRY_REDIS_SECONDS, exc)


def buckets_for(redis_url: str | None) -> Buckets:
    return RedisBuckets(redis_url) if redis_url else LocalBuckets()


def retry_after_header(seconds: float) -> str:
    """HTTP's Retry-After: whole seconds, at least 1."""
    return str(max(1, math.ceil(seconds)))
