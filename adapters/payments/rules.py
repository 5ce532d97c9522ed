"""Pure payment rules: what is due next, the order's payment status, and the ledger's invariants."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import datetime, timedelta

from adapters.orders.port import BalanceMethod, OrderState, PaymentPlan, PaymentStatus
from adapters.payments.port import (
    InvalidState,
    Kind,
    Method,
    NothingDue,
    Payment,
    State,
)
from adapters.webhooks.port import Topic


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
    if cap is not None and any(p.amount > cap for p in payments
                               if p.method is not Method.POS_ON_DELIVERY and p.kind is not Kind.REFUND):
        raise LedgerBroken("an online payment above the cap")
    if money.compensation:
        if money.compensation > money.due_now or money.net != -money.compensation:
            raise LedgerBroken(f"a compensation of {money.compensation} with {money.net} kept")
        return
    if not 0 <= money.net <= money.total:
        raise LedgerBroken(f"{money.net} kept of a total of {money.total}")


def incoming(money: Money, is_open: bool, amount: int) -> tuple[Money, int, bool]:
    """A successful payment of ``amount``: the money after it, what goes straight back, and whether it is the first.

    Money no order wants (the order was cancelled meanwhile, or two sheets were
    both paid) is refunded at once, so an order never keeps more than its total.
    """
    wanted = max(money.total - money.net, 0) if is_open else 0
    excess = max(amount - wanted, 0)
    first = is_open and money.net == 0 and excess < amount
    return replace(money, paid=money.paid + amount, refunded=money.refunded + excess), excess, first


def merchant_default(money: Money) -> tuple[int, int]:
    """(refund, compensation) when the shop cancels: what was kept, and after a deposit the deposit once more."""
    if money.net <= 0:
        return 0, 0
    compensation = min(money.net, money.due_now) if money.plan is PaymentPlan.DEPOSIT else 0
    return money.net, compensation


def balance_due_at_door(money: Money, status: PaymentStatus) -> int:
    """What orderBalanceCollect must record; raises InvalidState when no balance is taken at the door now."""
    if money.balance_method is not BalanceMethod.POS_ON_DELIVERY or status is not PaymentStatus.DEPOSIT_PAID:
        raise InvalidState("only a paid deposit's POS_ON_DELIVERY balance is collected at the door")
    return money.total - money.net


def forfeitable(money: Money, status: PaymentStatus) -> bool:
    """A deposit (some of it at least) is paid and the balance is not: cancelling now forfeits it."""
    return money.plan is PaymentPlan.DEPOSIT and money.paid > 0 and status is not PaymentStatus.PAID


def follow_ups(
    status: PaymentStatus, money: Money, balance_due_at: datetime | None, balance_due_hours: int | None,
    is_open: bool, delivered: bool, now: datetime,
) -> dict[str, object]:
    """What a new payment status changes on the order: the ONLINE balance deadline, completion."""
    changes: dict[str, object] = {}
    if (status is PaymentStatus.DEPOSIT_PAID and balance_due_at is None and balance_due_hours
            and money.balance_method is BalanceMethod.ONLINE):
        changes["balance_due_at"] = now + timedelta(hours=balance_due_hours)
    if status is PaymentStatus.PAID:
        changes["balance_due_at"] = None
        if is_open and delivered:
            changes["state"] = OrderState.COMPLETED
    return changes


def topics_of(before: PaymentStatus, after: PaymentStatus, cancelled: bool) -> list[Topic]:
    """What a ledger change tells the shop's systems: the deposits in, fully paid, cancelled."""
    told = []
    if after is not before:
        if after is PaymentStatus.DEPOSIT_PAID:
            told.append(Topic.ORDERS_DEPOSIT_PAID)
        elif after is PaymentStatus.PAID:
            told.append(Topic.ORDERS_PAID)
    if cancelled:
        told.append(Topic.ORDERS_CANCELLED)
    return told
