"""Payment plans and payments."""

from __future__ import annotations

import enum
from datetime import datetime

import strawberry
from strawberry.scalars import JSON

from adapters.payments import port
from schema.common import Money, Node, UserError, gid


@strawberry.enum
class PaymentPlan(enum.Enum):
    FULL = "FULL"
    DEPOSIT = "DEPOSIT"


@strawberry.enum
class PaymentKind(enum.Enum):
    FULL = "FULL"
    DEPOSIT = "DEPOSIT"
    BALANCE = "BALANCE"
    REFUND = "REFUND"


@strawberry.enum
class PaymentMethod(enum.Enum):
    SANDBOX = "SANDBOX"
    WECHAT_PAY = "WECHAT_PAY"
    POS_ON_DELIVERY = "POS_ON_DELIVERY"


@strawberry.enum
class PaymentState(enum.Enum):
    PENDING = "PENDING"
    SUCCEEDED = "SUCCEEDED"
    FAILED = "FAILED"
    CANCELLED = "CANCELLED"


@strawberry.type
class Payment(Node):
    kind: PaymentKind
    method: PaymentMethod
    amount: Money
    state: PaymentState
    created_at: datetime

    @classmethod
    def of(cls, p: port.Payment) -> Payment:
        return cls(id=gid("Payment", p.id), kind=PaymentKind(p.kind.value), method=PaymentMethod(p.method.value),
                   amount=Money.of(p.amount), state=PaymentState(p.state.value), created_at=p.created_at)


@strawberry.type
class PaymentSession:
    payment: Payment
    client_params: JSON = strawberry.field(
        description="Parameters the client hands to its payment sheet (wx.requestPayment for WECHAT_PAY)."
    )


@strawberry.type
class OrderPayPayload:
    session: PaymentSession | None = None
    user_errors: list[UserError] = strawberry.field(default_factory=list)
