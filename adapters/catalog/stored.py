"""What a shop holds, written back as catalog entries: the file a change over the API is
checked and applied as, so that an API write and an import follow one set of rules.

An entry made from a stored row re-applies to exactly that row: nothing changes unless the
entry is edited.
"""

from __future__ import annotations

from typing import Any

from adapters.catalog.entries import FORMAT
from adapters.goods.port import Category, Product, Sku
from adapters.inventory.port import Warehouse
from adapters.shops.port import Shop


def sku_entry(sku: Sku) -> dict[str, Any]:
    entry: dict[str, Any] = {
        "code": sku.code, "title": sku.title, "options": dict(sku.options), "price": sku.price,
        "compareAtPrice": sku.compare_at_price, "purchaseLimit": sku.purchase_limit,
        "premiumDeliveryEligible": sku.premium_delivery_eligible,
    }
    if (d := sku.deposit_policy) is not None:
        entry["deposit"] = {"deposit": d.deposit, "creditedValue": d.credited_value,
                            "balanceDueHours": d.balance_due_hours, "balanceMethods": list(d.balance_methods)}
    return entry


def product_entry(product: Product, category: str | None, skus: list[dict[str, Any]]) -> dict[str, Any]:
    """A stored product as its entry, holding ``skus``."""
    return {
        "handle": product.handle, "title": product.title, "description": product.description,
        "brand": product.brand, "category": category, "tags": list(product.tags),
        "images": [{"url": i.url, "altText": i.alt_text} for i in product.images], "skus": skus,
    }


def catalog_of(shop: Shop, categories: list[Category], warehouses: list[Warehouse],
               product: dict[str, Any]) -> dict[str, Any]:
    """A file of one product: the shop, its categories and warehouses as they are (so the
    product's references resolve as in a file naming them, upserted unchanged)."""
    handles = {c.id: c.handle for c in categories}
    return {
        "format": FORMAT,
        "shop": {"handle": shop.handle, "name": shop.name, "onlinePaymentCap": shop.online_payment_cap},
        "categories": [{"handle": c.handle, "name": c.name, "parent": handles.get(c.parent_id or -1)}
                       for c in categories],
        "warehouses": [{"code": w.code, "regions": list(w.regions)} for w in warehouses],
        "products": [product],
    }


def stored_catalog(shop: Shop, categories: list[Category], warehouses: list[Warehouse], product: Product,
                   skus: list[Sku]) -> dict[str, Any]:
    """The file of one stored product with its SKUs, in catalog order."""
    category = {c.id: c.handle for c in categories}.get(product.category_id or -1)
    return catalog_of(shop, categories, warehouses, product_entry(product, category, [sku_entry(s) for s in skus]))
