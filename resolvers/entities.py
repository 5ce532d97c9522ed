"""``_entities``: the federation's lookups by key, within the caller's shop.

A gateway sends representations (``{"__typename": "Product", "handle": "..."}``) and
takes back the objects in the same order. They are looked up as the root fields look
them up (resolvers/on_sale.py): one batch per type and key for the whole list, so N
entities cost the statements of one. Another shop's object, an archived product and a
key naming nothing are null, as ``product``, ``sku`` and ``node`` answer; a
representation without its type's key is an error at its index only.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Mapping, Sequence
from typing import Any

import strawberry

from resolvers import on_sale
from schema.common import parse_gid
from schema.errors import BadUserInput
from schema.goods import Product, Sku
from schema.shops import Shop

# The keys each entity type is found by, in the order one is chosen when several are given.
ENTITY_KEYS: Mapping[type, tuple[str, ...]] = {Product: ("id", "handle"), Sku: ("id", "code"), Shop: ("id",)}

Lookup = Callable[[strawberry.Info, int, Sequence[Any]], Awaitable[Sequence[Any]]]
_LOOKUPS: Mapping[tuple[str, str], tuple[Lookup, Callable[[Any], Any]]] = {
    ("Product", "id"): (on_sale.products_by_id, Product.of),
    ("Product", "handle"): (on_sale.products_by_handle, Product.of),
    ("Sku", "id"): (on_sale.skus_by_id, Sku.of),
    ("Sku", "code"): (on_sale.skus_by_code, Sku.of),
}
_KEYS_BY_NAME = {t.__name__: keys for t, keys in ENTITY_KEYS.items()}
_NOTHING = object()  # a key that can name nothing here (another type's global id): null, no lookup


async def resolve_entities(info: strawberry.Info, representations: Sequence[Any]) -> list[Any]:
    """Each representation's object (or None, or the error it earns), in their order."""
    shop = await info.context.shop()
    results: list[Any] = [None] * len(representations)
    wanted: dict[tuple[str, str], list[tuple[int, Any]]] = {}
    for index, representation in enumerate(representations):
        try:
            type_name, key, value = _key_of(representation)
        except BadUserInput as exc:
            results[index] = exc
            continue
        if type_name == "Shop":
            results[index] = Shop.of(shop) if value == shop.id else None
        elif value is not _NOTHING:
            wanted.setdefault((type_name, key), []).append((index, value))

    async def look_up(type_key: tuple[str, str], items: list[tuple[int, Any]]) -> None:
        lookup, view = _LOOKUPS[type_key]
        found = await lookup(info, shop.id, [value for _, value in items])
        for (index, _), record in zip(items, found, strict=True):
            results[index] = view(record) if record is not None else None

    # Together, so the loaders gather what the lookups share (a SKU's product) into one batch.
    await asyncio.gather(*(look_up(type_key, items) for type_key, items in wanted.items()))
    return results


def _key_of(representation: Any) -> tuple[str, str, Any]:
    if not isinstance(representation, dict):
        raise BadUserInput("a representation is an object with __typename and a key")
    type_name = representation.get("__typename")
    keys = _KEYS_BY_NAME.get(type_name) if isinstance(type_name, str) else None
    if keys is None:
        raise BadUserInput(f"{type_name!r} is not an entity here: Product, Sku or Shop")
    for key in keys:
        value = representation.get(key)
        if value is None:
            continue
        if not isinstance(value, str):
            raise BadUserInput(f"{type_name}.{key} is a string")
        if key != "id":
            return type_name, key, value
        parsed = parse_gid(value)
        if parsed is None:
            raise BadUserInput(f"{type_name}.id is not a jimu global id (gid://jimu/{type_name}/<n>)")
        return type_name, key, parsed[1] if parsed[0] == type_name else _NOTHING
    raise BadUserInput(f"a {type_name} representation needs one of {', '.join(keys)}")
