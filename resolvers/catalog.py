"""Products and SKUs managed by the merchant (secret key): created, changed and archived
through the catalog import's entries, rules and transaction (``gateway.catalog_api``)."""

from __future__ import annotations

from collections.abc import Callable
from decimal import Decimal
from typing import Any

import strawberry

from adapters.catalog.format import CatalogInvalid
from adapters.catalog.port import CatalogConflict, Edit, Fresh
from adapters.catalog.stored import catalog_of
from adapters.db import utcnow
from gateway import catalog_api as api
from resolvers.user_errors import changes_given, id_of, user_error
from schema.catalog import (
    DepositPolicyInput,
    ProductArchivePayload,
    ProductCreateInput,
    ProductCreatePayload,
    ProductUpdateInput,
    ProductUpdatePayload,
    SkuCreateInput,
    SkuCreatePayload,
    SkuUpdateInput,
    SkuUpdatePayload,
)
from schema.common import NOT_MONEY, UserError, minor_units
from schema.goods import Product, Sku


@strawberry.type
class CatalogMutation:
    @strawberry.mutation(description="Create a product with its SKUs and their initial stock (secret key): checked "
                                     "by the rules of a catalog file and written as its import, all or nothing.")
    async def product_create(self, info: strawberry.Info, input: ProductCreateInput) -> ProductCreatePayload:
        ctx = info.context
        shop = await ctx.merchant_shop()
        errors = await _goods_here(info, shop.id, ["input"])
        skus = [_sku(s, ["input", "skus", str(n)], errors) for n, s in enumerate(input.skus)]
        if errors:
            return ProductCreatePayload(user_errors=errors)
        entry = {"handle": input.handle, "title": input.title, "description": input.description,
                 "brand": input.brand, "category": input.category_handle, "tags": list(input.tags),
                 "images": [_image(i) for i in input.images], "skus": skus}
        sku_fields = [["input", "skus", str(n)] for n in range(len(skus))]
        stock_codes = [[line.warehouse for line in s.stock] for s in input.skus]
        # The shop as stored, not as the key's cache holds it: the file's shop entry is upserted.
        [stored] = await ctx.adapters.shops.shops_by_handle([shop.handle])
        data = catalog_of(stored, await ctx.adapters.goods.categories(shop.id),
                              await ctx.adapters.inventory.warehouses(shop.id), entry)
        now = utcnow()
        catalog, problems = api.parsed(data, now, sku_fields, stock_codes)
        if catalog is not None:
            fresh = Fresh(handles=frozenset([input.handle]), codes=frozenset(s.code for s in input.skus))
            problems = await api.apply(ctx.adapters.catalog, catalog, now, fresh, sku_fields, stock_codes)
        if problems:
            return ProductCreatePayload(user_errors=_user_errors(problems))
        await ctx.invalidate(shop.id)  # as after jimu import: every worker drops the shop's answers
        [product] = await ctx.adapters.goods.products_by_handle(shop.id, [input.handle])
        return ProductCreatePayload(product=Product.of(product))

    @strawberry.mutation(description="Add a SKU to a product of the shop, with its initial stock (secret key): "
                                     "checked by the rules of a catalog file and written as its import.")
    async def sku_create(self, info: strawberry.Info, product_id: strawberry.ID, input: SkuCreateInput) -> SkuCreatePayload:
        errors: list[UserError] = []
        sku = _sku(input, ["input"], errors)
        if errors:
            return SkuCreatePayload(user_errors=errors)
        held = 0  # the SKUs the product has: the new one is the file's next

        def edit(data: dict[str, Any]) -> dict[str, Any]:
            nonlocal held
            skus = data["products"][0]["skus"]
            held = len(skus)
            skus.append(sku)
            return data

        problems = await _revise(info, str(product_id), "productId", edit, Fresh(codes=frozenset([input.code])),
                                 lambda: ([["productId"]] * held + [["input"]],
                                          [[]] * held + [[line.warehouse for line in input.stock]]))
        if problems is not None:
            return SkuCreatePayload(user_errors=problems)
        shop = await info.context.merchant_shop()
        [created] = await info.context.adapters.goods.skus_by_code(shop.id, [input.code])
        return SkuCreatePayload(sku=Sku.of(created))

    @strawberry.mutation(description="Change a product's title, description, brand, category, tags or images "
                                     "(secret key), checked as a catalog file's product. Orders keep what they "
                                     "were placed with.")
    async def product_update(self, info: strawberry.Info, id: strawberry.ID,
                             input: ProductUpdateInput) -> ProductUpdatePayload:
        errors: list[UserError] = []
        changes = changes_given(input, errors, {"title": "title", "description": "description", "brand": "brand",
                                           "tags": "tags", "images": "images"}, clearable={"category_handle"})
        if errors:
            return ProductUpdatePayload(user_errors=errors)
        if "images" in changes:
            changes["images"] = [_image(i) for i in changes["images"]]
        if "category_handle" in changes:
            changes["category"] = changes.pop("category_handle")

        skus = 0

        def edit(data: dict[str, Any]) -> dict[str, Any]:
            nonlocal skus
            data["products"][0].update(changes)
            skus = len(data["products"][0]["skus"])
            return data

        def fields() -> tuple[list[list[str]], list[list[str]]]:
            return [["id"]] * skus, [[]] * skus

        problems = await _revise(info, str(id), "id", edit, Fresh(), fields)
        if problems is not None:
            return ProductUpdatePayload(user_errors=problems)
        return ProductUpdatePayload(product=await _product(info, str(id)))

    @strawberry.mutation(description="Change a SKU's title, options, price, compare-at price, purchase limit, "
                                     "premium delivery or deposit terms (secret key), checked by the catalog "
                                     "file's rules. Orders placed keep the price and terms they were placed with.")
    async def sku_update(self, info: strawberry.Info, id: strawberry.ID, input: SkuUpdateInput) -> SkuUpdatePayload:
        ctx = info.context
        shop = await ctx.merchant_shop()
        if errors := await _goods_here(info, shop.id, ["id"]):
            return SkuUpdatePayload(user_errors=errors)
        number = id_of(str(id), "Sku", ["id"], errors)
        [sku] = await ctx.adapters.goods.skus_by_id(shop.id, [number]) if number is not None else [None]
        if sku is None:
            return SkuUpdatePayload(user_errors=errors or [user_error("NOT_FOUND", ["id"], "no such SKU in this shop")])
        changes = _sku_changes(input, errors)
        if errors:
            return SkuUpdatePayload(user_errors=errors)
        at, held = 0, 0  # the SKU's row in the file, and the product's SKUs

        def edit(data: dict[str, Any]) -> dict[str, Any]:
            nonlocal at, held
            skus = data["products"][0]["skus"]
            held = len(skus)
            at = next((n for n, entry in enumerate(skus) if entry["code"] == sku.code), -1)
            if at < 0:  # an import moved it to another product since it was read
                raise CatalogConflict([("products[0]", "the SKU moved to another product meanwhile: try again")])
            skus[at].update(changes)
            if skus[at].get("deposit") is None:
                skus[at].pop("deposit", None)
            return data

        def fields() -> tuple[list[list[str]], list[list[str]]]:
            return [["input"] if n == at else ["id"] for n in range(held)], [[]] * held

        problems = await _revise(info, f"gid://jimu/Product/{sku.product_id}", "id", edit, Fresh(), fields)
        if problems is not None:
            return SkuUpdatePayload(user_errors=problems)
        [changed] = await ctx.adapters.goods.skus_by_id(shop.id, [sku.id])
        return SkuUpdatePayload(sku=Sku.of(changed))

    @strawberry.mutation(description="Archive a product (secret key): gone from the storefront's search, lookups "
                                     "and carts, kept for the orders that hold it. Archiving it again changes nothing.")
    async def product_archive(self, info: strawberry.Info, id: strawberry.ID) -> ProductArchivePayload:
        return await _archive(info, str(id), archive=True)

    @strawberry.mutation(description="Bring an archived product back to the storefront (secret key).")
    async def product_unarchive(self, info: strawberry.Info, id: strawberry.ID) -> ProductArchivePayload:
        return await _archive(info, str(id), archive=False)


async def _archive(info: strawberry.Info, id: str, *, archive: bool) -> ProductArchivePayload:
    ctx = info.context
    shop = await ctx.merchant_shop()
    if errors := await _goods_here(info, shop.id, ["id"]):
        return ProductArchivePayload(user_errors=errors)
    number = id_of(id, "Product", ["id"], errors)
    product = None if number is None else await ctx.adapters.catalog.archive(shop.id, number,
                                                                            utcnow() if archive else None)
    if product is None:
        return ProductArchivePayload(user_errors=errors or [user_error("NOT_FOUND", ["id"], "no such product in this shop")])
    await ctx.invalidate(shop.id)
    return ProductArchivePayload(product=Product.of(product))


async def _revise(info: strawberry.Info, id: str, field: str, edit: Edit, fresh: Fresh,
                  fields: Callable[[], tuple[list[list[str]], list[list[str]]]]) -> list[UserError] | None:
    """The product revised by ``edit`` in one transaction, or the userErrors; ``fields`` tells,
    once the edit ran, the argument path of each of the file's SKUs and their stock lines."""
    ctx = info.context
    shop = await ctx.merchant_shop()
    if errors := await _goods_here(info, shop.id, [field]):
        return errors
    number = id_of(id, "Product", [field], errors)
    if number is None:
        return errors
    try:
        product = await ctx.adapters.catalog.revise(shop.id, number, edit, utcnow(), fresh=fresh)
    except (CatalogInvalid, CatalogConflict) as exc:
        return _user_errors(api.mapped(exc.problems, *fields()))
    if product is None:
        return [user_error("NOT_FOUND", [field], "no such product in this shop")]
    await ctx.invalidate(shop.id)  # as after jimu import: every worker drops the shop's answers
    return None


async def _goods_here(info: strawberry.Info, shop_id: int, field: list[str]) -> list[UserError]:
    """No userErrors when jimu keeps the shop's goods; one when the shop's own system serves them
    (``jimu shop remote``): what jimu would change there is not what its storefront shows."""
    remote = next((r for r in await info.context.adapters.remotes.remotes() if r.shop_id == shop_id), None)
    if remote is None or remote.goods_url is None:
        return []
    return [user_error("INVALID_STATE", field, "the shop's goods are served by its own system: change them there")]


async def _product(info: strawberry.Info, id: str) -> Product:
    shop = await info.context.merchant_shop()
    number = id_of(id, "Product", ["id"], [])
    assert number is not None, "revised, so a product's id"
    [product] = await info.context.adapters.goods.products_by_id(shop.id, [number])
    return Product.of(product)


def _user_errors(problems: list[api.Problem]) -> list[UserError]:
    return [user_error(code, field, message) for field, code, message in problems]


def _sku_changes(s: SkuUpdateInput, errors: list[UserError]) -> dict[str, Any]:
    changes = changes_given(s, errors, {"title": "title", "options": "options", "price": "price",
                                   "premium_delivery_eligible": "premiumDeliveryEligible"},
                       clearable={"compare_at_price", "purchase_limit", "deposit"})
    renamed = {"compare_at_price": "compareAtPrice", "purchase_limit": "purchaseLimit"}
    changes = {renamed.get(k, k): v for k, v in changes.items()}
    if "options" in changes:
        changes["options"] = _options(changes["options"], ["input"], errors)
    for name in ("price", "compareAtPrice"):
        if name in changes:
            changes[name] = _money(changes[name], ["input", name], errors)
    if changes.get("deposit") is not None:
        changes["deposit"] = _deposit(changes["deposit"], ["input"], errors)
    return changes


def _image(i: Any) -> dict[str, Any]:
    return {"url": i.url, "altText": i.alt_text}


def _money(value: Decimal | None, field: list[str], errors: list[UserError]) -> int | None:
    if value is None:
        return None
    fen = minor_units(value)
    if fen is None:
        errors.append(user_error("INVALID", field, NOT_MONEY))
    return fen


def _options(options: list[Any], at: list[str], errors: list[UserError]) -> dict[str, str]:
    named = {o.name: o.value for o in options}
    if len(named) != len(options):
        errors.append(user_error("INVALID", [*at, "options"], "an option name appears more than once"))
    return named


def _deposit(d: DepositPolicyInput, at: list[str], errors: list[UserError]) -> dict[str, Any]:
    return {
        "deposit": _money(d.deposit, [*at, "deposit", "deposit"], errors),
        "creditedValue": _money(d.credited_value, [*at, "deposit", "creditedValue"], errors),
        "balanceDueHours": d.balance_due_hours, "balanceMethods": [m.value for m in d.balance_methods],
    }


def _sku(s: SkuCreateInput, at: list[str], errors: list[UserError]) -> dict[str, Any]:
    """The input as the file's SKU entry: yuan to fen, options and stock as the file's maps."""
    entry: dict[str, Any] = {
        "code": s.code, "title": s.title, "options": _options(s.options, at, errors),
        "price": _money(s.price, [*at, "price"], errors),
        "compareAtPrice": _money(s.compare_at_price, [*at, "compareAtPrice"], errors),
        "purchaseLimit": s.purchase_limit, "premiumDeliveryEligible": s.premium_delivery_eligible,
        "stock": {line.warehouse: line.quantity for line in s.stock},
    }
    if len(entry["stock"]) != len(s.stock):
        errors.append(user_error("INVALID", [*at, "stock"], "a warehouse appears more than once"))
    if s.deposit is not None:
        entry["deposit"] = _deposit(s.deposit, at, errors)
    return entry
