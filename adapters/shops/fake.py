"""In-memory shop store for tests: same behaviour as the SQL one, no database."""

from __future__ import annotations

import itertools
from collections.abc import Sequence
from dataclasses import replace

from adapters.db import utcnow
from adapters.shops.port import (
    DEFAULT_ONLINE_PAYMENT_CAP,
    KeyKind,
    Shop,
    ShopExists,
    Shopper,
    ShopPolicy,
)


class FakeShopStore:
    def __init__(self) -> None:
        self.shops: dict[int, Shop] = {}
        self.keys: dict[str, tuple[int, KeyKind]] = {}
        self.shoppers: dict[tuple[int, str], Shopper] = {}
        self._ids = itertools.count(1)

    def put_shop(self, shop: Shop) -> Shop:
        self.shops[shop.id] = shop
        return shop

    def next_id(self) -> int:
        return next(self._ids)

    async def shop_for_key(self, key_hash: str) -> tuple[Shop, KeyKind] | None:
        found = self.keys.get(key_hash)
        if found is None:
            return None
        return self.shops[found[0]], found[1]

    async def shops_by_id(self, ids: Sequence[int]) -> list[Shop | None]:
        return [self.shops.get(i) for i in ids]

    async def shops_by_handle(self, handles: Sequence[str]) -> list[Shop | None]:
        by_handle = {shop.handle: shop for shop in self.shops.values()}
        return [by_handle.get(h) for h in handles]

    async def create_shop(self, handle: str, name: str, key_hashes: dict[KeyKind, str]) -> Shop:
        if any(shop.handle == handle for shop in self.shops.values()):
            raise ShopExists(handle)
        shop = self.put_shop(Shop(self.next_id(), handle, name, DEFAULT_ONLINE_PAYMENT_CAP))
        for kind, key_hash in key_hashes.items():
            self.keys[key_hash] = (shop.id, kind)
        return shop

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
