"""Custom scalars: Long, and DateTime bounded by the domain. Decimal and JSON are strawberry's own."""

from __future__ import annotations

from datetime import datetime
from typing import Any, NewType

import dateutil.parser
import strawberry
from graphql import IntValueNode, ValueNode
from strawberry.types.scalar import ScalarDefinition

from adapters.times import time_problem

Long = NewType("Long", int)

_LONG_MIN, _LONG_MAX = -(2**63), 2**63 - 1


def _long_value(value: Any) -> int:
    # bool is an int in Python, and a float is never money: refuse both.
    if isinstance(value, bool) or not isinstance(value, int):
        raise ValueError("Long must be a whole number (minor units), not a float or a string")
    if not _LONG_MIN <= value <= _LONG_MAX:
        raise ValueError("Long must fit in 64 bits")
    return value


def _long_literal(node: ValueNode, _variables: dict[str, Any] | None = None) -> int:
    if not isinstance(node, IntValueNode):
        raise ValueError("Long must be a whole number (minor units)")
    return _long_value(int(node.value))


_MAX_DATETIME_TEXT = 64


def _datetime_value(value: Any) -> datetime:
    """An ISO-8601 time with an offset, inside the window every read can serve (adapters.times);
    the same parser as strawberry's own DateTime."""
    if not isinstance(value, str) or len(value) > _MAX_DATETIME_TEXT:
        raise ValueError("DateTime must be an ISO-8601 string with an offset, e.g. 2026-06-18T09:00:00+08:00")
    try:
        parsed = dateutil.parser.isoparse(value)
    except (ValueError, OverflowError) as exc:
        raise ValueError(f"DateTime must be an ISO-8601 time with an offset, e.g. 2026-06-18T09:00:00+08:00 ({exc})") from exc
    problem = time_problem(parsed)
    if problem is not None:
        raise ValueError(f"DateTime: {problem}")
    return parsed


def _datetime_out(value: datetime) -> str:
    return value.isoformat()


SCALARS: dict[object, ScalarDefinition] = {
    datetime: strawberry.scalar(
        name="DateTime",
        description="ISO-8601 date and time with an offset, e.g. 2026-06-18T09:00:00+08:00; "
        "from 1970 to 2099, offsets within ±14:00.",
        serialize=_datetime_out,
        parse_value=_datetime_value,
    ),
    Long: strawberry.scalar(
        name="Long",
        description="Signed 64-bit integer, a JSON number.",
        serialize=_long_value,
        parse_value=_long_value,
        parse_literal=_long_literal,
    ),
}
