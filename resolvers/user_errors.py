"""Building the userErrors of mutation payloads."""

from __future__ import annotations

import re

from schema.common import UserError, UserErrorCode

CODE_PATTERN = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_-]{0,63}$")


def user_error(code: str, field: list[str], message: str) -> UserError:
    return UserError(code=UserErrorCode(code), field=field, message=message)
