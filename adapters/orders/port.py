"""Carts and orders: what a shopper is about to buy, and what they bought.

A cart is saved whole: the adapter compares its ``version`` and refuses a save
made from a stale copy (CartChanged), so two edits of one cart never mix.

An order is written before anything is held for it (state PENDING), so that a
checkout cut off at any step leaves a row naming what may be held. It then
moves PENDING -> OPEN (confirmed) or PENDING -> FAILED; OPEN -> CANCELLED
(shopper, or the sweep after ``expires_at`` while unpaid) or -> COMPLETED (paid
and delivered). Every move is a conditional update on the state, so each
happens exactly once. A CANCELLED or FAILED order keeps ``released = False``
until what it held (stock, coupons, slot) has been given back; the sweep
finishes that for any order whose process died on the way.

Errors::

    OrderError
    ├── CartChanged          the cart was saved by someone else since it was read
    ├── CartClosed           the cart is (being) checked out as an order
    └── IdempotencyConflict  the key was used with another cart
"""

from __future__ import annotations

import enum
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Protocol

from adapters.paging import Window


class PaymentPlan(enum.Enum):
    FULL = "FULL"
    DEPOSIT = "DEPOSIT"


class BalanceMethod(enum.Enum):
    ONLINE = "ONLINE"
    POS_ON_DELIVERY = "POS_ON_DELIVERY"


class OrderState(enum.Enum):
    PENDING = "PENDING"  # checkout in progress: shown to nobody
    OPEN = "OPEN"
    COMPLETED = "COMPLETED"
    CANCELLED = "CANCELLED"
    FAILED = "FAILED"  # checkout undone: shown to nobody


# PENDING and FAILED orders are a checkout's log, not orders anyone sees.
SHOWN_STATES = (OrderState.OPEN, OrderState.COMPLETED, OrderState.CANCELLED)


class PaymentStatus(enum.Enum):
    UNPAID = "UNPAID"
    DEPOSIT_PAID = "DEPOSIT_PAID"
    PAID = "PAID"
    PARTIALLY_REFUNDED = "PARTIALLY_REFUNDED"
    REFUNDED = "REFUNDED"
    DEPOSIT_FORFEITED = "DEPOSIT_FORFEITED"


class Fulfillment(enum.Enum):
    UNFULFILLED = "UNFULFILLED"
    SHIPPED = "SHIPPED"
    DELIVERED = "DELIVERED"


class SalesGroup(enum.Enum):
    SCENE = "SCENE"
    CHANNEL = "CHANNEL"


@dataclass(frozen=True, slots=True)
class CartLine:
    """A line of a cart; ``id`` is None until the cart is saved."""

    id: int | None
    sku_id: int
    quantity: int


@dataclass(frozen=True, slots=True)
class Cart:
    id: int
    shop_id: int
    shopper_id: int
    version: int
    token: str  # the cart's public id: random, so that no shopper can guess or count another's
    lines: tuple[CartLine, ...] = ()
    region: str | None = None
    tier: str | None = None
    slot_id: int | None = None
    coupon_ids: tuple[int, ...] = ()
    plan: PaymentPlan = PaymentPlan.FULL
    balance_method: BalanceMethod | None = None
    # The order checking it out (PENDING) or made from it; a cart with one is not edited.
    order_number: str | None = None


@dataclass(frozen=True, slots=True)
class OrderLine:
    """A line as it was placed: what the shopper saw and agreed to, whatever the goods become."""

    sku_id: int
    quantity: int
    unit_price: int
    title: str  # the product's
    sku_title: str
    sku_code: str
    # Per unit, under a DEPOSIT plan; 0 under FULL.
    deposit: int = 0
    credited_value: int = 0

    @property
    def subtotal(self) -> int:
        return self.unit_price * self.quantity


@dataclass(frozen=True, slots=True)
class Cost:
    subtotal: int
    discount: int
    delivery_fee: int
    deposit_credit: int
    total: int
    due_now: int

    @property
    def due_later(self) -> int:
        return self.total - self.due_now


@dataclass(frozen=True, slots=True)
class OrderDraft:
    """Everything an order is made of, priced at checkout."""

    shop_id: int
    shopper_id: int
    cart_id: int
    idempotency_key: str
    number: str
    lines: tuple[OrderLine, ...]
    cost: Cost
    plan: PaymentPlan
    balance_method: BalanceMethod | None
    coupon_ids: tuple[int, ...]
    region: str
    tier: str
    slot_id: int | None
    scene: int | None
    channel: str | None
    created_at: datetime
    expires_at: datetime
    # Hours after the deposit within which an ONLINE balance is due (the strictest line's).
    balance_due_hours: int | None = None


@dataclass(frozen=True, slots=True)
class Order:
    id: int
    draft: OrderDraft
    state: OrderState
    payment_status: PaymentStatus
    fulfillment: Fulfillment
    released: bool
    cancelled_at: datetime | None = None
    # Kept by the payment ledger in the same transaction as its payments.
    paid: int = 0
    refunded: int = 0
    compensation: int = 0
    committed: bool = False  # stock sold and coupons redeemed after the first payment
    balance_due_at: datetime | None = None

    @property
    def number(self) -> str:
        return self.draft.number

    @property
    def shop_id(self) -> int:
        return self.draft.shop_id

    @property
    def shopper_id(self) -> int:
        return self.draft.shopper_id


@dataclass(frozen=True, slots=True)
class OrderPage:
    orders: list[Order]
    has_next_page: bool
    has_previous_page: bool
    total_count: int


@dataclass(frozen=True, slots=True)
class SalesRow:
    """One scene's or channel's orders placed in a window: how many, what they came to, and
    the money they brought in and gave back (fen)."""

    key: str
    placed_orders: int
    placed: int
    paid_orders: int
    paid: int
    refunded_orders: int
    refunded: int

    @property
    def net(self) -> int:
        return self.paid - self.refunded


@dataclass(frozen=True, slots=True)
class Begun:
    """What ``begin`` found: the order for this key, and whether this call wrote it."""

    order: Order
    created: bool = field(default=False)


class OrderError(Exception):
    pass


class CartChanged(OrderError):
    pass


class CartClosed(OrderError):
    def __init__(self, number: str) -> None:
        super().__init__(f"the cart is checked out as order {number}; start a new cart")
        self.number = number


class IdempotencyConflict(OrderError):
    pass


class Orders(Protocol):
    """Carts and orders of every shop."""

    async def create_cart(self, shop_id: int, shopper_id: int) -> Cart: ...

    async def carts_by_id(self, shop_id: int, ids: Sequence[int]) -> list[Cart | None]: ...

    async def carts_by_token(self, shop_id: int, tokens: Sequence[str]) -> list[Cart | None]: ...

    async def save_cart(self, cart: Cart) -> Cart:
        """Store the cart as given (lines with id None are added, missing ones removed).

        Raises CartChanged when its version is not the stored one, CartClosed when it is checked out.
        """
        ...

    async def begin(self, draft: OrderDraft) -> Begun:
        """Write the order PENDING and claim its cart, or return the order already made with this key.

        Raises IdempotencyConflict (key used for another cart) or CartClosed (the
        cart is checked out under another key).
        """
        ...

    async def confirm(self, shop_id: int, number: str, payment_status: PaymentStatus) -> bool:
        """PENDING -> OPEN; False when the order is no longer PENDING (the sweep failed it)."""
        ...

    async def fail(self, shop_id: int, number: str) -> bool:
        """PENDING -> FAILED, freeing its key and its cart; False when it was not PENDING."""
        ...

    async def cancel(self, shop_id: int, number: str, now: datetime) -> bool:
        """OPEN and nothing paid -> CANCELLED; False otherwise."""
        ...

    async def mark_released(self, shop_id: int, number: str) -> None: ...

    async def expire_due(self, now: datetime, limit: int = 100) -> list[Order]:
        """OPEN orders with nothing paid past ``expires_at`` -> CANCELLED; those it cancelled."""
        ...

    async def fail_stale(self, before: datetime, limit: int = 100) -> list[Order]:
        """PENDING orders created before ``before`` (their checkout died) -> FAILED; those it failed."""
        ...

    async def unreleased(self, limit: int = 100, after: int = 0) -> list[Order]:
        """CANCELLED or FAILED orders whose holds have not been given back yet, by id, from past ``after``."""
        ...

    async def set_fulfillment(self, shop_id: int, number: str, fulfillment: Fulfillment) -> Order | None:
        """Record how far delivery went; a PAID order that is DELIVERED becomes COMPLETED."""
        ...

    async def orders_by_number(self, shop_id: int, numbers: Sequence[str]) -> list[Order | None]:
        """Orders that are or were OPEN (never PENDING or FAILED ones)."""
        ...

    async def orders_by_id(self, shop_id: int, ids: Sequence[int]) -> list[Order | None]:
        """As orders_by_number, by id (for ``node``)."""
        ...

    async def order_by_key(self, shop_id: int, shopper_id: int, idempotency_key: str) -> Order | None: ...

    async def orders_page(
        self, shop_id: int, shopper_id: int | None, state: OrderState | None, window: Window[int]
    ) -> OrderPage:
        """Newest first; the window's cursors are order ids."""
        ...

    async def sales(
        self, shop_id: int, group: SalesGroup, start: datetime | None, end: datetime | None
    ) -> list[SalesRow]:
        """Orders placed in [start, end) (cancelled ones too: their money shows as refunded), by
        scene or channel ("" for none), most money taken first."""
        ...
