"""Per-request DataLoaders, named for what they load.

Keys are ``(shop_id, key)`` so that nested types, which know their shop, can
load without another round trip to resolve the key; each batch calls the port
once per shop (in practice: once). Categories, the delivery offer and the
claimable coupons come through the worker's reference cache: storefront reads
only (checkout and pricing ask the adapters).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence
from functools import cached_property
from typing import TYPE_CHECKING, Any, TypeVar

from aiodataloader import DataLoader

from adapters.coupons.port import Coupon, Template
from adapters.db import utcnow
from adapters.delivery import rules as delivery_rules
from adapters.delivery.port import DeliveryRecord, Quote, QuoteLine
from adapters.goods.port import Category, Product, Sku
from adapters.members.port import Campaign, Membership
from adapters.payments.port import Payment
from adapters.shops.port import Shopper

if TYPE_CHECKING:
    from gateway.reference import ReferenceCache
    from gateway.wiring import Adapters

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
    def __init__(self, adapters: Adapters, reference: ReferenceCache) -> None:
        self._reference = reference
        self._goods = adapters.goods
        self._shops = adapters.shops
        self._inventory = adapters.inventory
        self._delivery = adapters.delivery
        self._coupons = adapters.coupons
        self._members = adapters.members
        self._ledger = adapters.ledger

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
        async def categories(shop_id: int, ids: Sequence[int]) -> list[Category | None]:
            by_id = {c.id: c for c in await self._categories(shop_id)}
            return [by_id.get(i) for i in ids]

        return _loader(categories)

    async def _categories(self, shop_id: int) -> list[Category]:
        return await self._reference.get("categories", shop_id, lambda: self._goods.categories(shop_id))

    @cached_property
    def available_by_sku(self) -> DataLoader[tuple[int, tuple[int, str | None]], int]:
        """Units available for (sku_id, region): one inventory query for a whole page."""
        return _loader(self._inventory.available)

    @cached_property
    def delivery_options(self) -> DataLoader[tuple[int, tuple[str, tuple[QuoteLine, ...]]], list[Quote]]:
        """Delivery quotes for (region, lines): one tier and one slot query for a whole page."""

        async def quote(shop_id: int, keys: Sequence[tuple[str, tuple[QuoteLine, ...]]]) -> list[list[Quote]]:
            offer = await self._reference.get("offer", shop_id, lambda: self._delivery.offer(shop_id, utcnow()))
            return [delivery_rules.quotes(offer, region, lines) for region, lines in keys]

        return _loader(quote)

    @cached_property
    def delivery_record(self) -> DataLoader[tuple[int, str], DeliveryRecord | None]:
        """Each order's delivery record, by order number."""

        return _loader(self._delivery.records)

    @cached_property
    def payments_by_order(self) -> DataLoader[tuple[int, str], list[Payment]]:
        """Each order's payments, by order number: one query for a page of orders."""
        return _loader(self._ledger.payments_of)

    @cached_property
    def template_by_id(self) -> DataLoader[tuple[int, int], Template | None]:
        return _loader(self._coupons.templates_by_id)

    @cached_property
    def coupon_by_id(self) -> DataLoader[tuple[int, int], Coupon | None]:
        async def coupons(shop_id: int, ids: Sequence[int]) -> list[Coupon | None]:
            return await self._coupons.coupons_by_id(shop_id, ids, utcnow())

        return _loader(coupons)

    @cached_property
    def claimable_templates(self) -> DataLoader[tuple[int, None], list[Template]]:
        """The shop's claimable public templates, read once per request for every product."""

        async def claimable(shop_id: int, keys: Sequence[None]) -> list[list[Template]]:
            found = await self._reference.get("claimable", shop_id, lambda: self._coupons.claimable(shop_id, utcnow()))
            return [found for _ in keys]

        return _loader(claimable)

    @cached_property
    def shop_categories(self) -> DataLoader[tuple[int, None], list[Category]]:
        async def categories(shop_id: int, keys: Sequence[None]) -> list[list[Category]]:
            found = await self._categories(shop_id)
            return [found for _ in keys]

        return _loader(categories)

    @cached_property
    def membership(self) -> DataLoader[tuple[int, int], Membership]:
        return _loader(self._members.memberships)

    @cached_property
    def campaign_by_id(self) -> DataLoader[tuple[int, int], Campaign | None]:
        return _loader(self._members.campaigns_by_id)

    @cached_property
    def shopper_by_id(self) -> DataLoader[tuple[int, int], Shopper | None]:
        return _loader(self._shops.shoppers_by_id)


def _loader(fetch: BatchFn[Any, Any]) -> DataLoader[Any, Any]:
    return DataLoader(batch_load_fn=per_shop(fetch))
