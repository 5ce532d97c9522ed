"""Custom scalars. Decimal, DateTime and JSON are strawberry's own."""

from __future__ import annotations

from typing import Any, NewType

import strawberry
from graphql import IntValueNode, ValueNode
from strawberry.types.scalar import ScalarDefinition

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


SCALARS: dict[object, ScalarDefinition] = {
    Long: strawberry.scalar(
        name="Long",
        description="Signed 64-bit integer, a JSON number.",
        serialize=_long_value,
        parse_value=_long_value,
        parse_literal=_long_literal,
    ),
}
