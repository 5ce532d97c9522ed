"""Catalog types for merchants: creating, changing and archiving products and SKUs (secret key)."""

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


@strawberry.input(description="What to change of a product; a field left out stays as it is.")
class ProductUpdateInput:
    title: str | None = strawberry.UNSET
    description: str | None = strawberry.UNSET
    brand: str | None = strawberry.UNSET
    category_handle: str | None = strawberry.field(default=strawberry.UNSET,
                                                   description="A category of the shop; null: in none.")
    tags: list[str] | None = strawberry.UNSET
    images: list[ImageInput] | None = strawberry.UNSET


@strawberry.input(description="What to change of a SKU; a field left out stays as it is. Money in yuan. "
                              "Orders placed keep the terms they were placed with.")
class SkuUpdateInput:
    title: str | None = strawberry.UNSET
    options: list[OptionInput] | None = strawberry.UNSET
    price: Decimal | None = strawberry.UNSET
    compare_at_price: Decimal | None = strawberry.field(default=strawberry.UNSET, description="null: none.")
    purchase_limit: int | None = strawberry.field(default=strawberry.UNSET, description="null: no limit.")
    premium_delivery_eligible: bool | None = strawberry.UNSET
    deposit: DepositPolicyInput | None = strawberry.field(
        default=strawberry.UNSET, description="The deposit terms, checked as the catalog file's; null: not sold "
                                              "on a deposit.")


@strawberry.type
class ProductCreatePayload:
    product: Product | None = None
    user_errors: list[UserError] = strawberry.field(default_factory=list)


@strawberry.type
class SkuCreatePayload:
    sku: Sku | None = None
    user_errors: list[UserError] = strawberry.field(default_factory=list)


@strawberry.type
class ProductUpdatePayload:
    product: Product | None = None
    user_errors: list[UserError] = strawberry.field(default_factory=list)


@strawberry.type
class ProductArchivePayload:
    product: Product | None = None
    user_errors: list[UserError] = strawberry.field(default_factory=list)


@strawberry.type
class SkuUpdatePayload:
    sku: Sku | None = None
    user_errors: list[UserError] = strawberry.field(default_factory=list)
