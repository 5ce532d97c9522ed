"""Pure rules of the goods capability: search text, orderings, cursors, regions."""

from __future__ import annotations

import base64
import binascii
import json
import re
from collections.abc import Iterable
from datetime import datetime

from adapters.goods.port import Category, Position, Product, ProductQuery, SortKey
from adapters.goods.regions import PROVINCE_CODES
from adapters.times import time_problem

MAX_QUERY_LENGTH = 100
REGION_CODE_PATTERN = r"[0-9]{1,6}(?:_[0-9]{1,6}){0,3}"
_REGION_CODE = re.compile(f"^{REGION_CODE_PATTERN}$")


class InvalidCursor(ValueError):
    """A cursor that was not made by this ordering (or not by jimu at all)."""


def fold(text: str) -> str:
    """Case-insensitive form used for matching; works for Chinese as for Latin."""
    return text.casefold()


def search_text(title: str, brand: str, tags: Iterable[str]) -> str:
    # One field per line, so that a query cannot match across two fields.
    return "\n".join(fold(part) for part in (title, brand, *tags))


def normalized_text(query: ProductQuery) -> str | None:
    text = (query.text or "").strip()
    return fold(text) if text else None


def relevance_rank(product_title: str, text: str | None) -> int:
    """0 when the title matches the search, 1 otherwise: title matches rank first."""
    return 0 if text is not None and text in fold(product_title) else 1


def sort_value(product: Product, query: ProductQuery) -> int | str | datetime:
    match query.sort:
        case SortKey.RELEVANCE:
            return relevance_rank(product.title, normalized_text(query))
        case SortKey.PRICE:
            return product.min_price
        case SortKey.CREATED_AT:
            return product.created_at
        case SortKey.TITLE:
            return product.title


def encode_cursor(query: ProductQuery, position: Position) -> str:
    value = position.value.isoformat() if isinstance(position.value, datetime) else position.value
    raw = json.dumps([query.sort.value, query.reverse, value, position.id], separators=(",", ":"))
    return base64.urlsafe_b64encode(raw.encode("utf-8")).decode("ascii").rstrip("=")


MAX_CURSOR_LENGTH = 1_024  # a title of 200 characters, escaped, in base64: well inside
_ID_MAX = 2**63 - 1


def decode_cursor(query: ProductQuery, cursor: str) -> Position:
    """The position a cursor of ``encode_cursor`` holds; InvalidCursor for anything this
    connection did not issue (forged, nested, out of range, another ordering's)."""
    if len(cursor) > MAX_CURSOR_LENGTH:
        raise InvalidCursor("invalid cursor")
    try:
        padded = cursor + "=" * (-len(cursor) % 4)
        decoded = json.loads(base64.urlsafe_b64decode(padded.encode("ascii")))
        sort, reverse, value, id_ = decoded
    except (binascii.Error, UnicodeError, ValueError, TypeError, RecursionError) as exc:
        raise InvalidCursor("invalid cursor") from exc
    if sort != query.sort.value or reverse is not query.reverse:
        raise InvalidCursor("invalid cursor: it belongs to another sortKey or direction")
    if not _whole(id_) or not 1 <= id_ <= _ID_MAX:
        raise InvalidCursor("invalid cursor")
    if query.sort in (SortKey.RELEVANCE, SortKey.PRICE):
        if not _whole(value) or not -_ID_MAX <= value <= _ID_MAX:
            raise InvalidCursor("invalid cursor")
    elif not isinstance(value, str) or len(value) > 300:
        raise InvalidCursor("invalid cursor")
    if query.sort is SortKey.CREATED_AT:
        try:
            value = datetime.fromisoformat(value)
        except ValueError as exc:
            raise InvalidCursor("invalid cursor") from exc
        if time_problem(value) is not None:  # a naive or out-of-range time was never issued
            raise InvalidCursor("invalid cursor")
    return Position(value=value, id=id_)


def _whole(value: object) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def category_subtree(categories: Iterable[Category], handle: str) -> set[int]:
    """Ids of the category with this handle and of all categories below it."""
    categories = list(categories)
    root = next((c for c in categories if c.handle == handle), None)
    if root is None:
        return set()
    found = {root.id}
    grew = True
    while grew:
        below = {c.id for c in categories if c.parent_id in found} - found
        found |= below
        grew = bool(below)
    return found


def category_chain(categories: Iterable[Category], category_id: int | None) -> frozenset[int]:
    """The category and every category above it."""
    parents = {c.id: c.parent_id for c in categories}
    chain: set[int] = set()
    while category_id is not None and category_id not in chain:
        chain.add(category_id)
        category_id = parents.get(category_id)
    return frozenset(chain)


REGION_FORMAT = "1 to 4 numeric segments joined by _, e.g. 19_1601"


def region_problem(code: str) -> str | None:
    """Why ``code`` names no region jimu knows, or None. The region table holds every
    province but only the cities and districts the shops name, so a code is known when its
    province is in the table; the levels below it are checked for form only."""
    if not _REGION_CODE.fullmatch(code):
        return f"{code[:40]!r} is not a region code ({REGION_FORMAT})"
    province = code.split("_", 1)[0]
    if province not in PROVINCE_CODES:
        return f"no province {province!r} in the region table (the regions query lists them)"
    return None
