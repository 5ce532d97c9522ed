"""Payments: the ledger an order's payment state is derived from, and the providers that take money.

The ledger holds every payment of an order: FULL, DEPOSIT and BALANCE ones
that bring money in, REFUND ones that send it back. Each change to the ledger
and the order's money columns (paid, refunded, status) is one transaction
under the order's row lock, and the ledger's invariants are checked before it
commits: 0 <= paid - refunded <= total, except that a merchant's default on a
deposit adds exactly one compensation equal to the deposit.

Errors (each names its UserErrorCode)::

    PaymentError
    ├── NothingDue            INVALID_STATE: paid already, cancelled, or the balance is taken at the door
    ├── IdempotencyConflict   IDEMPOTENCY_CONFLICT: the key was used for another order
    ├── AmountMismatch        PAYMENT_AMOUNT_MISMATCH: not the amount the payment or balance is for
    ├── InvalidState          INVALID_STATE: the order cannot move that way now
    ├── UnknownPayment        NOT_FOUND
    └── NotConfigured         INVALID_STATE: the shop has no merchant for the payment method
"""

from __future__ import annotations

import enum
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Protocol


class Kind(enum.Enum):
    FULL = "FULL"
    DEPOSIT = "DEPOSIT"
    BALANCE = "BALANCE"
    REFUND = "REFUND"


class Method(enum.Enum):
    SANDBOX = "SANDBOX"
    WECHAT_PAY = "WECHAT_PAY"
    POS_ON_DELIVERY = "POS_ON_DELIVERY"


class State(enum.Enum):
    PENDING = "PENDING"
    SUCCEEDED = "SUCCEEDED"
    FAILED = "FAILED"
    CANCELLED = "CANCELLED"


@dataclass(frozen=True, slots=True)
class Payment:
    id: int
    shop_id: int
    order_number: str
    kind: Kind
    method: Method
    amount: int
    state: State
    created_at: datetime
    idempotency_key: str | None = None
    reference: str | None = None  # the POS slip, the provider's transaction id, or why a refund was made
    provider_ref: str | None = None  # e.g. WeChat's prepay_id


@dataclass(frozen=True, slots=True)
class Settled:
    """What a notification did: the payment as it is now, and whether this call changed it."""

    payment: Payment
    changed: bool
    first_money: bool = False  # the order's first successful payment: commit stock, redeem coupons


class PaymentError(Exception):
    code = "INVALID_STATE"


class NothingDue(PaymentError):
    pass


class IdempotencyConflict(PaymentError):
    code = "IDEMPOTENCY_CONFLICT"


class AmountMismatch(PaymentError):
    code = "PAYMENT_AMOUNT_MISMATCH"


class InvalidState(PaymentError):
    pass


class UnknownPayment(PaymentError):
    code = "NOT_FOUND"


class NotConfigured(PaymentError):
    pass


class Ledger(Protocol):
    async def open(
        self, shop_id: int, order_number: str, key: str, method: Method, cap: int, now: datetime
    ) -> Payment:
        """A PENDING payment for what the order owes next, at most ``cap``; the same key gives the same payment.

        An older PENDING payment of the order is cancelled: one sheet at a time.
        Raises NothingDue, IdempotencyConflict.
        """
        ...

    async def set_provider_ref(self, payment_id: int, provider_ref: str) -> None: ...

    async def settle(self, payment_id: int, succeeded: bool, amount: int, reference: str | None, now: datetime) -> Settled:
        """Apply a provider's word on a payment, once: a replay changes nothing.

        Raises UnknownPayment, AmountMismatch (nothing changes). Money that arrives
        for an order that no longer wants it is refunded at once.
        """
        ...

    async def collect_balance(self, shop_id: int, order_number: str, amount: int, reference: str, now: datetime) -> Payment:
        """The balance paid at the door (POS_ON_DELIVERY): exactly what is due. Raises AmountMismatch, InvalidState."""
        ...

    async def forfeit(self, shop_id: int, order_number: str, now: datetime) -> bool:
        """Shopper cancels (or misses the deadline) after the deposit: CANCELLED, DEPOSIT_FORFEITED; False if not possible."""
        ...

    async def merchant_cancel(self, shop_id: int, order_number: str, reason: str, now: datetime) -> bool:
        """Refund what was paid and, after a deposit, the deposit again as compensation; False if not possible."""
        ...

    async def payments_of(self, shop_id: int, order_numbers: Sequence[str]) -> list[list[Payment]]: ...

    async def payment(self, payment_id: int) -> Payment | None: ...

    async def balance_overdue(self, now: datetime, limit: int = 100) -> list[tuple[int, str]]:
        """(shop_id, order number) of orders whose ONLINE balance deadline has passed."""
        ...

    async def uncommitted(self, limit: int = 100, after: int = 0) -> list[tuple[int, int, str]]:
        """Paid orders whose stock and coupons were not yet committed (the process died in between, or
        the shop's own system did not answer): (order id, shop id, number) by id, from past ``after``."""
        ...

    async def mark_committed(self, shop_id: int, order_number: str) -> None: ...

    async def pending(self, method: Method, before: datetime, limit: int = 100) -> list[Payment]:
        """PENDING payments by ``method`` opened before ``before``: to ask the provider about."""
        ...


@dataclass(frozen=True, slots=True)
class Session:
    payment: Payment
    client_params: Mapping[str, Any]


@dataclass(frozen=True, slots=True)
class Notice:
    """A provider's verified word on one payment."""

    payment_id: int
    succeeded: bool
    amount: int
    reference: str | None


class NoticeRejected(Exception):
    """A notification that is not the provider's: a bad signature, or too old."""


class BadNotice(ValueError):
    """A notification that is the provider's but does not say what a notification must."""


class PaymentProvider(Protocol):
    method: Method

    async def ready(self, shop_id: int) -> None:
        """Raises NotConfigured (INVALID_STATE) when this provider cannot take the shop's payments."""
        ...

    async def session(self, payment: Payment, order_description: str, payer: str | None) -> Session:
        """What the client needs to show its payment sheet; may call the provider (WeChat's prepay)."""
        ...

    async def query(self, payment: Payment) -> Notice | None:
        """The provider's word on a payment, asked for rather than notified; None while it is not final."""
        ...
