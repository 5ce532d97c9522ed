"""The goods catalog of a shop whose goods live in the merchant's own system, over the remote
contract (docs/remote-adapters.md). Answers are checked before they are believed: a batch
answered for other ids, or a page holding a product twice, is the remote failing."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from pydantic import TypeAdapter

from adapters.goods.port import (
    Category,
    Position,
    Product,
    ProductPage,
    ProductQuery,
    Sku,
)
from adapters.paging import Window
from adapters.remote import wire
from adapters.remote.client import Endpoint, RemoteClient

_PRODUCTS = TypeAdapter(list[wire.Product | None])
_SKUS = TypeAdapter(list[wire.Sku | None])
_SKU_LISTS = TypeAdapter(list[list[wire.Sku]])
_CATEGORIES = TypeAdapter(list[wire.Category])


class HttpGoodsCatalog:
    """One shop's goods: ``endpoint`` names the shop and where its goods are served."""

    def __init__(self, client: RemoteClient, endpoint: Endpoint) -> None:
        self._client = client
        self._end = endpoint

    async def products_by_id(self, shop_id: int, ids: Sequence[int]) -> list[Product | None]:
        return await self._batch("/v1/products:byId", "ids", ids, _PRODUCTS, lambda p: p.id)

    async def products_by_handle(self, shop_id: int, handles: Sequence[str]) -> list[Product | None]:
        return await self._batch("/v1/products:byHandle", "handles", handles, _PRODUCTS, lambda p: p.handle)

    async def skus_by_id(self, shop_id: int, ids: Sequence[int]) -> list[Sku | None]:
        return await self._batch("/v1/skus:byId", "ids", ids, _SKUS, lambda s: s.id)

    async def skus_by_code(self, shop_id: int, codes: Sequence[str]) -> list[Sku | None]:
        return await self._batch("/v1/skus:byCode", "codes", codes, _SKUS, lambda s: s.code)

    async def skus_by_product(self, shop_id: int, product_ids: Sequence[int]) -> list[list[Sku]]:
        ids = list(product_ids)

        def parse(answer: dict[str, Any]) -> list[list[Sku]]:
            lists = _SKU_LISTS.validate_python(wire.Items.model_validate(answer).items)
            if len(lists) != len(ids):
                raise ValueError(f"{len(lists)} lists for {len(ids)} products")
            if any(s.productId != pid for pid, skus in zip(ids, lists, strict=True) for s in skus):
                raise ValueError("a SKU answered under another product")
            _distinct([s.id for skus in lists for s in skus])
            return [[s.of(self._end.shop_id) for s in skus] for skus in lists]

        return await self._client.read(self._end, "/v1/skus:byProduct", {"productIds": ids}, parse) if ids else []

    async def categories_by_id(self, shop_id: int, ids: Sequence[int]) -> list[Category | None]:
        held = {c.id: c for c in await self.categories(shop_id)}
        return [held.get(i) for i in ids]

    async def categories(self, shop_id: int) -> list[Category]:
        def parse(answer: dict[str, Any]) -> list[Category]:
            found = _CATEGORIES.validate_python(wire.Items.model_validate(answer).items)
            _distinct([c.id for c in found])
            return [c.of(self._end.shop_id) for c in found]

        return await self._client.read(self._end, "/v1/categories", {}, parse)

    async def search_products(self, shop_id: int, query: ProductQuery, window: Window[Position]) -> ProductPage:
        def parse(answer: dict[str, Any]) -> ProductPage:
            page = wire.Page.model_validate(answer)
            if len(page.items) > window.size:
                raise ValueError(f"{len(page.items)} products for a page of {window.size}")
            _distinct([f.product.id for f in page.items])
            return ProductPage([(f.product.of(self._end.shop_id), wire.position_from(query.sort, f.position))
                                for f in page.items], page.hasNextPage, page.hasPreviousPage)

        body = {"query": wire.query_of(query), "window": {
            "size": window.size, "fromEnd": window.from_end,
            "after": wire.position_of(window.after) if window.after else None,
            "before": wire.position_of(window.before) if window.before else None}}
        return await self._client.read(self._end, "/v1/products:search", body, parse)

    async def count_products(self, shop_id: int, query: ProductQuery) -> int:
        return await self._client.read(self._end, "/v1/products:count", {"query": wire.query_of(query)},
                                       lambda answer: wire.Count.model_validate(answer).count)

    async def _batch(self, path: str, name: str, keys: Sequence[Any], adapter: TypeAdapter[Any], key_of: Any) -> list[Any]:
        asked = list(keys)
        if not asked:
            return []

        def parse(answer: dict[str, Any]) -> list[Any]:
            found = wire.in_key_order(adapter.validate_python(wire.Items.model_validate(answer).items), asked, key_of)
            return [None if f is None else f.of(self._end.shop_id) for f in found]

        return await self._client.read(self._end, path, {name: asked}, parse)


def _distinct(ids: list[int]) -> None:
    if len(set(ids)) != len(ids):
        raise ValueError("an answer holds one thing twice")
