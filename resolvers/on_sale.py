"""What the storefront shows and sells of the goods: not what a merchant archived.

Archived products stay readable where the past holds them (an order line's SKU and its
product); every lookup by handle, code or id a shopper makes goes through here: the root
fields, ``node`` and the federation's ``_entities`` alike. Each lookup takes a batch of
keys and answers in their order, through the request's loaders, so N keys cost what one
does.
"""

from __future__ import annotations

from collections.abc import Sequence

import strawberry

from adapters.goods import port


def shown(product: port.Product | None) -> port.Product | None:
    """The product as the storefront shows it: an archived one is not there."""
    return product if product is not None and product.archived_at is None else None


async def skus_on_sale(info: strawberry.Info, shop_id: int, skus: Sequence[port.Sku | None]) -> list[port.Sku | None]:
    """The SKUs a shopper can see and buy: those of archived products are not there."""
    products = await info.context.loaders.product_by_id.load_many([(shop_id, s.product_id) for s in skus if s])
    listed = {p.id for p in products if shown(p) is not None}
    return [s if s is not None and s.product_id in listed else None for s in skus]


async def products_by_id(info: strawberry.Info, shop_id: int, ids: Sequence[int]) -> list[port.Product | None]:
    found = await info.context.loaders.product_by_id.load_many([(shop_id, i) for i in ids])
    return [shown(p) for p in found]


async def products_by_handle(info: strawberry.Info, shop_id: int, handles: Sequence[str]) -> list[port.Product | None]:
    found = await info.context.loaders.product_by_handle.load_many([(shop_id, h) for h in handles])
    return [shown(p) for p in found]


async def skus_by_id(info: strawberry.Info, shop_id: int, ids: Sequence[int]) -> list[port.Sku | None]:
    found = await info.context.loaders.sku_by_id.load_many([(shop_id, i) for i in ids])
    return await skus_on_sale(info, shop_id, found)


async def skus_by_code(info: strawberry.Info, shop_id: int, codes: Sequence[str]) -> list[port.Sku | None]:
    found = await info.context.loaders.sku_by_code.load_many([(shop_id, c) for c in codes])
    return await skus_on_sale(info, shop_id, found)
