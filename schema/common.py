"""Types every capability shares: Node, Money, PageInfo, UserError."""

from __future__ import annotations

import enum
import re
from decimal import Decimal

import strawberry

from schema.errors import BadUserInput
from schema.scalars import Long

MAX_PAGE = 100
_GID = re.compile(r"^gid://jimu/([A-Za-z]+)/([1-9][0-9]{0,17})$")
_CART_GID = re.compile(r"^gid://jimu/Cart/([A-Za-z0-9_-]{22})$")


def gid(type_name: str, id_: int | str) -> strawberry.ID:
    return strawberry.ID(f"gid://jimu/{type_name}/{id_}")


def parse_cart_gid(value: str) -> str | None:
    """The token in a cart's id (``gid://jimu/Cart/<22 random characters>``), or None.
    Carts are named by a random token, not their row number, so ids cannot be counted."""
    match = _CART_GID.match(value)
    return match.group(1) if match else None


def parse_gid(value: str) -> tuple[str, int] | None:
    """``("Product", 12)`` for ``gid://jimu/Product/12``; None when it is not a jimu id."""
    match = _GID.match(value)
    return (match.group(1), int(match.group(2))) if match else None


def check_first(first: int) -> None:
    """A connection's page size: 1 to MAX_PAGE, else BAD_USER_INPUT."""
    if not 1 <= first <= MAX_PAGE:
        raise BadUserInput(f"first must be between 1 and {MAX_PAGE}")


@strawberry.interface(description="An object with a global id.")
class Node:
    id: strawberry.ID


@strawberry.type
class PageInfo:
    has_next_page: bool
    has_previous_page: bool
    start_cursor: str | None
    end_cursor: str | None


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
