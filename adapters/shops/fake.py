"""In-memory shop store for tests: same behaviour as the SQL one, no database."""

from __future__ import annotations

import itertools
from collections.abc import Sequence
from dataclasses import replace
from datetime import datetime

from adapters.db import utcnow
from adapters.shops.port import (
    DEFAULT_ONLINE_PAYMENT_CAP,
    KeyKind,
    KeyNotFound,
    LastSecretKey,
    Shop,
    ShopExists,
    ShopKey,
    Shopper,
    ShopPolicy,
)
from adapters.shops.rules import is_last_active_secret


class FakeShopStore:
    def __init__(self) -> None:
        self.shops: dict[int, Shop] = {}
        self.keys: dict[str, ShopKey] = {}  # by hash
        self.shoppers: dict[tuple[int, str], Shopper] = {}
        self._ids = itertools.count(1)

    def put_shop(self, shop: Shop) -> Shop:
        self.shops[shop.id] = shop
        return shop

    def next_id(self) -> int:
        return next(self._ids)

    def put_key(self, shop_id: int, kind: KeyKind, key_hash: str, hint: str | None) -> ShopKey:
        key = ShopKey(self.next_id(), shop_id, kind, hint, utcnow())
        self.keys[key_hash] = key
        return key

    async def shop_for_key(self, key_hash: str) -> tuple[Shop, KeyKind] | None:
        found = self.keys.get(key_hash)
        if found is None or not found.active:
            return None
        return self.shops[found.shop_id], found.kind

    async def shops_by_id(self, ids: Sequence[int]) -> list[Shop | None]:
        return [self.shops.get(i) for i in ids]

    async def shops_by_handle(self, handles: Sequence[str]) -> list[Shop | None]:
        by_handle = {shop.handle: shop for shop in self.shops.values()}
        return [by_handle.get(h) for h in handles]

    async def create_shop(
        self, handle: str, name: str, key_hashes: dict[KeyKind, str], hints: dict[KeyKind, str] | None = None
    ) -> Shop:
        if any(shop.handle == handle for shop in self.shops.values()):
            raise ShopExists(handle)
        shop = self.put_shop(Shop(self.next_id(), handle, name, DEFAULT_ONLINE_PAYMENT_CAP))
        for kind, key_hash in key_hashes.items():
            self.put_key(shop.id, kind, key_hash, (hints or {}).get(kind))
        return shop

    async def keys_of(self, shop_id: int) -> list[ShopKey]:
        return sorted((k for k in self.keys.values() if k.shop_id == shop_id), key=lambda k: k.id)

    async def keys_by_id(self, ids: Sequence[int]) -> list[ShopKey | None]:
        by_id = {k.id: k for k in self.keys.values()}
        return [by_id.get(i) for i in ids]

    async def add_key(self, shop_id: int, kind: KeyKind, key_hash: str, hint: str) -> ShopKey | None:
        return self.put_key(shop_id, kind, key_hash, hint) if shop_id in self.shops else None

    async def revoke_key(self, key_id: int, at: datetime, shop_id: int | None = None,
                         keep_a_secret: bool = False) -> ShopKey:
        found = [(h, k) for h, k in self.keys.items() if k.id == key_id and shop_id in (None, k.shop_id)]
        if not found:
            raise KeyNotFound(key_id)
        [(key_hash, key)] = found
        if not key.active:
            return key
        if keep_a_secret and is_last_active_secret(key, list(self.keys.values())):
            raise LastSecretKey()
        self.keys[key_hash] = replace(key, revoked_at=at)
        return self.keys[key_hash]

    async def revoke_tokens(self, shop_id: int, shopper_id: int) -> Shopper | None:
        for at, shopper in self.shoppers.items():
            if shopper.shop_id == shop_id and shopper.id == shopper_id:
                self.shoppers[at] = replace(shopper, token_version=shopper.token_version + 1)
                return self.shoppers[at]
        return None

    async def token_versions(self, shop_id: int, shopper_ids: Sequence[int]) -> list[int | None]:
        found = await self.shoppers_by_id(shop_id, shopper_ids)
        return [s.token_version if s is not None else None for s in found]

    async def set_policy(self, shop_id: int, policy: ShopPolicy) -> Shop | None:
        shop = self.shops.get(shop_id)
        return None if shop is None else self.put_shop(replace(shop, policy=policy))

    async def shopper_for_subject(self, shop_id: int, subject: str) -> Shopper:
        key = (shop_id, subject)
        if key not in self.shoppers:
            self.shoppers[key] = Shopper(self.next_id(), shop_id, subject, utcnow())
        return self.shoppers[key]

    async def shoppers_by_id(self, shop_id: int, ids: Sequence[int]) -> list[Shopper | None]:
        by_id = {s.id: s for s in self.shoppers.values() if s.shop_id == shop_id}
        return [by_id.get(i) for i in ids]
