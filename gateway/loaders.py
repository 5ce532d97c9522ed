"""Per-request DataLoaders, named for what they load.

Keys are ``(shop_id, key)`` so that nested types, which know their shop, can
load without another round trip to resolve the key; each batch calls the port
once per shop (in practice: once). Categories, the delivery offer and the
claimable coupons come through the worker's reference cache: storefront reads
only (checkout and pricing ask the adapters).
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Sequence
from functools import cached_property
from typing import TYPE_CHECKING, Any, TypeVar

from aiodataloader import DataLoader

from adapters.coupons.port import Coupon, Template
from adapters.db import utcnow
from adapters.delivery import rules as delivery_rules
from adapters.delivery.port import DeliveryRecord, Offer, Quote, QuoteLine
from adapters.goods.port import (
    Category,
    Position,
    Product,
    ProductPage,
    ProductQuery,
    Sku,
)
from adapters.inventory import rules as inventory_rules
from adapters.members.port import Campaign, Membership
from adapters.paging import Window
from adapters.payments.port import Payment
from adapters.shops.port import Shopper

if TYPE_CHECKING:
    from gateway.reference import ReferenceCache
    from gateway.wiring import Adapters

LineKey = tuple[int, int, int, bool]
K = TypeVar("K")
V = TypeVar("V")
BatchFn = Callable[[int, Sequence[K]], Awaitable[list[V]]]


def per_shop(fetch: BatchFn[K, V]) -> Callable[[list[tuple[int, K]]], Awaitable[list[V]]]:
    async def batch(keys: list[tuple[int, K]]) -> list[V]:
        shop_id = keys[0][0] if keys else None
        if all(k[0] == shop_id for k in keys) and len(set(keys)) == len(keys):
            return await fetch(shop_id, [k for _, k in keys])  # type: ignore[arg-type]  # the usual: one shop, no repeats
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


class BatchLoader(DataLoader[Any, Any]):
    """A DataLoader that also takes a whole level's keys in one call (``load_all``).

    The fast path asks for a page's 60 SKUs at once: one batch call, without a
    future per key, answering from what this request already loaded or primed.
    A single key (one object of the generic executor) goes through ``load``,
    which gathers its siblings into one batch as before.
    """

    def __init__(self, batch_load_fn: Callable[[list[Any]], Awaitable[list[Any]]]) -> None:
        self._known: dict[Any, Any] = {}  # what load() and prime() hold: futures
        self._taken: dict[Any, Any] = {}  # what load_all() took: values (a future each costs more)
        super().__init__(batch_load_fn=batch_load_fn, cache_map=self._known)

    def prime(self, key: Any, value: Any) -> BatchLoader:
        """As DataLoader's, without a future made for each value (most are never asked)."""
        if key not in self._known:
            self._taken.setdefault(key, value)
        return self

    def clear(self, key: Any) -> BatchLoader:
        self._taken.pop(key, None)
        super().clear(key)
        return self

    def load(self, key: Any) -> asyncio.Future[Any]:
        if key in self._taken and key not in self._known:
            future = self.loop.create_future()
            future.set_result(self._taken[key])
            self._known[key] = future
        return super().load(key)

    async def load_all(self, keys: Sequence[Any]) -> list[Any]:
        if len(keys) == 1 and keys[0] not in self._taken:
            return [await self.load(keys[0])]
        found: dict[Any, Any] = {}
        taken, known = self._taken, self._known
        for key in keys:
            if key in taken:
                found[key] = taken[key]
                continue
            future = known.get(key)
            if future is not None and future.done() and not future.cancelled() and future.exception() is None:
                found[key] = future.result()
        missing = [k for k in dict.fromkeys(keys) if k not in found]
        if missing:
            for key, value in zip(missing, await self.batch_load_fn(missing), strict=True):
                found[key] = taken[key] = value
        return [found[k] for k in keys]


class Loaders:
    """A request's loaders, made on first use.

    What the loaders fetch with lives in ``_Reads``, which knows nothing of the
    loaders: a fetch that held ``self`` would make a loop (loaders -> loader ->
    fetch -> loaders), and every request's loaders, with all they loaded, would
    then wait for the cycle collector instead of going when the request ends
    (the collector's passes were a third of a cold listing's CPU).
    """

    def __init__(self, adapters: Adapters, reference: ReferenceCache) -> None:
        self._reads = reads = _Reads(adapters, reference)
        self._reference = reference
        self._goods = reads.goods
        self._shops = adapters.shops
        self._delivery = adapters.delivery
        self._coupons = adapters.coupons
        self._members = adapters.members
        self._ledger = adapters.ledger
        self._shop_wide: dict[tuple[str, int], asyncio.Future[Any]] = {}

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
        return _loader(self._reads.skus)

    async def product_page(self, shop_id: int, query: ProductQuery, window: Window[Position]) -> ProductPage:
        """A page of a product search, held with the shop's reference data."""
        goods = self._goods
        return await self._reference.get(
            ("page", query, window), shop_id, lambda: goods.search_products(shop_id, query, window)
        )

    @cached_property
    def category_by_id(self) -> DataLoader[tuple[int, int], Category | None]:
        return _loader(self._reads.categories_by_id)

    @cached_property
    def available_by_sku(self) -> DataLoader[tuple[int, tuple[int, str | None]], int]:
        """Units available for (sku_id, region): one stock query for a whole page, the
        warehouses' regions from the reference data."""
        return _loader(self._reads.available)

    @cached_property
    def delivery_options(self) -> DataLoader[tuple[int, tuple[str, tuple[LineKey, ...]]], list[Quote]]:
        """Delivery quotes for (region, lines), each line ``(sku_id, unit_price, quantity,
        premium_eligible)`` as a plain tuple (cheap to hash): no query once the offer is held."""
        return _loader(self._reads.quotes)

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
        return _loader(self._reads.coupons_by_id)

    def forget_template(self, shop_id: int, template_id: int) -> None:
        """A merchant changed the template in this request: the fields after load it again."""
        self.template_by_id.clear((shop_id, template_id))
        self._shop_wide.pop(("claimable", shop_id), None)

    def forget_campaign(self, shop_id: int, campaign_id: int) -> None:
        self.campaign_by_id.clear((shop_id, campaign_id))

    async def claimable_templates(self, shop_id: int) -> list[Template]:
        """The shop's claimable public templates, read once per request for every product."""
        return await self._once(("claimable", shop_id), lambda: self._reads.claimable(shop_id))

    async def shop_categories(self, shop_id: int) -> list[Category]:
        return await self._once(("categories", shop_id), lambda: self._reads.categories(shop_id))

    async def _once(self, key: tuple[str, int], load: Callable[[], Awaitable[V]]) -> V:
        """``load()`` once per request, for a value of the whole shop: the callers that come
        while it loads wait for it (a DataLoader would schedule a task to batch one key)."""
        held = self._shop_wide.get(key)
        if held is not None:
            return await held  # type: ignore[no-any-return]
        future: asyncio.Future[Any] = asyncio.get_running_loop().create_future()
        self._shop_wide[key] = future
        try:
            value = await load()
        except BaseException as exc:
            del self._shop_wide[key]  # a later caller tries again
            if isinstance(exc, asyncio.CancelledError):
                future.cancel()
            else:
                future.set_exception(exc)
                future.exception()  # retrieved: the waiters have it, nobody is warned of it
            raise
        future.set_result(value)
        return value

    @cached_property
    def membership(self) -> DataLoader[tuple[int, int], Membership]:
        return _loader(self._members.memberships)

    @cached_property
    def campaign_by_id(self) -> DataLoader[tuple[int, int], Campaign | None]:
        return _loader(self._members.campaigns_by_id)

    @cached_property
    def shopper_by_id(self) -> DataLoader[tuple[int, int], Shopper | None]:
        return _loader(self._shops.shoppers_by_id)


class _Reads:
    """The fetches behind the loaders that are more than one port call: the reference
    cache in front of the adapters, per shop."""

    def __init__(self, adapters: Adapters, reference: ReferenceCache) -> None:
        self.goods = adapters.goods
        self._reference = reference
        self._inventory = adapters.inventory
        self._delivery = adapters.delivery
        self._coupons = adapters.coupons

    async def skus(self, shop_id: int, product_ids: Sequence[int]) -> list[list[Sku]]:
        goods = self.goods
        return await self._reference.get_many(
            "skus", shop_id, product_ids, lambda missing: goods.skus_by_product(shop_id, missing)
        )

    async def categories(self, shop_id: int) -> list[Category]:
        goods = self.goods
        return await self._reference.get("categories", shop_id, lambda: goods.categories(shop_id))

    async def categories_by_id(self, shop_id: int, ids: Sequence[int]) -> list[Category | None]:
        by_id = {c.id: c for c in await self.categories(shop_id)}
        return [by_id.get(i) for i in ids]

    async def available(self, shop_id: int, keys: Sequence[tuple[int, str | None]]) -> list[int]:
        inventory = self._inventory
        warehouses = await self._reference.get("warehouses", shop_id, lambda: inventory.warehouses(shop_id))
        units: dict[str | None, dict[int, int]] = {}
        for region in dict.fromkeys(r for _, r in keys):  # a page asks one region (a statement each)
            sku_ids = [sku_id for sku_id, r in keys if r == region]
            units[region] = await inventory.units(shop_id, sku_ids, inventory_rules.serving(warehouses, region))
        return [units[region][sku_id] for sku_id, region in keys]

    async def quotes(self, shop_id: int, keys: Sequence[tuple[str, tuple[LineKey, ...]]]) -> list[list[Quote]]:
        offer, quoted = await self._reference.get("offer", shop_id, self._offer(shop_id))
        found = []
        for key in keys:  # the same lines to the same region cost the same while the offer holds
            quotes = quoted.get(key)
            if quotes is None:
                region, lines = key
                quotes = quoted[key] = delivery_rules.quotes(offer, region, [QuoteLine(*line) for line in lines])
            found.append(quotes)
        return found

    def _offer(self, shop_id: int) -> Callable[[], Awaitable[tuple[Offer, dict[Any, list[Quote]]]]]:
        delivery = self._delivery

        async def load() -> tuple[Offer, dict[Any, list[Quote]]]:
            return await delivery.offer(shop_id, utcnow()), {}

        return load

    async def coupons_by_id(self, shop_id: int, ids: Sequence[int]) -> list[Coupon | None]:
        return await self._coupons.coupons_by_id(shop_id, ids, utcnow())

    async def claimable(self, shop_id: int) -> list[Template]:
        coupons = self._coupons
        return await self._reference.get("claimable", shop_id, lambda: coupons.claimable(shop_id, utcnow()))


def _loader(fetch: BatchFn[Any, Any]) -> BatchLoader:
    return BatchLoader(per_shop(fetch))
