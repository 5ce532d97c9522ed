"""Shop keys and shopper tokens, and how fast a revocation of either reaches a worker.

A worker remembers what it learnt of a key (its shop and kind) and of a shopper's token
version for ``REVOCATION_SECONDS`` at most (``JIMU_REVOCATION_SECONDS``, 5 at most): that
is the longest a revoked key or token can still be honoured by a worker nobody told. With
Redis every worker is told at once (``SharedState.revoked``) and drops what it held; a
load that began before the drop is not kept.

The price of the bound: one indexed SELECT per key (and per signed-in shopper) per worker
every couple of seconds, against the hundreds of requests a second a worker answers.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable, MutableMapping
from dataclasses import dataclass
from typing import Any

import jwt

from adapters.shops.port import KeyKind, Shop, ShopStore
from adapters.shops.rules import hash_key, token_is_current
from gateway.shared import ALL_SHOPS

REVOCATION_SECONDS = 2.0  # the default bound; the setting may lower it, or raise it to 5
MAX_REVOCATION_SECONDS = 5.0
_ALGORITHM = "HS256"  # pinned: a token naming any other algorithm is refused
_ISSUER = "jimu"
_ACCESS_KEY = "jimu.access"  # the scope's memo of the key's access
_MAX_HELD = 10_000


@dataclass(frozen=True, slots=True)
class ShopAccess:
    shop: Shop
    kind: KeyKind


class KeyDirectory:
    """Resolves shop keys, remembering hits for a short while to spare the database."""

    def __init__(self, shops: ShopStore, ttl_seconds: float = REVOCATION_SECONDS,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self._shops = shops
        self._ttl = min(ttl_seconds, MAX_REVOCATION_SECONDS)
        self._clock = clock
        self._hits: dict[str, tuple[float, ShopAccess]] = {}
        self._generation = 0  # moves on at every drop: a lookup that began before it is not kept

    async def access_for(self, key: str) -> ShopAccess | None:
        key_hash = hash_key(key)
        cached = self._hits.get(key_hash)
        if cached is not None and cached[0] > self._clock():
            return cached[1]
        generation = self._generation
        found = await self._shops.shop_for_key(key_hash)
        if found is None:
            return None
        access = ShopAccess(shop=found[0], kind=found[1])
        if len(self._hits) > _MAX_HELD:
            self._hits.clear()
        if self._ttl > 0 and generation == self._generation:
            self._hits[key_hash] = (self._clock() + self._ttl, access)
        return access

    def revoked(self, shop_id: int, shopper_id: int | None) -> None:
        """A revocation listener: a key of the shop was revoked, forget its keys."""
        if shopper_id is not None:
            return
        self._generation += 1
        for key_hash in [h for h, (_, a) in self._hits.items() if shop_id in (a.shop.id, ALL_SHOPS)]:
            del self._hits[key_hash]


async def access_in(keys: KeyDirectory, scope: MutableMapping[str, Any]) -> ShopAccess | None:
    """The access of the request's ``X-Jimu-Key`` (its first value, as Starlette reads it),
    resolved once per request: every stage on the way asks for it, and a key is hashed to be
    looked up. None without a key or for an unknown one."""
    if _ACCESS_KEY in scope:
        return scope[_ACCESS_KEY]  # type: ignore[no-any-return]
    key = next((value for name, value in scope.get("headers", ()) if name == b"x-jimu-key"), b"")
    text = key.decode("latin-1").strip()
    access = await keys.access_for(text) if text else None
    scope[_ACCESS_KEY] = access
    return access


class TokenVersions:
    """Each shopper's current token version, held per worker for a short while. The
    shoppers asked for in one turn of the loop are read in one query per shop, and a
    shopper already being read is waited for, not read again."""

    def __init__(self, shops: ShopStore, ttl_seconds: float = REVOCATION_SECONDS,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self._shops = shops
        self._ttl = min(ttl_seconds, MAX_REVOCATION_SECONDS)
        self._clock = clock
        self._held: dict[tuple[int, int], tuple[float, int | None]] = {}
        self._loading: dict[tuple[int, int], asyncio.Future[int | None]] = {}
        self._pending: dict[int, list[int]] = {}
        self._tasks: set[asyncio.Task[None]] = set()
        self._generation = 0

    async def current(self, shop_id: int, shopper_id: int, at_least: int = 0) -> int | None:
        """The shopper's token version; None when the shop has no such shopper. Versions only
        go up: one held below ``at_least`` (a token's, issued since) is stale, and read again,
        as is a shopper held as missing (signed up since on another worker)."""
        key = (shop_id, shopper_id)
        held = self._held.get(key)
        if held is not None and held[0] > self._clock() and held[1] is not None and held[1] >= at_least:
            return held[1]
        loading = self._loading.get(key)
        if loading is None:
            loading = asyncio.get_running_loop().create_future()
            self._loading[key] = loading
            if not self._pending:  # the first of this turn: read them all once the turn is over
                asyncio.get_running_loop().call_soon(self._start_load)
            self._pending.setdefault(shop_id, []).append(shopper_id)
        return await asyncio.shield(loading)

    def _start_load(self) -> None:
        task = asyncio.get_running_loop().create_task(self._load(self._pending))
        self._pending = {}
        self._tasks.add(task)  # held: a task nobody holds may be collected mid-way
        task.add_done_callback(self._tasks.discard)

    async def _load(self, pending: dict[int, list[int]]) -> None:
        generation = self._generation
        for shop_id, ids in pending.items():
            futures = [self._loading[(shop_id, i)] for i in ids]
            try:
                versions = await self._shops.token_versions(shop_id, ids)
            except Exception as exc:  # noqa: BLE001 - every waiter gets it, as its own failure
                versions, failure = [], exc
            else:
                failure = None
            until = self._clock() + self._ttl
            for n, (shopper_id, future) in enumerate(zip(ids, futures, strict=True)):
                del self._loading[(shop_id, shopper_id)]
                if failure is not None:
                    future.set_exception(failure)
                    future.exception()  # retrieved: the waiters raise it, nobody is warned of it
                    continue
                if self._ttl > 0 and generation == self._generation:
                    if len(self._held) > _MAX_HELD:
                        self._held.clear()
                    self._held[(shop_id, shopper_id)] = (until, versions[n])
                future.set_result(versions[n])

    def revoked(self, shop_id: int, shopper_id: int | None) -> None:
        """A revocation listener: forget the shopper's version (every one, for ALL_SHOPS)."""
        if shopper_id is None and shop_id != ALL_SHOPS:
            return
        self._generation += 1
        if shop_id == ALL_SHOPS:
            self._held.clear()
        else:
            self._held.pop((shop_id, shopper_id), None)  # type: ignore[arg-type]


class InvalidToken(Exception):
    pass


@dataclass(frozen=True, slots=True)
class TokenClaims:
    shopper_id: int
    version: int  # 0 for tokens issued before versions: good until the shopper's first revocation


class ShopperTokens:
    """Signed, expiring shopper tokens, valid for the shop that issued them only, and while
    their shopper's token version is the one they were issued at (checked by ``verify``
    when the tokens know the versions)."""

    def __init__(self, secret: str, ttl_seconds: int, versions: TokenVersions | None = None) -> None:
        self._secret = secret
        self._ttl = ttl_seconds
        self._versions = versions

    def issue(self, shop_id: int, shopper_id: int, version: int = 0) -> str:
        now = int(time.time())
        claims = {"iss": _ISSUER, "sub": str(shopper_id), "shp": shop_id, "ver": version, "iat": now,
                  "exp": now + self._ttl}
        return jwt.encode(claims, self._secret, algorithm=_ALGORITHM)

    def shopper_id(self, token: str, shop_id: int) -> int:
        """The token's shopper, from its signature and claims alone."""
        return self.claims(token, shop_id).shopper_id

    async def verify(self, token: str, shop_id: int) -> int:
        """The token's shopper, once the token's version is checked to be current."""
        claims = self.claims(token, shop_id)
        if self._versions is not None:
            current = await self._versions.current(shop_id, claims.shopper_id, claims.version)
            if not token_is_current(claims.version, current):
                raise InvalidToken("the shopper token was revoked; sign in again")
        return claims.shopper_id

    def claims(self, token: str, shop_id: int) -> TokenClaims:
        try:
            claims = jwt.decode(
                token,
                self._secret,
                algorithms=[_ALGORITHM],
                issuer=_ISSUER,
                options={"require": ["exp", "iat", "sub", "shp", "iss"]},
            )
        except jwt.ExpiredSignatureError as exc:
            raise InvalidToken("the shopper token has expired; sign in again") from exc
        except jwt.InvalidTokenError as exc:
            raise InvalidToken("the shopper token is not valid") from exc
        if claims["shp"] != shop_id:
            raise InvalidToken("the shopper token was issued by another shop")
        version = claims.get("ver", 0)
        try:
            shopper_id = int(claims["sub"])
        except ValueError as exc:
            raise InvalidToken("the shopper token is not valid") from exc
        if type(version) is not int or version < 0:
            raise InvalidToken("the shopper token is not valid")
        return TokenClaims(shopper_id, version)
