"""Types every capability shares: Node, Money, PageInfo, UserError."""

from __future__ import annotations

import base64
import enum
import re
from collections.abc import Callable, Sequence
from decimal import Decimal
from operator import attrgetter
from typing import Any, Generic, TypeVar

import strawberry
from graphql import VariableNode

from adapters.paging import Window, in_memory
from schema.errors import BadUserInput
from schema.scalars import Long

MAX_PAGE = 100
DEFAULT_PAGE = 20  # the contract's default for first
P = TypeVar("P")
N = TypeVar("N")
R = TypeVar("R")
_GID = re.compile(r"^gid://jimu/([A-Za-z]+)/([1-9][0-9]{0,17})$")
_CART_GID = re.compile(r"^gid://jimu/Cart/([A-Za-z0-9_-]{22})$")


def gid(type_name: str, id_: int | str) -> strawberry.ID:
    return strawberry.ID(f"gid://jimu/{type_name}/{id_}")


def parse_cart_gid(value: str) -> str | None:
    """The token in a cart's id (``gid://jimu/Cart/<22 random characters>``), or None.
    Carts are named by a random token, not their row number, so ids cannot be counted."""
    match = _CART_GID.fullmatch(value)
    return match.group(1) if match else None


def parse_gid(value: str) -> tuple[str, int] | None:
    """``("Product", 12)`` for ``gid://jimu/Product/12``; None when it is not a jimu id."""
    match = _GID.fullmatch(value)
    return (match.group(1), int(match.group(2))) if match else None


def check_page_size(size: int, name: str) -> None:
    """A connection's ``first`` or ``last``: 1 to MAX_PAGE, else BAD_USER_INPUT."""
    if not 1 <= size <= MAX_PAGE:
        raise BadUserInput(f"{name} must be between 1 and {MAX_PAGE}")


def page_window(
    info: strawberry.Info,
    first: int | None,
    after: str | None,
    last: int | None,
    before: str | None,
    decode: Callable[[str], P],
) -> Window[P]:
    """The window a connection's Relay arguments ask for; BAD_USER_INPUT for none.

    ``first`` has a default (20) in the contract, so it counts as given only when the
    document gives it: ``last: 5`` alone is the last five, ``first`` with ``last`` is refused.
    ``decode`` reads a cursor, raising ValueError for one the connection never issued."""
    if last is not None:
        if first is not None and _given(info, "first"):
            raise BadUserInput("give first or last, not both")
        check_page_size(last, "last")
        size, from_end = last, True
    else:
        size, from_end = DEFAULT_PAGE if first is None else first, False  # an explicit null means the default
        check_page_size(size, "first")
    positions = []
    for name, cursor in (("after", after), ("before", before)):
        try:
            positions.append(None if cursor is None else decode(cursor))
        except ValueError as exc:
            raise BadUserInput(f"{name}: {exc}") from exc
    return Window(size, positions[0], positions[1], from_end)


def _given(info: strawberry.Info, argument: str) -> bool:
    """Whether the document sets ``argument`` on this field (a literal, or a variable sent:
    a variable's default in the document counts as sent). It reads the field's nodes from
    graphql-core's resolve info, which strawberry's Info keeps as ``_raw_info`` (the fast
    path builds one too)."""
    for node in info._raw_info.field_nodes[0].arguments:
        if node.name.value == argument:
            value = node.value
            return not isinstance(value, VariableNode) or value.name.value in info.variable_values
    return False


def id_cursor(kind: str, id_: int) -> str:
    """An opaque cursor for a connection ordered by id: ``kind`` keeps one connection's
    cursors out of another's."""
    return base64.urlsafe_b64encode(f"{kind}:{id_}".encode()).decode("ascii").rstrip("=")


def id_cursor_reader(kind: str) -> Callable[[str], int]:
    """Reads ``id_cursor(kind, ...)`` cursors; ValueError for anything else."""

    def read(cursor: str) -> int:
        try:
            raw = base64.urlsafe_b64decode((cursor + "=" * (-len(cursor) % 4)).encode("ascii")).decode("ascii")
        except (ValueError, UnicodeError):
            raise ValueError("invalid cursor") from None
        prefix, _, number = raw.partition(":")
        if prefix != kind or not number.isdigit() or len(number) > 18:
            raise ValueError("invalid cursor")
        return int(number)

    return read


@strawberry.interface(description="An object with a global id.")
class Node:
    id: strawberry.ID


@strawberry.type
class PageInfo:
    has_next_page: bool
    has_previous_page: bool
    start_cursor: str | None
    end_cursor: str | None

    @classmethod
    def of(cls, edges: Sequence[Any], has_next_page: bool, has_previous_page: bool) -> PageInfo:
        """The page info of ``edges`` (each with a ``cursor``)."""
        return cls(has_next_page=has_next_page, has_previous_page=has_previous_page,
                   start_cursor=edges[0].cursor if edges else None, end_cursor=edges[-1].cursor if edges else None)


@strawberry.type
class Edge(Generic[N]):
    cursor: str
    node: N


@strawberry.type(description="A page of a list that can grow, Relay's way (first/after, last/before).")
class Connection(Generic[N]):
    edges: list[Edge[N]]
    nodes: list[N]
    page_info: PageInfo
    total_count: int


def listed_connection(
    info: strawberry.Info, kind: str, items: Sequence[R], make: Callable[[R], N],
    first: int | None, after: str | None, last: int | None, before: str | None,
    key: Callable[[R], int] = attrgetter("id"),
) -> Connection[N]:
    """A connection over a short list held in ascending ``key`` (id) order, with id cursors."""
    window = page_window(info, first, after, last, before, id_cursor_reader(kind))
    page, next_, previous = in_memory(items, key, window)
    edges = [Edge(cursor=id_cursor(kind, key(item)), node=make(item)) for item in page]
    return Connection(edges=edges, nodes=[e.node for e in edges], page_info=PageInfo.of(edges, next_, previous),
                      total_count=len(items))


@strawberry.enum
class CurrencyCode(enum.Enum):
    CNY = "CNY"


@strawberry.type
class Money:
    amount: Decimal = strawberry.field(description='Major units as a decimal string, e.g. "130000.00".')
    minor_units: Long = strawberry.field(
        description="Integer minor units (fen): the value every computation uses."
    )
    currency_code: CurrencyCode

    @classmethod
    def of(cls, minor: int) -> Money:
        return cls(amount=Decimal(minor).scaleb(-2), minor_units=Long(minor), currency_code=CurrencyCode.CNY)


_LONG_MAX = 2**63 - 1


def minor_units(amount: Decimal) -> int | None:
    """Fen for an amount in yuan with at most 2 places ("118000" and "118000.00" alike), or
    None for one that is not money: more places ("1.005"), not finite, beyond 64 bits."""
    if not amount.is_finite() or amount.adjusted() > 18:
        return None  # past 64 bits of fen: scaling it could overflow the decimal context
    fen = amount.scaleb(2)
    if fen != fen.to_integral_value():
        return None
    value = int(fen)
    return value if abs(value) <= _LONG_MAX else None


NOT_MONEY = "give yuan with at most 2 decimal places, e.g. \"118000.00\""


@strawberry.enum
class UserErrorCode(enum.Enum):
    INVALID = "INVALID"
    NOT_FOUND = "NOT_FOUND"
    OUT_OF_STOCK = "OUT_OF_STOCK"
    PURCHASE_LIMIT_EXCEEDED = "PURCHASE_LIMIT_EXCEEDED"
    COUPON_SOLD_OUT = "COUPON_SOLD_OUT"
    COUPON_LIMIT_REACHED = "COUPON_LIMIT_REACHED"
    COUPON_NOT_APPLICABLE = "COUPON_NOT_APPLICABLE"
    COUPON_EXPIRED = "COUPON_EXPIRED"
    COUPON_STACKING_CONFLICT = "COUPON_STACKING_CONFLICT"
    CAMPAIGN_NOT_ACTIVE = "CAMPAIGN_NOT_ACTIVE"
    PREREQUISITE_NOT_MET = "PREREQUISITE_NOT_MET"
    SELF_ASSIST = "SELF_ASSIST"
    ALREADY_ASSISTED = "ALREADY_ASSISTED"
    ASSIST_DAILY_LIMIT = "ASSIST_DAILY_LIMIT"
    ASSIST_COMPLETED = "ASSIST_COMPLETED"
    DELIVERY_UNAVAILABLE = "DELIVERY_UNAVAILABLE"
    SERVICE_UNAVAILABLE = "SERVICE_UNAVAILABLE"
    SLOT_FULL = "SLOT_FULL"
    PAYMENT_PLAN_REQUIRED = "PAYMENT_PLAN_REQUIRED"
    PAYMENT_AMOUNT_MISMATCH = "PAYMENT_AMOUNT_MISMATCH"
    IDEMPOTENCY_CONFLICT = "IDEMPOTENCY_CONFLICT"
    INVALID_STATE = "INVALID_STATE"


@strawberry.type
class UserError:
    code: UserErrorCode
    field: list[str] | None = strawberry.field(
        description='Path to the input field at fault, e.g. ["lines", "0", "quantity"].'
    )
    message: str
