"""Pure payment rules: what is due next, the order's payment status, and the ledger's invariants."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from adapters.orders.port import BalanceMethod, OrderState, PaymentPlan, PaymentStatus
from adapters.payments.port import Kind, NothingDue, Payment, State


@dataclass(frozen=True, slots=True)
class Money:
    """An order's money as the ledger sees it."""

    plan: PaymentPlan
    balance_method: BalanceMethod | None
    total: int
    due_now: int  # the deposits under a DEPOSIT plan, the total under FULL
    paid: int = 0
    refunded: int = 0
    compensation: int = 0  # a merchant's default: the deposit again, paid out once

    @property
    def net(self) -> int:
        return self.paid - self.refunded


class LedgerBroken(AssertionError):
    """An invariant of the ledger would not hold: the change is refused (rolled back)."""


def next_due(money: Money) -> tuple[Kind, int]:
    """The kind and amount of the next online payment of an OPEN order; raises NothingDue."""
    if money.plan is PaymentPlan.FULL:
        if money.net >= money.total:
            raise NothingDue("the order is paid")
        return Kind.FULL, money.total - money.net
    if money.net < money.due_now:
        return Kind.DEPOSIT, money.due_now - money.net
    if money.net >= money.total:
        raise NothingDue("the order is paid")
    if money.balance_method is not BalanceMethod.ONLINE:
        raise NothingDue("the balance is paid at the door (POS_ON_DELIVERY) and collected by the shop")
    return Kind.BALANCE, money.total - money.net


def status(money: Money, state: OrderState, forfeited: bool) -> PaymentStatus:
    if forfeited:
        return PaymentStatus.DEPOSIT_FORFEITED
    if state is OrderState.CANCELLED and money.refunded > 0:
        return PaymentStatus.REFUNDED if money.net <= 0 else PaymentStatus.PARTIALLY_REFUNDED
    if money.net >= money.total and (money.paid > 0 or money.total == 0):
        return PaymentStatus.PAID
    if money.plan is PaymentPlan.DEPOSIT and money.net > 0 and money.net >= money.due_now:
        return PaymentStatus.DEPOSIT_PAID
    return PaymentStatus.UNPAID


def sums(payments: Sequence[Payment]) -> tuple[int, int]:
    """(paid, refunded): what succeeded, in and out."""
    paid = sum(p.amount for p in payments if p.state is State.SUCCEEDED and p.kind is not Kind.REFUND)
    refunded = sum(p.amount for p in payments if p.state is State.SUCCEEDED and p.kind is Kind.REFUND)
    return paid, refunded


def check(money: Money, payments: Sequence[Payment], cap: int | None = None) -> None:
    """Raise LedgerBroken unless the ledger and the order's money columns agree and stay in bounds.

    0 <= paid - refunded <= total, except that a merchant's default pays the
    deposit back once more: then paid - refunded = -compensation, and the
    compensation is at most the deposits.
    """
    paid, refunded = sums(payments)
    if (paid, refunded) != (money.paid, money.refunded):
        raise LedgerBroken(f"order says paid {money.paid}/refunded {money.refunded}, ledger {paid}/{refunded}")
    if any(p.amount <= 0 for p in payments):
        raise LedgerBroken("a payment of nothing")
    if cap is not None and any(p.amount > cap for p in payments if p.method is not p.method.POS_ON_DELIVERY
                               and p.kind is not Kind.REFUND):
        raise LedgerBroken("an online payment above the cap")
    if money.compensation:
        if money.compensation > money.due_now or money.net != -money.compensation:
            raise LedgerBroken(f"a compensation of {money.compensation} with {money.net} kept")
        return
    if not 0 <= money.net <= money.total:
        raise LedgerBroken(f"{money.net} kept of a total of {money.total}")
