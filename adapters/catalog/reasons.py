"""Pydantic's errors in the words a merchant reads: what a field holds, its unit, an example.

``plain(error)`` is the (path, reason) of one error of ``CatalogFile`` validation. Money
says it is in fen and shows the figure for the value given ("price is in fen, an
integer: 15900 for 159.00"); a pattern says what it asks for; an unknown key names the
closest known one. An error of a kind not described here keeps pydantic's message.
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Sequence
from decimal import Decimal
from types import UnionType
from typing import Annotated, Any, Union, get_args, get_origin

from pydantic import BaseModel
from pydantic_core import ErrorDetails

from adapters.catalog.entries import PATTERN_RULES, CatalogFile

MONEY = frozenset({"price", "compareAtPrice", "fee", "freeAbove", "remoteSurcharge", "threshold", "discount",
                   "deposit", "creditedValue", "onlinePaymentCap"})
# What a whole number counts, where saying so helps.
UNITS = {"stock": "units", "balanceDueHours": "hours", "days": "days", "validDays": "days",
         "percentOff": "percent", "capacity": "orders a slot", "purchaseLimit": "units",
         "totalQuantity": "coupons", "perShopperLimit": "coupons", "requiredAssists": "assists",
         "helperDailyLimit": "assists a day"}
_BOUNDS = {"greater_than_equal": ("ge", "at least"), "less_than_equal": ("le", "at most"),
           "greater_than": ("gt", "more than"), "less_than": ("lt", "less than")}
_DECIMAL = re.compile(r"^-?[0-9]{1,18}(\.[0-9]{1,18})?$")


def plain(error: ErrorDetails) -> tuple[str, str]:
    loc = tuple(part for part in error["loc"] if part != "[key]")  # a dict key's own error
    return path(loc), reason(error, loc)


def path(loc: Sequence[int | str]) -> str:
    """``products[3].skus[1].code``: the form a problem is shown and searched for in."""
    out = ""
    for part in loc:
        out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else str(part))
    return out


def reason(error: ErrorDetails, loc: Sequence[int | str]) -> str:
    kind, ctx, given = error["type"], error.get("ctx") or {}, error["input"]
    name = _walk(loc)[0] or "the file"
    if kind in ("int_type", "int_parsing", "int_from_float"):
        return _money(name, given) if name in MONEY else _whole(name, given)
    if kind in _BOUNDS:
        key, words = _BOUNDS[kind]
        return f"must be {words} {ctx[key]}" + (" fen" if name in MONEY else "")
    if kind == "string_pattern_mismatch" and ctx.get("pattern") in PATTERN_RULES:
        what, takes = PATTERN_RULES[ctx["pattern"]]
        return f"{_shown(given)} is not {what}: use {takes}"
    if kind == "string_too_short":
        return "must not be empty" if ctx["min_length"] == 1 else f"must have at least {ctx['min_length']} characters"
    if kind == "string_too_long":
        return f"must have at most {ctx['max_length']} characters, not {len(given)}"
    if kind == "too_short":
        return f"needs at least {_entries(ctx['min_length'])}"
    if kind == "too_long":
        return f"may have at most {_entries(ctx['max_length'])}"
    if kind == "literal_error":
        return _one_of(re.findall(r"'([^']*)'", ctx["expected"]), given)
    if kind == "extra_forbidden":
        return _unknown_key(loc)
    if kind == "missing":
        return f"{name} is required"
    plain_words = {
        "string_type": "must be text, in quotes",
        "bool_type": "must be true or false", "bool_parsing": "must be true or false",
        "list_type": "must be a list: [...]",
        "dict_type": "must be an object: {...}", "model_type": "must be an object: {...}",
        "model_attributes_type": "must be an object: {...}",
    }
    return plain_words.get(kind, error["msg"])


def _money(name: str, given: Any) -> str:
    said = f"{name} is in fen, an integer"
    amount = _number(given)
    if amount is None or (amount * 100) % 1:
        return f"{said}: 15900 for 159.00"
    if isinstance(given, str) and "." not in given:
        return f"{said} without quotes: {amount}"
    return f"{said}: {int(amount * 100)} for {amount.quantize(Decimal('0.01'))}"


def _whole(name: str, given: Any) -> str:
    said = f"{name} must be a whole number" + (f" of {UNITS[name]}" if name in UNITS else "")
    number = _number(given)
    if number is None:
        return said
    if number % 1:
        return f"{said}, not {_shown(given)}"
    return f"{said}: {int(number)}, not {_shown(given)}"


def _number(given: Any) -> Decimal | None:
    """The number a JSON number or a numeric string says, or None."""
    if isinstance(given, bool):
        return None
    if isinstance(given, (int, float)):
        given = str(given)
    if isinstance(given, str) and _DECIMAL.fullmatch(given.strip()):
        return Decimal(given.strip())
    return None


def _one_of(options: list[str], given: Any) -> str:
    if len(options) == 1:
        return f"must be {options[0]}"
    said = f"must be one of {', '.join(options)}"
    close = _closest(given, options)
    return f"{said}: did you mean {close}?" if close else said


def _unknown_key(loc: Sequence[int | str]) -> str:
    key = str(loc[-1])
    holder = _walk(loc[:-1])[1]
    known = list(holder.model_fields) if isinstance(holder, type) and issubclass(holder, BaseModel) else []
    close = _closest(key, known)
    if close:
        return f"unknown key {key!r}: did you mean {close!r}?"
    return f"unknown key {key!r}: the keys here are {', '.join(known)}" if known else f"unknown key {key!r}"


def _closest(given: Any, options: list[str]) -> str | None:
    if not isinstance(given, str):
        return None
    same = [option for option in options if option.casefold() == given.casefold()]
    found = same or difflib.get_close_matches(given, options, n=1, cutoff=0.6)
    return found[0] if found else None


def _walk(loc: Sequence[int | str]) -> tuple[str | None, Any]:
    """The field ``loc`` is in (a dict's key or a list's index is not one) and the type there."""
    field, kind = None, CatalogFile
    for part in loc:
        kind = _bare(kind)
        if isinstance(kind, type) and issubclass(kind, BaseModel) and isinstance(part, str):
            if part not in kind.model_fields:
                return field, None
            field, kind = part, kind.model_fields[part].annotation
        elif get_origin(kind) in (list, dict):
            kind = get_args(kind)[-1]
        else:
            return field, None
    return field, _bare(kind)


def _bare(kind: Any) -> Any:
    """The type inside ``Annotated[...]`` and ``X | None``."""
    while get_origin(kind) in (Annotated, Union, UnionType):
        kind = next(arg for arg in get_args(kind) if arg is not type(None))
    return kind


def _entries(n: int) -> str:
    return f"{n} entry" if n == 1 else f"{n} entries"


def _shown(given: Any) -> str:
    shown = repr(given)
    return shown if len(shown) <= 40 else shown[:37] + "..."
