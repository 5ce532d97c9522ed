"""Per-request DataLoaders, named for what they load.

Keys are ``(shop_id, key)`` so that nested types, which know their shop, can
load without another round trip to resolve the key; each batch calls the port
once per shop (in practice: once).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence
from functools import cached_property
from typing import Any, TypeVar

from aiodataloader import DataLoader

from adapters.db import utcnow
from adapters.delivery.port import Delivery, Quote, QuoteLine
from adapters.goods.port import Category, GoodsCatalog, Product, Sku
from adapters.inventory.port import Inventory
from adapters.shops.port import Shopper, ShopStore

K = TypeVar("K")
V = TypeVar("V")
BatchFn = Callable[[int, Sequence[K]], Awaitable[list[V]]]


def per_shop(fetch: BatchFn[K, V]) -> Callable[[list[tuple[int, K]]], Awaitable[list[V]]]:
    async def batch(keys: list[tuple[int, K]]) -> list[V]:
        by_shop: dict[int, list[K]] = {}
        for shop_id, key in keys:
            by_shop.setdefault(shop_id, []).append(key)
        found: dict[tuple[int, K], V] = {}
        for shop_id, shop_keys in by_shop.items():
            unique = list(dict.fromkeys(shop_keys))
            for key, value in zip(unique, await fetch(shop_id, unique), strict=True):
                found[(shop_id, key)] = value
        return [found[key] for key in keys]

    return batch


class Loaders:
    def __init__(self, goods: GoodsCatalog, shops: ShopStore, inventory: Inventory, delivery: Delivery) -> None:
        self._goods = goods
        self._shops = shops
        self._inventory = inventory
        self._delivery = delivery

    @cached_property
    def product_by_id(self) -> DataLoader[tuple[int, int], Product | None]:
        return _loader(self._goods.products_by_id)

    @cached_property
    def product_by_handle(self) -> DataLoader[tuple[int, str], Product | None]:
        return _loader(self._goods.products_by_handle)

    @cached_property
    def sku_by_id(self) -> DataLoader[tuple[int, int], Sku | None]:
        return _loader(self._goods.skus_by_id)

    @cached_property
    def sku_by_code(self) -> DataLoader[tuple[int, str], Sku | None]:
        return _loader(self._goods.skus_by_code)

    @cached_property
    def skus_by_product(self) -> DataLoader[tuple[int, int], list[Sku]]:
        return _loader(self._goods.skus_by_product)

    @cached_property
    def category_by_id(self) -> DataLoader[tuple[int, int], Category | None]:
        return _loader(self._goods.categories_by_id)

    @cached_property
    def available_by_sku(self) -> DataLoader[tuple[int, tuple[int, str | None]], int]:
        """Units available for (sku_id, region): one inventory query for a whole page."""
        return _loader(self._inventory.available)

    @cached_property
    def delivery_options(self) -> DataLoader[tuple[int, tuple[str, tuple[QuoteLine, ...]]], list[Quote]]:
        """Delivery quotes for (region, lines): one tier and one slot query for a whole page."""

        async def quote(shop_id: int, keys: Sequence[tuple[str, tuple[QuoteLine, ...]]]) -> list[list[Quote]]:
            return await self._delivery.quote(shop_id, keys, utcnow())

        return _loader(quote)

    @cached_property
    def shopper_by_id(self) -> DataLoader[tuple[int, int], Shopper | None]:
        return _loader(self._shops.shoppers_by_id)


def _loader(fetch: BatchFn[Any, Any]) -> DataLoader[Any, Any]:
    return DataLoader(batch_load_fn=per_shop(fetch))
