"""Goods: categories, products and their SKUs, as a storefront reads them.

Every method takes the shop id first: a shop never sees another shop's goods.
Batch methods return results in key order (``None`` for a key that is not
found), so a DataLoader can wrap them directly.
"""

from __future__ import annotations

import enum
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Protocol

from adapters.paging import Window


@dataclass(frozen=True, slots=True)
class Category:
    id: int
    shop_id: int
    handle: str
    name: str
    parent_id: int | None


@dataclass(frozen=True, slots=True)
class Image:
    url: str
    alt_text: str | None


@dataclass(frozen=True, slots=True)
class DepositPolicy:
    """Deposit terms for one unit of a SKU sold on a deposit plan."""

    deposit: int
    credited_value: int
    balance_due_hours: int
    balance_methods: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class Product:
    id: int
    shop_id: int
    handle: str
    title: str
    description: str
    brand: str
    category_id: int | None
    tags: tuple[str, ...]
    images: tuple[Image, ...]
    min_price: int
    max_price: int
    created_at: datetime
    # Archived: hidden from the storefront and not sold; kept for the orders that hold its SKUs.
    archived_at: datetime | None = None


@dataclass(frozen=True, slots=True)
class Sku:
    id: int
    shop_id: int
    product_id: int
    code: str
    title: str
    options: tuple[tuple[str, str], ...]
    price: int
    compare_at_price: int | None
    purchase_limit: int | None
    premium_delivery_eligible: bool
    deposit_policy: DepositPolicy | None


class SortKey(enum.Enum):
    RELEVANCE = "RELEVANCE"
    PRICE = "PRICE"
    CREATED_AT = "CREATED_AT"
    TITLE = "TITLE"


@dataclass(frozen=True, slots=True)
class ProductQuery:
    """A product search: filters, then an order, then a page of it."""

    text: str | None = None
    category_handle: str | None = None
    min_price: int | None = None
    max_price: int | None = None
    # Only products with one of these SKUs (inventory's answer to "in stock in region X").
    sku_ids: frozenset[int] | None = None
    sort: SortKey = SortKey.RELEVANCE
    reverse: bool = False


@dataclass(frozen=True, slots=True)
class Position:
    """Where a product stands in an ordering: its sort value, then its id."""

    value: int | str | datetime
    id: int


@dataclass(frozen=True, slots=True)
class ProductPage:
    items: list[tuple[Product, Position]]
    has_next_page: bool
    has_previous_page: bool = False


class GoodsCatalog(Protocol):
    """Reads a shop's goods, in batches."""

    async def products_by_id(self, shop_id: int, ids: Sequence[int]) -> list[Product | None]: ...

    async def products_by_handle(self, shop_id: int, handles: Sequence[str]) -> list[Product | None]: ...

    async def skus_by_id(self, shop_id: int, ids: Sequence[int]) -> list[Sku | None]: ...

    async def skus_by_code(self, shop_id: int, codes: Sequence[str]) -> list[Sku | None]: ...

    async def skus_by_product(self, shop_id: int, product_ids: Sequence[int]) -> list[list[Sku]]:
        """Each product's SKUs in catalog order."""
        ...

    async def categories_by_id(self, shop_id: int, ids: Sequence[int]) -> list[Category | None]: ...

    async def categories(self, shop_id: int) -> list[Category]: ...

    async def search_products(self, shop_id: int, query: ProductQuery, window: Window[Position]) -> ProductPage:
        """The window's products, in the query's order."""
        ...

    async def count_products(self, shop_id: int, query: ProductQuery) -> int: ...
