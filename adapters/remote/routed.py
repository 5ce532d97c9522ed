"""Goods and stock routed per shop: from jimu's database, or from the merchant's own systems
where ``jimu shop remote`` says so. Everything above the ports (pricing, checkout, the schema)
sees one GoodsCatalog and one Inventory and never asks where a shop's goods live.

A worker believes the shops' remote settings for ``ttl`` seconds (2): a change made with the
CLI reaches every worker within that, without a restart. A shop whose secret will not open (kept
unsealed in production, sealed with a key since retired) is unavailable on its own remotes; the
other shops are served as ever.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime

from adapters.goods.http import HttpGoodsCatalog
from adapters.goods.port import (
    Category,
    GoodsCatalog,
    Position,
    Product,
    ProductPage,
    ProductQuery,
    Sku,
)
from adapters.inventory.http import HttpInventory
from adapters.inventory.port import (
    Inventory,
    Reservation,
    StockLevel,
    WantedLine,
    Warehouse,
)
from adapters.paging import Window
from adapters.remote.client import Endpoint, RemoteClient
from adapters.shop_remotes.port import ShopRemote, ShopRemotes

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class _Served:
    remote: ShopRemote  # as stored, sealed secret and all: any change makes new adapters
    goods: GoodsCatalog
    inventory: Inventory


class Remotes:
    """The adapters serving each shop, as this worker believes."""

    def __init__(self, store: ShopRemotes, client: RemoteClient, open_secret: Callable[[str], str],
                 goods: GoodsCatalog, inventory: Inventory, ttl: float = 2.0,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self._store, self._client, self._open = store, client, open_secret
        self.local_goods, self.local_inventory = goods, inventory
        self._ttl, self._clock = ttl, clock
        self._served: dict[int, _Served] = {}
        self._read_at: float | None = None
        self._lock = asyncio.Lock()

    async def goods(self, shop_id: int) -> GoodsCatalog:
        served = (await self._current()).get(shop_id)
        return served.goods if served else self.local_goods

    async def inventory(self, shop_id: int) -> Inventory:
        served = (await self._current()).get(shop_id)
        return served.inventory if served else self.local_inventory

    async def _current(self) -> dict[int, _Served]:
        if self._read_at is not None and self._clock() - self._read_at < self._ttl:
            return self._served
        async with self._lock:  # one read at a time; the others take what it read
            if self._read_at is None or self._clock() - self._read_at >= self._ttl:
                rows = await self._store.remotes()
                self._served = {r.shop_id: self._kept(r) for r in rows}
                self._read_at = self._clock()
        return self._served

    def _kept(self, remote: ShopRemote) -> _Served:
        held = self._served.get(remote.shop_id)
        # The whole row, not its version: a clear then a set starts the version again at 1, and
        # a worker that missed the gap would keep the old URLs and secret. (The breakers are the
        # client's, per shop, capability and URL: they outlive adapters made anew.)
        if held is not None and held.remote == remote:
            return held
        secret: str | None
        try:
            secret = self._open(remote.secret)
        except Exception as exc:  # once per row read: it is kept, and opened again only when changed
            log.error("shop %s: its remote's secret cannot be opened, its remotes are unavailable: %s",
                      remote.shop_handle, exc)
            secret = None
        goods: GoodsCatalog = self.local_goods
        if remote.goods_url:
            goods = HttpGoodsCatalog(self._client, Endpoint(remote.shop_id, remote.shop_handle, "goods",
                                                            remote.goods_url, secret))
        inventory: Inventory = self.local_inventory
        if remote.inventory_url:
            inventory = HttpInventory(self._client, Endpoint(remote.shop_id, remote.shop_handle, "inventory",
                                                             remote.inventory_url, secret), goods)
        return _Served(remote, goods, inventory)


class RoutedGoods:
    def __init__(self, remotes: Remotes) -> None:
        self._remotes = remotes

    async def products_by_id(self, shop_id: int, ids: Sequence[int]) -> list[Product | None]:
        return await (await self._remotes.goods(shop_id)).products_by_id(shop_id, ids)

    async def products_by_handle(self, shop_id: int, handles: Sequence[str]) -> list[Product | None]:
        return await (await self._remotes.goods(shop_id)).products_by_handle(shop_id, handles)

    async def skus_by_id(self, shop_id: int, ids: Sequence[int]) -> list[Sku | None]:
        return await (await self._remotes.goods(shop_id)).skus_by_id(shop_id, ids)

    async def skus_by_code(self, shop_id: int, codes: Sequence[str]) -> list[Sku | None]:
        return await (await self._remotes.goods(shop_id)).skus_by_code(shop_id, codes)

    async def skus_by_product(self, shop_id: int, product_ids: Sequence[int]) -> list[list[Sku]]:
        return await (await self._remotes.goods(shop_id)).skus_by_product(shop_id, product_ids)

    async def categories_by_id(self, shop_id: int, ids: Sequence[int]) -> list[Category | None]:
        return await (await self._remotes.goods(shop_id)).categories_by_id(shop_id, ids)

    async def categories(self, shop_id: int) -> list[Category]:
        return await (await self._remotes.goods(shop_id)).categories(shop_id)

    async def search_products(self, shop_id: int, query: ProductQuery, window: Window[Position]) -> ProductPage:
        return await (await self._remotes.goods(shop_id)).search_products(shop_id, query, window)

    async def count_products(self, shop_id: int, query: ProductQuery) -> int:
        return await (await self._remotes.goods(shop_id)).count_products(shop_id, query)


class RoutedInventory:
    def __init__(self, remotes: Remotes) -> None:
        self._remotes = remotes

    async def available(self, shop_id: int, keys: Sequence[tuple[int, str | None]]) -> list[int]:
        return await (await self._remotes.inventory(shop_id)).available(shop_id, keys)

    async def skus_in_stock(self, shop_id: int, region: str) -> set[int]:
        return await (await self._remotes.inventory(shop_id)).skus_in_stock(shop_id, region)

    async def warehouses(self, shop_id: int) -> list[Warehouse]:
        return await (await self._remotes.inventory(shop_id)).warehouses(shop_id)

    async def units(self, shop_id: int, sku_ids: Sequence[int], warehouse_codes: Sequence[str]) -> dict[int, int]:
        return await (await self._remotes.inventory(shop_id)).units(shop_id, sku_ids, warehouse_codes)

    async def levels(self, shop_id: int, sku_id: int) -> list[StockLevel]:
        return await (await self._remotes.inventory(shop_id)).levels(shop_id, sku_id)

    async def set_available(self, shop_id: int, sku_id: int, warehouse_code: str, quantity: int) -> None:
        await (await self._remotes.inventory(shop_id)).set_available(shop_id, sku_id, warehouse_code, quantity)

    async def set_low_stock(self, shop_id: int, sku_id: int | None, threshold: int | None) -> None:
        await (await self._remotes.inventory(shop_id)).set_low_stock(shop_id, sku_id, threshold)

    async def low_stock_thresholds(self, shop_id: int) -> dict[int | None, int]:
        return await (await self._remotes.inventory(shop_id)).low_stock_thresholds(shop_id)

    async def reserve(self, shop_id: int, ref: str, shopper_id: int | None, region: str,
                      lines: Sequence[WantedLine], expires_at: datetime) -> Reservation:
        inventory = await self._remotes.inventory(shop_id)
        return await inventory.reserve(shop_id, ref, shopper_id, region, lines, expires_at)

    async def commit(self, shop_id: int, reservation_id: int) -> bool:
        return await (await self._remotes.inventory(shop_id)).commit(shop_id, reservation_id)

    async def release(self, shop_id: int, reservation_id: int) -> bool:
        return await (await self._remotes.inventory(shop_id)).release(shop_id, reservation_id)

    async def release_ref(self, shop_id: int, ref: str) -> bool:
        return await (await self._remotes.inventory(shop_id)).release_ref(shop_id, ref)

    async def expire_due(self, now: datetime, limit: int = 100) -> list[Reservation]:
        # jimu's own reservations; a merchant's system expires its own at their expiresAt
        return await self._remotes.local_inventory.expire_due(now, limit)

    async def reservation(self, shop_id: int, reservation_id: int) -> Reservation | None:
        return await (await self._remotes.inventory(shop_id)).reservation(shop_id, reservation_id)

    async def reservation_by_ref(self, shop_id: int, ref: str) -> Reservation | None:
        return await (await self._remotes.inventory(shop_id)).reservation_by_ref(shop_id, ref)
