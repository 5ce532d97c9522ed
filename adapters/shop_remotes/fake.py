"""In-memory store of shops' remote systems."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace

from adapters.shop_remotes.port import ShopRemote
from adapters.shops.fake import FakeShopStore


class FakeShopRemotes:
    def __init__(self, shops: FakeShopStore) -> None:
        self._shops = shops
        self.held: dict[int, ShopRemote] = {}

    async def remotes(self) -> list[ShopRemote]:
        return [self.held[shop_id] for shop_id in sorted(self.held)]

    async def put(self, shop_id: int, goods_url: str | None, inventory_url: str | None, secret: str) -> ShopRemote:
        old = self.held.get(shop_id)
        self.held[shop_id] = ShopRemote(shop_id, self._shops.shops[shop_id].handle, goods_url, inventory_url, secret,
                                        old.version + 1 if old else 1)
        return self.held[shop_id]

    async def clear(self, shop_id: int) -> bool:
        return self.held.pop(shop_id, None) is not None

    async def reseal(self, change: Callable[[str], str]) -> int:
        changed = {shop_id: replace(r, secret=change(r.secret)) for shop_id, r in self.held.items()}
        self.held.update(changed)
        return len(changed)
