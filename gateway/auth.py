"""Shop keys and shopper tokens."""

from __future__ import annotations

import time
from collections.abc import MutableMapping
from dataclasses import dataclass
from typing import Any

import jwt

from adapters.shops.port import KeyKind, Shop, ShopStore
from adapters.shops.rules import hash_key

_ALGORITHM = "HS256"  # pinned: a token naming any other algorithm is refused
_ISSUER = "jimu"
_ACCESS_KEY = "jimu.access"  # the scope's memo of the key's access


@dataclass(frozen=True, slots=True)
class ShopAccess:
    shop: Shop
    kind: KeyKind


class KeyDirectory:
    """Resolves shop keys, remembering hits for a short while to spare the database."""

    def __init__(self, shops: ShopStore, ttl_seconds: float = 30.0) -> None:
        self._shops = shops
        self._ttl = ttl_seconds
        self._hits: dict[str, tuple[float, ShopAccess]] = {}

    async def access_for(self, key: str) -> ShopAccess | None:
        key_hash = hash_key(key)
        cached = self._hits.get(key_hash)
        if cached is not None and cached[0] > time.monotonic():
            return cached[1]
        found = await self._shops.shop_for_key(key_hash)
        if found is None:
            return None
        access = ShopAccess(shop=found[0], kind=found[1])
        if len(self._hits) > 10_000:
            self._hits.clear()
        self._hits[key_hash] = (time.monotonic() + self._ttl, access)
        return access


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


class InvalidToken(Exception):
    pass


class ShopperTokens:
    """Signed, expiring shopper tokens, valid for the shop that issued them only."""

    def __init__(self, secret: str, ttl_seconds: int) -> None:
        self._secret = secret
        self._ttl = ttl_seconds

    def issue(self, shop_id: int, shopper_id: int) -> str:
        now = int(time.time())
        claims = {"iss": _ISSUER, "sub": str(shopper_id), "shp": shop_id, "iat": now, "exp": now + self._ttl}
        return jwt.encode(claims, self._secret, algorithm=_ALGORITHM)

    def shopper_id(self, token: str, shop_id: int) -> int:
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
        try:
            return int(claims["sub"])
        except ValueError as exc:
            raise InvalidToken("the shopper token is not valid") from exc
