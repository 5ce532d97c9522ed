"""Products and SKUs written over the API through the catalog import: the same entries a
file would hold (``adapters.catalog.stored``), the same rules (``parse_catalog``) and the
import's one transaction (``CatalogStore.apply`` to create, ``revise`` to change).

A problem found at a place of the file comes back as (path into the arguments, code, message).
"""

from __future__ import annotations

import re
from datetime import datetime
from typing import Any

from adapters.catalog.entries import CatalogFile
from adapters.catalog.format import CatalogInvalid, parse_catalog
from adapters.catalog.port import CatalogConflict, CatalogStore, Fresh

Problem = tuple[list[str], str, str]  # field, code, message


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
        return None, mapped(exc.problems, sku_fields, stock_codes)


async def apply(store: CatalogStore, catalog: CatalogFile, now: datetime, fresh: Fresh,
                sku_fields: list[list[str]], stock_codes: list[list[str]]) -> list[Problem]:
    """The import's one transaction: everything written, or nothing and the problems."""
    try:
        await store.apply(catalog, now, fresh=fresh)
    except CatalogConflict as exc:
        return mapped(exc.problems, sku_fields, stock_codes)
    return []


def mapped(problems: list[tuple[str, str]], sku_fields: list[list[str]],
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
