"""Creating a product or a SKU over the API through the catalog import: the same entry the
file would hold, the same rules (``parse_catalog``) and the import's one transaction
(``CatalogStore.apply``).

The file built holds the shop as it is, its categories and warehouses as they are (so a
reference resolves as in a file that names them; upserted unchanged) and the one product.
Problems come back as (path into the arguments, code, message).
"""

from __future__ import annotations

import re
from datetime import datetime
from typing import Any

from adapters.catalog.entries import FORMAT, CatalogFile
from adapters.catalog.format import CatalogInvalid, parse_catalog
from adapters.catalog.port import CatalogConflict, CatalogStore
from adapters.goods.port import Category, Product, Sku
from adapters.inventory.port import Warehouse
from adapters.shops.port import Shop

Problem = tuple[list[str], str, str]  # field, code, message


def sku_entry(sku: Sku) -> dict[str, Any]:
    """A stored SKU as its catalog entry, so re-applying it changes nothing."""
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
    """A stored product as its catalog entry, holding ``skus``."""
    return {
        "handle": product.handle, "title": product.title, "description": product.description,
        "brand": product.brand, "category": category, "tags": list(product.tags),
        "images": [{"url": i.url, "altText": i.alt_text} for i in product.images], "skus": skus,
    }


def catalog_of(shop: Shop, categories: list[Category], warehouses: list[Warehouse],
               product: dict[str, Any]) -> dict[str, Any]:
    handles = {c.id: c.handle for c in categories}
    return {
        "format": FORMAT,
        "shop": {"handle": shop.handle, "name": shop.name, "onlinePaymentCap": shop.online_payment_cap},
        "categories": [{"handle": c.handle, "name": c.name, "parent": handles.get(c.parent_id or -1)}
                       for c in categories],
        "warehouses": [{"code": w.code, "regions": list(w.regions)} for w in warehouses],
        "products": [product],
    }


_PRODUCT = re.compile(r"^products\[0\](?:\.(.*))?$")
_SKU = re.compile(r"^skus\[([0-9]+)\](?:\.(.*))?$")
_RENAMED = {"category": "categoryHandle"}
_PLACE = re.compile(r"products\[0\](?:[.\[][A-Za-z0-9_\]]+)*")


def argument_path(path: str, sku_fields: list[list[str]], stock_codes: list[list[str]]) -> tuple[list[str], str]:
    """The file's path of a problem as the path into the arguments, and its code.

    ``sku_fields[n]`` is the argument path of the file's SKU n (``["input", "skus", "0"]``,
    or ``["input"]`` for skuCreate), ``stock_codes[n]`` the warehouse codes of its stock list.
    """
    match = _PRODUCT.match(path)
    if match is None:  # the shop, its categories or warehouses as stored: not the arguments' fault
        return ["input"], "INVALID"
    rest = match.group(1) or ""
    sku = _SKU.match(rest)
    if sku is None:
        head, _, tail = rest.partition(".")
        head = re.sub(r"\[([0-9]+)\]", r".\1", head)
        parts = [_RENAMED.get(p, p) for p in head.split(".") if p] + [p for p in tail.split(".") if p]
        return ["input", *parts], "NOT_FOUND" if head == "category" else "INVALID"
    n, field = int(sku.group(1)), sku.group(2) or ""
    base = sku_fields[n] if n < len(sku_fields) else ["productId"]
    if field.startswith("stock."):
        code = field.removeprefix("stock.")
        codes = stock_codes[n] if n < len(stock_codes) else []
        at = [str(codes.index(code))] if code in codes else []
        return [*base, "stock", *at, "warehouse"] if at else [*base, "stock"], "NOT_FOUND"
    field = re.sub(r"\[([0-9]+)\]", r".\1", field)
    return [*base, *[p for p in field.split(".") if p]], "INVALID"


def parsed(data: dict[str, Any], now: datetime, sku_fields: list[list[str]],
           stock_codes: list[list[str]]) -> tuple[CatalogFile | None, list[Problem]]:
    """The file validated exactly as ``jimu import`` validates one, or its problems."""
    try:
        return parse_catalog(data, now), []
    except CatalogInvalid as exc:
        return None, _mapped(exc.problems, sku_fields, stock_codes)


async def apply(store: CatalogStore, catalog: CatalogFile, now: datetime, sku_fields: list[list[str]],
                stock_codes: list[list[str]]) -> list[Problem]:
    """The import's one transaction: everything written, or nothing and the problems."""
    try:
        await store.apply(catalog, now)
    except CatalogConflict as exc:
        return _mapped(exc.problems, sku_fields, stock_codes)
    return []


def _mapped(problems: list[tuple[str, str]], sku_fields: list[list[str]],
            stock_codes: list[list[str]]) -> list[Problem]:
    out = []
    for path, reason in problems:
        field, code = argument_path(path, sku_fields, stock_codes)
        # A reference names what the shop holds (the file built for it holds all of that), and a
        # place the reason names is a place in the arguments.
        reason = reason.replace(" in this file", " in this shop")
        reason = _PLACE.sub(lambda m: ".".join(argument_path(m.group(0), sku_fields, stock_codes)[0]), reason)
        out.append((field, code, reason))
    return out
