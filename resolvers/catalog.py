"""Creating products and SKUs (merchant): the catalog import's entries, rules and transaction."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import strawberry

from adapters.db import utcnow
from gateway import catalog_create as create
from resolvers.user_errors import user_error
from schema.catalog import (
    ProductCreateInput,
    ProductCreatePayload,
    SkuCreateInput,
    SkuCreatePayload,
)
from schema.common import NOT_MONEY, UserError, minor_units, parse_gid
from schema.goods import Product, Sku


@strawberry.type
class CatalogMutation:
    @strawberry.mutation(description="Create a product with its SKUs and their initial stock (secret key): checked "
                                     "by the rules of a catalog file and written as its import, all or nothing.")
    async def product_create(self, info: strawberry.Info, input: ProductCreateInput) -> ProductCreatePayload:
        ctx = info.context
        shop = await ctx.merchant_shop()
        errors: list[UserError] = []
        skus = [_sku(s, ["input", "skus", str(n)], errors) for n, s in enumerate(input.skus)]
        if errors:
            return ProductCreatePayload(user_errors=errors)
        errors += await _taken(info, shop.id, input.handle, [(s.code, ["input", "skus", str(n)])
                                                            for n, s in enumerate(input.skus)])
        if errors:
            return ProductCreatePayload(user_errors=errors)
        entry = {"handle": input.handle, "title": input.title, "description": input.description,
                 "brand": input.brand, "category": input.category_handle, "tags": list(input.tags),
                 "images": [{"url": i.url, "altText": i.alt_text} for i in input.images], "skus": skus}
        problems = await _write(info, shop, entry, [["input", "skus", str(n)] for n in range(len(skus))],
                                [[line.warehouse for line in s.stock] for s in input.skus])
        if problems:
            return ProductCreatePayload(user_errors=problems)
        [product] = await ctx.adapters.goods.products_by_handle(shop.id, [input.handle])
        return ProductCreatePayload(product=Product.of(product))

    @strawberry.mutation(description="Add a SKU to a product of the shop, with its initial stock (secret key): "
                                     "checked by the rules of a catalog file and written as its import.")
    async def sku_create(self, info: strawberry.Info, product_id: strawberry.ID, input: SkuCreateInput) -> SkuCreatePayload:
        ctx = info.context
        shop = await ctx.merchant_shop()
        gid = parse_gid(str(product_id))
        [product] = (await ctx.adapters.goods.products_by_id(shop.id, [gid[1]])
                     if gid is not None and gid[0] == "Product" else [None])
        if product is None:
            return SkuCreatePayload(user_errors=[user_error("NOT_FOUND", ["productId"], "no such product in this shop")])
        errors: list[UserError] = []
        sku = _sku(input, ["input"], errors)
        if not errors:
            errors = await _taken(info, shop.id, None, [(input.code, ["input"])])
        if errors:
            return SkuCreatePayload(user_errors=errors)
        [held] = await ctx.adapters.goods.skus_by_product(shop.id, [product.id])
        categories = {c.id: c.handle for c in await ctx.adapters.goods.categories(shop.id)}
        entry = create.product_entry(product, categories.get(product.category_id or -1),
                                     [*(create.sku_entry(s) for s in held), sku])
        n = len(held)  # the new SKU's row in the file: the earlier ones are the product's own
        problems = await _write(info, shop, entry, [["productId"]] * n + [["input"]],
                                [[]] * n + [[line.warehouse for line in input.stock]])
        if problems:
            return SkuCreatePayload(user_errors=problems)
        [created] = await ctx.adapters.goods.skus_by_code(shop.id, [input.code])
        return SkuCreatePayload(sku=Sku.of(created))


def _money(value: Decimal | None, field: list[str], errors: list[UserError]) -> int | None:
    if value is None:
        return None
    fen = minor_units(value)
    if fen is None:
        errors.append(user_error("INVALID", field, NOT_MONEY))
    return fen


def _sku(s: SkuCreateInput, at: list[str], errors: list[UserError]) -> dict[str, Any]:
    """The input as the file's SKU entry: yuan to fen, options and stock as the file's maps."""
    entry: dict[str, Any] = {
        "code": s.code, "title": s.title, "options": {o.name: o.value for o in s.options},
        "price": _money(s.price, [*at, "price"], errors),
        "compareAtPrice": _money(s.compare_at_price, [*at, "compareAtPrice"], errors),
        "purchaseLimit": s.purchase_limit, "premiumDeliveryEligible": s.premium_delivery_eligible,
        "stock": {line.warehouse: line.quantity for line in s.stock},
    }
    if len(entry["options"]) != len(s.options):
        errors.append(user_error("INVALID", [*at, "options"], "an option name appears more than once"))
    if len(entry["stock"]) != len(s.stock):
        errors.append(user_error("INVALID", [*at, "stock"], "a warehouse appears more than once"))
    if (d := s.deposit) is not None:
        entry["deposit"] = {
            "deposit": _money(d.deposit, [*at, "deposit", "deposit"], errors),
            "creditedValue": _money(d.credited_value, [*at, "deposit", "creditedValue"], errors),
            "balanceDueHours": d.balance_due_hours, "balanceMethods": [m.value for m in d.balance_methods],
        }
    return entry


async def _taken(info: strawberry.Info, shop_id: int, handle: str | None,
                 codes: list[tuple[str, list[str]]]) -> list[UserError]:
    """Creating, not upserting: a handle or SKU code the shop holds already is refused."""
    goods = info.context.adapters.goods
    errors = []
    if handle is not None and (await goods.products_by_handle(shop_id, [handle]))[0] is not None:
        errors.append(user_error("INVALID", ["input", "handle"], f"the shop has a product {handle!r} already"))
    found = await goods.skus_by_code(shop_id, [code for code, _ in codes])
    for (code, at), sku in zip(codes, found, strict=True):
        if sku is not None:
            errors.append(user_error("INVALID", [*at, "code"], f"the shop has a SKU {code!r} already"))
    return errors


async def _write(info: strawberry.Info, shop: Any, entry: dict[str, Any], sku_fields: list[list[str]],
                 stock_codes: list[list[str]]) -> list[UserError]:
    ctx = info.context
    now = utcnow()
    # The shop as stored, not as the key's cache holds it: the file's shop entry is upserted.
    [shop] = await ctx.adapters.shops.shops_by_handle([shop.handle])
    data = create.catalog_of(shop, await ctx.adapters.goods.categories(shop.id),
                             await ctx.adapters.inventory.warehouses(shop.id), entry)
    catalog, problems = create.parsed(data, now, sku_fields, stock_codes)
    if catalog is not None:
        problems = await create.apply(ctx.adapters.catalog, catalog, now, sku_fields, stock_codes)
        if not problems:
            await ctx.invalidate(shop.id)  # as after jimu import: every worker drops the shop's answers
    return [user_error(code, field, message) for field, code, message in problems]
