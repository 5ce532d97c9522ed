"""Goods types: categories, products, SKUs, regions."""

from __future__ import annotations

import enum
from collections.abc import Sequence
from datetime import datetime
from decimal import Decimal
from functools import lru_cache
from typing import Any

import strawberry

from adapters.coupons.rules import applies_to_product
from adapters.delivery.port import Quote
from adapters.goods import port
from adapters.goods.regions import Region as RegionRecord
from adapters.goods.rules import category_chain, region_problem
from adapters.inventory.rules import stock_status
from schema.batching import batched, load_all
from schema.common import Money, Node, PageInfo, gid
from schema.coupons import CouponTemplate
from schema.delivery import DeliveryOption
from schema.errors import BadUserInput
from schema.inventory import Availability, StockStatus

MAX_QUOTE_QUANTITY = 10_000


async def _categories(ctx: Any, keys: Sequence[tuple[int, int | None]]) -> list[Category | None]:
    wanted = [k for k in keys if k[1] is not None]
    found = dict(zip(wanted, await load_all(ctx.loaders.category_by_id, wanted), strict=True))
    return [ctx.reference.view(c, Category.of) if (c := found.get(k)) else None for k in keys]


@strawberry.type
class Category(Node):
    handle: str
    name: str
    shop_id: strawberry.Private[int]
    parent_id: strawberry.Private[int | None]

    @strawberry.field(metadata=batched(lambda ctx, cs: _categories(ctx, [(c.shop_id, c.parent_id) for c in cs])))
    async def parent(self, info: strawberry.Info) -> Category | None:
        [found] = await _categories(info.context, [(self.shop_id, self.parent_id)])
        return found

    @classmethod
    def of(cls, c: port.Category) -> Category:
        return cls(id=gid("Category", c.id), handle=c.handle, name=c.name, shop_id=c.shop_id, parent_id=c.parent_id)


@strawberry.type
class Image:
    url: str
    alt_text: str | None


@strawberry.type
class SelectedOption:
    name: str
    value: str


@strawberry.type
class PriceRange:
    min: Money
    max: Money


@strawberry.enum
class BalanceMethod(enum.Enum):
    ONLINE = "ONLINE"
    POS_ON_DELIVERY = "POS_ON_DELIVERY"


@strawberry.type
class DepositPolicy:
    deposit: Money = strawberry.field(description="Deposit for one unit; never above 20% of the unit price.")
    credited_value: Money = strawberry.field(
        description="What the paid deposit counts for against the price when the balance is paid (>= deposit)."
    )
    balance_due_hours: int = strawberry.field(
        description="Hours after the deposit within which an ONLINE balance is due."
    )
    balance_methods: list[BalanceMethod]

    @classmethod
    def of(cls, p: port.DepositPolicy) -> DepositPolicy:
        return cls(
            deposit=Money.of(p.deposit),
            credited_value=Money.of(p.credited_value),
            balance_due_hours=p.balance_due_hours,
            balance_methods=[BalanceMethod(m) for m in p.balance_methods],
        )


@strawberry.type
class Product(Node):
    handle: str
    title: str
    description: str
    brand: str
    tags: list[str]
    images: list[Image]
    price_range: PriceRange
    archived_at: datetime | None = strawberry.field(
        description="When the merchant archived it: gone from the storefront, kept for the orders holding it.")
    shop_id: strawberry.Private[int]
    product_id: strawberry.Private[int]
    category_id: strawberry.Private[int | None]

    @strawberry.field(metadata=batched(lambda ctx, ps: _categories(ctx, [(p.shop_id, p.category_id) for p in ps])))
    async def category(self, info: strawberry.Info) -> Category | None:
        [found] = await _categories(info.context, [(self.shop_id, self.category_id)])
        return found

    @strawberry.field(
        description="Coupon templates a shopper can claim now that apply to this product.",
        metadata=batched(lambda ctx, ps: _product_coupons(ctx, ps)),
    )
    async def coupons(self, info: strawberry.Info) -> list[CouponTemplate]:
        [found] = await _product_coupons(info.context, [self])
        return found

    @strawberry.field(metadata=batched(lambda ctx, ps: _product_skus(ctx, ps)))
    async def skus(self, info: strawberry.Info) -> list[Sku]:
        [found] = await _product_skus(info.context, [self])
        return found

    @classmethod
    def of(cls, p: port.Product) -> Product:
        return cls(
            id=gid("Product", p.id),
            handle=p.handle,
            title=p.title,
            description=p.description,
            brand=p.brand,
            tags=list(p.tags),
            images=[Image(url=i.url, alt_text=i.alt_text) for i in p.images],
            price_range=PriceRange(min=Money.of(p.min_price), max=Money.of(p.max_price)),
            archived_at=p.archived_at,
            shop_id=p.shop_id,
            product_id=p.id,
            category_id=p.category_id,
        )


@strawberry.type
class Sku(Node):
    code: str
    title: str
    options: list[SelectedOption]
    price: Money
    compare_at_price: Money | None
    purchase_limit: int | None = strawberry.field(description="Most units one shopper may buy; null when unlimited.")
    premium_delivery_eligible: bool
    deposit_policy: DepositPolicy | None
    shop_id: strawberry.Private[int]
    product_id: strawberry.Private[int]
    sku_id: strawberry.Private[int]

    @strawberry.field(
        description='Stock as seen from a region (area code such as "1_72_2799_0"); all warehouses when null.',
        metadata=batched(lambda ctx, skus, region=None: _availability(ctx, skus, region)),
    )
    async def availability(self, info: strawberry.Info, region: str | None = None) -> Availability:
        [found] = await _availability(info.context, [self], region)
        return found

    @strawberry.field(metadata=batched(lambda ctx, skus, region, quantity=1: _delivery_options(ctx, skus, region, quantity)))
    async def delivery_options(self, info: strawberry.Info, region: str, quantity: int = 1) -> list[DeliveryOption]:
        [found] = await _delivery_options(info.context, [self], region, quantity)
        return found

    @strawberry.field(metadata=batched(lambda ctx, skus: _sku_products(ctx, skus)))
    async def product(self, info: strawberry.Info) -> Product:
        [found] = await _sku_products(info.context, [self])
        return found

    @classmethod
    def of(cls, s: port.Sku) -> Sku:
        return cls(
            id=gid("Sku", s.id),
            code=s.code,
            title=s.title,
            options=[SelectedOption(name=n, value=v) for n, v in s.options],
            price=Money.of(s.price),
            compare_at_price=Money.of(s.compare_at_price) if s.compare_at_price is not None else None,
            purchase_limit=s.purchase_limit,
            premium_delivery_eligible=s.premium_delivery_eligible,
            deposit_policy=DepositPolicy.of(s.deposit_policy) if s.deposit_policy else None,
            shop_id=s.shop_id,
            product_id=s.product_id,
            sku_id=s.id,
        )


async def _product_skus(ctx: Any, products: Sequence[Product]) -> list[list[Sku]]:
    found = await load_all(ctx.loaders.skus_by_product, [(p.shop_id, p.product_id) for p in products])
    view = ctx.reference.view
    return [view(skus, _sku_views) for skus in found]


def _sku_views(skus: list[port.Sku]) -> list[Sku]:
    return [Sku.of(s) for s in skus]


async def _product_coupons(ctx: Any, products: Sequence[Product]) -> list[list[CouponTemplate]]:
    loaders = ctx.loaders
    shops = list(dict.fromkeys(p.shop_id for p in products))
    templates = {shop: await loaders.claimable_templates(shop) for shop in shops}
    wanted = [p for p in products if templates[p.shop_id]]
    if not wanted:
        return [[] for _ in products]
    skus = await load_all(loaders.skus_by_product, [(p.shop_id, p.product_id) for p in wanted])
    categories = {shop: await loaders.shop_categories(shop) for shop in shops}
    found: dict[int, list[CouponTemplate]] = {}
    for product, product_skus in zip(wanted, skus, strict=True):
        shop_templates, shop_categories = templates[product.shop_id], categories[product.shop_id]

        def coupons(product: Product = product, skus: list[port.Sku] = product_skus) -> list[CouponTemplate]:
            chain = category_chain(shop_categories, product.category_id)
            sku_ids = [s.id for s in skus]
            return [
                ctx.reference.view(t, CouponTemplate.of)
                for t in shop_templates
                if applies_to_product(t.spec, sku_ids, chain)
            ]

        # The same held templates, SKUs and categories give the same list: kept while they are.
        found[product.product_id] = ctx.reference.derived((product, shop_templates, product_skus, shop_categories), coupons)
    return [found.get(p.product_id, []) for p in products]


async def _availability(ctx: Any, skus: Sequence[Sku], region: str | None) -> list[Availability]:
    if region is not None and (problem := region_problem(region)) is not None:
        raise BadUserInput(f"region: {problem}")
    quantities = await load_all(ctx.loaders.available_by_sku, [(s.shop_id, (s.sku_id, region)) for s in skus])
    return [
        _availability_of(stock_status(quantity, sold_on_deposit=sku.deposit_policy is not None), max(quantity, 0))
        for sku, quantity in zip(skus, quantities, strict=True)
    ]


@lru_cache(maxsize=4096)
def _availability_of(status: str, quantity: int) -> Availability:
    # One object per answer: the fast path serializes each once.
    return Availability(status=StockStatus(status), quantity_available=quantity)


async def _delivery_options(ctx: Any, skus: Sequence[Sku], region: str, quantity: int) -> list[list[DeliveryOption]]:
    if (problem := region_problem(region)) is not None:
        raise BadUserInput(f"region: {problem}")
    if not 1 <= quantity <= MAX_QUOTE_QUANTITY:
        raise BadUserInput(f"quantity must be between 1 and {MAX_QUOTE_QUANTITY}")
    keys = [(s.shop_id, (region, ((s.sku_id, s.price.minor_units, quantity, s.premium_delivery_eligible),))) for s in skus]
    view = ctx.reference.view
    return [view(quotes, _option_views) for quotes in await load_all(ctx.loaders.delivery_options, keys)]


def _option_views(quotes: list[Quote]) -> list[DeliveryOption]:
    return [DeliveryOption.of(q) for q in quotes]


async def _sku_products(ctx: Any, skus: Sequence[Sku]) -> list[Product]:
    found = await load_all(ctx.loaders.product_by_id, [(s.shop_id, s.product_id) for s in skus])
    assert all(p is not None for p in found), "a SKU always belongs to a product of its shop"
    return [ctx.reference.view(p, Product.of) for p in found]


@strawberry.type
class ProductEdge:
    cursor: str
    node: Product


@strawberry.type
class ProductConnection:
    edges: list[ProductEdge]
    nodes: list[Product]
    page_info: PageInfo
    shop_id: strawberry.Private[int]
    query: strawberry.Private[port.ProductQuery]

    @strawberry.field
    async def total_count(self, info: strawberry.Info) -> int:
        # Counted only when asked for: a page alone costs no COUNT query.
        return await info.context.adapters.goods.count_products(self.shop_id, self.query)


@strawberry.input
class ProductFilter:
    query: str | None = strawberry.field(default=None, description="Case-insensitive match on title, brand and tags.")
    category_handle: str | None = None
    min_price: Decimal | None = strawberry.field(default=None, description="In yuan, at most 2 places.")
    max_price: Decimal | None = strawberry.field(default=None, description="In yuan, at most 2 places.")
    available_in_region: str | None = strawberry.field(
        default=None, description="Only products with a SKU in stock in this region."
    )


@strawberry.enum
class ProductSortKey(enum.Enum):
    RELEVANCE = "RELEVANCE"
    PRICE = "PRICE"
    CREATED_AT = "CREATED_AT"
    TITLE = "TITLE"


@strawberry.type
class Region:
    code: str
    name: str
    parent_code: str | None

    @classmethod
    def of(cls, r: RegionRecord) -> Region:
        return cls(code=r.code, name=r.name, parent_code=r.parent_code)
