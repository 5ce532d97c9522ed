"""Catalog types for merchants: creating products and SKUs (secret key)."""

from __future__ import annotations

from decimal import Decimal

import strawberry

from schema.common import UserError
from schema.goods import BalanceMethod, Product, Sku


@strawberry.input
class OptionInput:
    name: str
    value: str


@strawberry.input
class ImageInput:
    url: str
    alt_text: str | None = None


@strawberry.input
class DepositPolicyInput:
    deposit: Decimal = strawberry.field(description="Yuan, at most 2 places; at most 20% of the price.")
    credited_value: Decimal = strawberry.field(description="Yuan credited against the price; at least the deposit.")
    balance_due_hours: int
    balance_methods: list[BalanceMethod]


@strawberry.input
class StockInput:
    warehouse: str = strawberry.field(description="A warehouse code of the shop.")
    quantity: int


@strawberry.input(description="A SKU as a catalog file's products[].skus[] entry holds it; money in yuan.")
class SkuCreateInput:
    code: str
    title: str
    options: list[OptionInput] = strawberry.field(default_factory=list)
    price: Decimal = strawberry.field(description="Yuan, at most 2 places.")
    compare_at_price: Decimal | None = None
    purchase_limit: int | None = None
    premium_delivery_eligible: bool = False
    deposit: DepositPolicyInput | None = None
    stock: list[StockInput] = strawberry.field(default_factory=list,
                                               description="Initial units per warehouse.")


@strawberry.input(description="A product as a catalog file's products[] entry holds it.")
class ProductCreateInput:
    handle: str
    title: str
    description: str = ""
    brand: str = ""
    category_handle: str | None = None
    tags: list[str] = strawberry.field(default_factory=list)
    images: list[ImageInput] = strawberry.field(default_factory=list)
    skus: list[SkuCreateInput]


@strawberry.type
class ProductCreatePayload:
    product: Product | None = None
    user_errors: list[UserError] = strawberry.field(default_factory=list)


@strawberry.type
class SkuCreatePayload:
    sku: Sku | None = None
    user_errors: list[UserError] = strawberry.field(default_factory=list)
