"""Calls to a merchant's own systems: signed, pooled, bounded in time, retried where safe,
and cut off by a breaker when the remote keeps failing.

Errors (``RemoteError``):

    RemoteError
    ├── RemoteUnavailable  the remote did not answer usably: timeout, connection, 5xx, a 4xx,
    │                      an answer that is not the contract's, an open breaker, the request's
    │                      deadline spent, a secret that cannot be opened. The capability is
    │                      named; what depends on it waits for nothing more.
    └── RemoteRefused      a write refused as the contract says: ``409`` with
                           ``{"error": {"code": ...}}`` and a code the caller names (``refusals``),
                           such as OUT_OF_STOCK. Only that is an outcome, not a failure.

Reads are retried (twice, with full-jitter backoff) within the deadline; writes are made
once here, and are idempotent by their reference, so whoever calls them again (a checkout's
compensation, the sweep) may do so without harm. The reads of one request spend at most
``timeout`` seconds on a remote in all (``Deadline``): the first read starts the clock, every
later read of the request gets what is left. A write gets a whole ``timeout`` of its own: the
reads before it (pricing) must not starve it, or a healthy but unhurried merchant would see
every reserve given up on after it held the stock. A dead remote fails the reads first, so a
request still waits for one at most ``timeout`` (and once its breaker opens, not at all).
"""

from __future__ import annotations

import asyncio
import json
import random
import time
from collections.abc import Callable
from contextvars import ContextVar
from dataclasses import dataclass, field
from typing import Any, TypeVar

import httpx

from adapters.remote.breaker import Breaker
from adapters.remote.signing import signed_headers
from adapters.unavailable import Unavailable

T = TypeVar("T")
READ_RETRIES = 2
BACKOFF_SECONDS = 0.05


class RemoteError(Exception):
    pass


class RemoteUnavailable(RemoteError, Unavailable):
    """The merchant's system did not answer, or not as the contract says: the ports' Unavailable."""


class RemoteRefused(RemoteError):
    def __init__(self, capability: str, code: str, details: dict[str, Any]) -> None:
        super().__init__(f"the merchant's {capability} system refused: {code}")
        self.capability = capability
        self.code = code
        self.details = details


@dataclass(frozen=True, slots=True)
class Endpoint:
    """Where one capability of one shop lives, and how calls to it are signed."""

    shop_id: int
    shop_handle: str
    capability: str  # "goods" or "inventory"
    base_url: str
    secret: str | None = field(repr=False)  # None: the stored secret cannot be opened, no call is made


@dataclass
class Deadline:
    """The time one request may still spend on remotes: started by its first remote call."""

    at: float | None = None

    def remaining(self, now: float, timeout: float) -> float:
        if self.at is None:
            self.at = now + timeout
        return self.at - now


# Set to a fresh Deadline per request by the gateway; without one each call has its own.
request_deadline: ContextVar[Deadline | None] = ContextVar("request_deadline", default=None)


@dataclass
class RemoteClient:
    """One per process: the connection pool and the breakers of every shop's remotes."""

    http: httpx.AsyncClient
    timeout: float = 0.8
    clock: Callable[[], float] = time.monotonic
    wall: Callable[[], float] = time.time
    # per endpoint (shop, capability, URL): a remote set anew starts with a closed breaker
    breakers: dict[tuple[int, str, str], Breaker] = field(default_factory=dict)

    async def read(self, endpoint: Endpoint, path: str, body: dict[str, Any],
                   parse: Callable[[dict[str, Any]], T]) -> T:
        """``call`` for a read: retried, within the request's deadline."""
        return await self.call(endpoint, path, body, parse, read=True)

    async def call(self, endpoint: Endpoint, path: str, body: dict[str, Any], parse: Callable[[dict[str, Any]], T],
                   *, read: bool, refusals: frozenset[str] = frozenset()) -> T:
        """What ``parse`` makes of the remote's answer; raises RemoteUnavailable or RemoteRefused
        (a write's ``409`` with one of the ``refusals`` codes). ``parse`` raises ValueError
        (pydantic's ValidationError is one) for an answer that is not the contract's: that
        counts as a failure of the remote, like a 500."""
        if endpoint.secret is None:
            raise RemoteUnavailable(endpoint.capability, "its secret cannot be opened: set the shop's remote again")
        breaker = self.breakers.setdefault(breaker_key(endpoint), Breaker())
        deadline = request_deadline.get() or Deadline()
        raw = json.dumps(body, separators=(",", ":"), ensure_ascii=False).encode()
        attempts = 1 + (READ_RETRIES if read else 0)
        refusable = frozenset() if read else refusals
        reason = "no attempt made"
        for attempt in range(attempts):
            left = deadline.remaining(self.clock(), self.timeout) if read else self.timeout
            if left <= 0:
                raise RemoteUnavailable(endpoint.capability, f"no answer within {self.timeout:.3g} s ({reason})")
            if not breaker.allow(self.clock()):
                raise RemoteUnavailable(endpoint.capability, "failing: calls are paused for a while")
            settled = False
            try:
                answer = await self._post(endpoint, path, raw, left, refusable)
                parsed = answer if isinstance(answer, RemoteRefused) else _parsed(parse, answer)
                settled = True
            except _Failed as exc:
                settled = True
                breaker.failed(self.clock())
                reason = str(exc)
                if attempt + 1 < attempts:
                    pause = random.uniform(0, BACKOFF_SECONDS * 2**attempt)
                    await asyncio.sleep(min(pause, max(deadline.remaining(self.clock(), self.timeout), 0)))
                continue
            finally:
                if not settled:  # cancelled, or parse broke: a half-open trial must not stay taken
                    breaker.abandoned()
            breaker.succeeded()
            if isinstance(parsed, RemoteRefused):
                raise parsed
            return parsed
        raise RemoteUnavailable(endpoint.capability, reason)

    async def _post(self, endpoint: Endpoint, path: str, raw: bytes, left: float,
                    refusals: frozenset[str]) -> dict[str, Any] | RemoteRefused:
        assert endpoint.secret is not None
        headers = signed_headers(endpoint.secret, endpoint.shop_handle, int(self.wall()), path, raw)
        url = endpoint.base_url.rstrip("/") + path
        try:
            response = await asyncio.wait_for(self.http.post(url, content=raw, headers=headers), timeout=left)
        except (TimeoutError, asyncio.TimeoutError):
            raise _Failed("timed out") from None
        except httpx.HTTPError as exc:
            raise _Failed(type(exc).__name__) from None
        try:
            answer = response.json()
        except ValueError:
            raise _Failed(f"HTTP {response.status_code}, not JSON") from None
        if not isinstance(answer, dict):
            raise _Failed(f"HTTP {response.status_code}, not a JSON object")
        if response.status_code == 409 and isinstance(error := answer.get("error"), dict) \
                and error.get("code") in refusals:
            return RemoteRefused(endpoint.capability, error["code"], error)
        if response.status_code != 200:
            raise _Failed(f"HTTP {response.status_code}")
        return answer


def breaker_key(endpoint: Endpoint) -> tuple[int, str, str]:
    return endpoint.shop_id, endpoint.capability, endpoint.base_url


class _Failed(Exception):
    """An attempt that got no usable answer."""


def _parsed(parse: Callable[[dict[str, Any]], T], answer: dict[str, Any]) -> T:
    try:
        return parse(answer)
    except ValueError as exc:
        first = str(exc).splitlines()[0][:200]
        raise _Failed(f"the answer is not the contract's ({first})") from None
