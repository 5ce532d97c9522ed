"""Building the userErrors of mutation payloads."""

from __future__ import annotations

import re
from typing import Any

import strawberry

from schema.common import UserError, UserErrorCode, parse_gid

CODE_PATTERN = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_-]{0,63}$")
_NOT_NULL = "give a value or leave the field out"


def user_error(code: str, field: list[str] | None, message: str) -> UserError:
    return UserError(code=UserErrorCode(code), field=field, message=message)


def id_of(value: str, type_name: str, field: list[str], errors: list[UserError]) -> int | None:
    """The number in a global id of ``type_name``; None, with an INVALID userError at ``field``
    in ``errors``, for anything else."""
    parsed = parse_gid(value)
    if parsed is None or parsed[0] != type_name:
        errors.append(user_error("INVALID", field, f"not an id of a {type_name}: give gid://jimu/{type_name}/<n>"))
        return None
    return parsed[1]


def changes_given(given: Any, errors: list[UserError], names: dict[str, str], clearable: set[str]) -> dict[str, Any]:
    """The fields given (``names``: attribute -> the file's key), null only where it clears."""
    changes = {}
    for attribute in [*names, *clearable]:
        value = getattr(given, attribute)
        if value is strawberry.UNSET:
            continue
        if value is None and attribute not in clearable:
            errors.append(user_error("INVALID", ["input", camel(attribute)], _NOT_NULL))
            continue
        changes[names.get(attribute, attribute)] = value
    return changes


def camel(name: str) -> str:
    head, *rest = name.split("_")
    return head + "".join(part.title() for part in rest)
