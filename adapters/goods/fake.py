"""In-memory goods catalog for tests, ordering and filtering by the same rules as SQL."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, TypeVar

from adapters.goods import rules
from adapters.goods.port import (
    Category,
    Position,
    Product,
    ProductPage,
    ProductQuery,
    Sku,
)
from adapters.paging import Window, in_memory

_Owned = TypeVar("_Owned", Product, Sku, Category)


class FakeGoodsCatalog:
    def __init__(self) -> None:
        self.categories_: dict[int, Category] = {}
        self.products: dict[int, Product] = {}
        self.skus: dict[int, Sku] = {}

    async def products_by_id(self, shop_id: int, ids: Sequence[int]) -> list[Product | None]:
        return [self._own(self.products.get(i), shop_id) for i in ids]

    async def products_by_handle(self, shop_id: int, handles: Sequence[str]) -> list[Product | None]:
        by_handle = {p.handle: p for p in self.products.values() if p.shop_id == shop_id}
        return [by_handle.get(h) for h in handles]

    async def skus_by_id(self, shop_id: int, ids: Sequence[int]) -> list[Sku | None]:
        return [self._own(self.skus.get(i), shop_id) for i in ids]

    async def skus_by_code(self, shop_id: int, codes: Sequence[str]) -> list[Sku | None]:
        by_code = {s.code: s for s in self.skus.values() if s.shop_id == shop_id}
        return [by_code.get(c) for c in codes]

    async def skus_by_product(self, shop_id: int, product_ids: Sequence[int]) -> list[list[Sku]]:
        ordered = sorted(self.skus.values(), key=lambda s: s.id)  # ids follow catalog order
        return [[s for s in ordered if s.product_id == pid and s.shop_id == shop_id] for pid in product_ids]

    async def categories_by_id(self, shop_id: int, ids: Sequence[int]) -> list[Category | None]:
        return [self._own(self.categories_.get(i), shop_id) for i in ids]

    async def categories(self, shop_id: int) -> list[Category]:
        return sorted((c for c in self.categories_.values() if c.shop_id == shop_id), key=lambda c: c.id)

    async def search_products(self, shop_id: int, query: ProductQuery, window: Window[Position]) -> ProductPage:
        def key(at: Position) -> tuple[Any, int]:
            return (at.value, at.id)

        ranked = sorted(
            ((p, Position(rules.sort_value(p, query), p.id)) for p in self._matching(shop_id, query)),
            key=lambda item: key(item[1]),
            reverse=query.reverse,
        )
        by_key = Window(window.size, None if window.after is None else key(window.after),
                        None if window.before is None else key(window.before), window.from_end)
        return ProductPage(*in_memory(ranked, lambda item: key(item[1]), by_key, descending=query.reverse))

    async def count_products(self, shop_id: int, query: ProductQuery) -> int:
        return len(self._matching(shop_id, query))

    def _matching(self, shop_id: int, query: ProductQuery) -> list[Product]:
        text = rules.normalized_text(query)
        category_ids = None
        if query.category_handle is not None:
            shop_categories = [c for c in self.categories_.values() if c.shop_id == shop_id]
            category_ids = rules.category_subtree(shop_categories, query.category_handle)
        found = []
        for product in self.products.values():
            if product.shop_id != shop_id or product.archived_at is not None:
                continue
            if text is not None and text not in rules.search_text(product.title, product.brand, product.tags):
                continue
            if category_ids is not None and product.category_id not in category_ids:
                continue
            if not self._priced_within(product, query):
                continue
            if query.sku_ids is not None and not any(
                s.id in query.sku_ids for s in self.skus.values() if s.product_id == product.id
            ):
                continue
            found.append(product)
        return found

    def _priced_within(self, product: Product, query: ProductQuery) -> bool:
        if query.min_price is None and query.max_price is None:
            return True
        low = query.min_price if query.min_price is not None else 0
        high = query.max_price if query.max_price is not None else float("inf")
        return any(low <= s.price <= high for s in self.skus.values() if s.product_id == product.id)

    @staticmethod
    def _own(item: _Owned | None, shop_id: int) -> _Owned | None:
        return item if item is not None and item.shop_id == shop_id else None
