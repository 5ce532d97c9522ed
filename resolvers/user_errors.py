"""Building the userErrors of mutation payloads."""

from __future__ import annotations

import re

from schema.common import UserError, UserErrorCode, parse_gid

CODE_PATTERN = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_-]{0,63}$")


def user_error(code: str, field: list[str], message: str) -> UserError:
    return UserError(code=UserErrorCode(code), field=field, message=message)


def id_of(value: str, type_name: str, field: list[str], errors: list[UserError]) -> int | None:
    """The number in a global id of ``type_name``; None, with an INVALID userError at ``field``
    in ``errors``, for anything else."""
    parsed = parse_gid(value)
    if parsed is None or parsed[0] != type_name:
        errors.append(user_error("INVALID", field, f"not an id of a {type_name}: give gid://jimu/{type_name}/<n>"))
        return None
    return parsed[1]
