"""Goods types: categories, products, SKUs, regions."""

from __future__ import annotations

import enum

import strawberry

from adapters.coupons.rules import applies_to_product
from adapters.delivery.port import QuoteLine
from adapters.goods import port
from adapters.goods.regions import Region as RegionRecord
from adapters.goods.rules import category_chain, is_region_code
from adapters.inventory.rules import stock_status
from schema.common import Money, Node, PageInfo, gid
from schema.coupons import CouponTemplate
from schema.delivery import DeliveryOption
from schema.errors import BadUserInput
from schema.inventory import Availability, StockStatus
from schema.scalars import Long

MAX_QUOTE_QUANTITY = 10_000


@strawberry.type
class Category(Node):
    handle: str
    name: str
    shop_id: strawberry.Private[int]
    parent_id: strawberry.Private[int | None]

    @strawberry.field
    async def parent(self, info: strawberry.Info) -> Category | None:
        if self.parent_id is None:
            return None
        found = await info.context.loaders.category_by_id.load((self.shop_id, self.parent_id))
        return Category.of(found) if found else None

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
    shop_id: strawberry.Private[int]
    product_id: strawberry.Private[int]
    category_id: strawberry.Private[int | None]

    @strawberry.field
    async def category(self, info: strawberry.Info) -> Category | None:
        if self.category_id is None:
            return None
        found = await info.context.loaders.category_by_id.load((self.shop_id, self.category_id))
        return Category.of(found) if found else None

    @strawberry.field(description="Coupon templates a shopper can claim now that apply to this product.")
    async def coupons(self, info: strawberry.Info) -> list[CouponTemplate]:
        loaders = info.context.loaders
        templates = await loaders.claimable_templates.load((self.shop_id, None))
        if not templates:
            return []
        skus = await loaders.skus_by_product.load((self.shop_id, self.product_id))
        chain = category_chain(await loaders.shop_categories.load((self.shop_id, None)), self.category_id)
        sku_ids = [s.id for s in skus]
        return [CouponTemplate.of(t) for t in templates if applies_to_product(t.spec, sku_ids, chain)]

    @strawberry.field
    async def skus(self, info: strawberry.Info) -> list[Sku]:
        return [Sku.of(s) for s in await info.context.loaders.skus_by_product.load((self.shop_id, self.product_id))]

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
        description='Stock as seen from a region (area code such as "1_72_2799_0"); all warehouses when null.'
    )
    async def availability(self, info: strawberry.Info, region: str | None = None) -> Availability:
        if region is not None and not is_region_code(region):
            raise BadUserInput("region is not a region code (1 to 4 numeric segments, e.g. 1_72_2799_0)")
        quantity = await info.context.loaders.available_by_sku.load((self.shop_id, (self.sku_id, region)))
        status = stock_status(quantity, sold_on_deposit=self.deposit_policy is not None)
        return Availability(status=StockStatus(status), quantity_available=max(quantity, 0))

    @strawberry.field
    async def delivery_options(self, info: strawberry.Info, region: str, quantity: int = 1) -> list[DeliveryOption]:
        if not is_region_code(region):
            raise BadUserInput("region is not a region code (1 to 4 numeric segments, e.g. 19_1601)")
        if not 1 <= quantity <= MAX_QUOTE_QUANTITY:
            raise BadUserInput(f"quantity must be between 1 and {MAX_QUOTE_QUANTITY}")
        line = QuoteLine(self.sku_id, self.price.minor_units, quantity, self.premium_delivery_eligible)
        quotes = await info.context.loaders.delivery_options.load((self.shop_id, (region, (line,))))
        return [DeliveryOption.of(q) for q in quotes]

    @strawberry.field
    async def product(self, info: strawberry.Info) -> Product:
        found = await info.context.loaders.product_by_id.load((self.shop_id, self.product_id))
        assert found is not None, "a SKU always belongs to a product of its shop"
        return Product.of(found)

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
    min_price: Long | None = None
    max_price: Long | None = None
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
