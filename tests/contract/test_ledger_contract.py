"""The payment ledger and the cashier, on the fake adapters and on SQL."""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from typing import Any

import pytest

from adapters.catalog.format import parse_catalog
from adapters.db import utcnow
from adapters.orders.port import (
    BalanceMethod,
    CartLine,
    Order,
    OrderState,
    PaymentPlan,
    PaymentStatus,
    SalesGroup,
)
from adapters.payments import rules
from adapters.payments.cashier import Cashier
from adapters.payments.port import Kind, NothingDue, Notice, State
from adapters.remote.client import RemoteUnavailable
from adapters.shops.rules import hash_key
from gateway.settings import Settings
from gateway.wiring import Adapters, cashier_for
from tests.factories import catalog, product, sku

CAP = 5_000_000
BAG = sku("BAG", price=20_000_000, stock={"BJ": 5},
          deposit={"deposit": 4_000_000, "creditedValue": 5_000_000, "balanceDueHours": 24, "balanceMethods": ["ONLINE"]})


@dataclass
class Atelier:
    adapters: Adapters
    cashier: Cashier
    shop_id: int
    bag: int

    async def order(self, shopper: str, plan: PaymentPlan = PaymentPlan.DEPOSIT) -> Order:
        a = self.adapters
        found = await a.shops.shopper_for_subject(self.shop_id, f"dev:{shopper}")
        cart = await a.orders.create_cart(self.shop_id, found.id)
        cart = await a.orders.save_cart(replace(
            cart, lines=(CartLine(None, self.bag, 1),), region="1", tier="STANDARD", plan=plan,
            balance_method=BalanceMethod.ONLINE if plan is PaymentPlan.DEPOSIT else None))
        return await self.cashier.checkout.complete(cart, "k", CAP * 10, None, None, utcnow())

    async def fresh(self, number: str) -> Order:
        [order] = await self.adapters.orders.orders_by_number(self.shop_id, [number])
        assert order is not None
        return order

    async def pay(self, number: str, key: str, now: datetime | None = None) -> int:
        """Open the next payment and have the provider say it succeeded; its amount."""
        session = await self.cashier.pay(await self.fresh(number), key, CAP, None, now or utcnow())
        payment = session.payment
        await self.cashier.notify(Notice(payment.id, True, payment.amount, "txn"), now or utcnow())
        return payment.amount

    async def available(self) -> int:
        [units] = await self.adapters.inventory.available(self.shop_id, [(self.bag, "1")])
        return units

    async def holds(self, number: str) -> None:
        """The ledger and the order's money columns agree and stay in bounds."""
        order = await self.fresh(number)
        [payments] = await self.adapters.ledger.payments_of(self.shop_id, [number])
        d = order.draft
        rules.check(rules.Money(d.plan, d.balance_method, d.cost.total, d.cost.due_now, order.paid, order.refunded,
                                order.compensation), payments, cap=CAP)


@pytest.fixture
async def atelier(adapters: Adapters, settings: Settings) -> Atelier:
    data = catalog("atelier", [product("bag", skus=[BAG])], warehouses=[{"code": "BJ", "regions": ["*"]}],
                   delivery={"tiers": [{"tier": "STANDARD", "title": "S", "fee": 0, "regions": ["*"]}]})
    await adapters.catalog.apply(parse_catalog(data, utcnow()), utcnow())
    found = await adapters.shops.shop_for_key(hash_key("pk_test_atelier"))
    assert found is not None
    [bag] = await adapters.goods.skus_by_code(found[0].id, ["BAG"])
    assert bag is not None
    return Atelier(adapters, cashier_for(adapters, settings), found[0].id, bag.id)


async def test_a_balance_above_the_cap_is_paid_in_several_payments(atelier: Atelier):
    order = await atelier.order("big-spender")
    assert (order.draft.cost.total, order.draft.cost.due_now) == (19_000_000, 4_000_000)
    assert await atelier.pay(order.number, "deposit") == 4_000_000
    after_deposit = await atelier.fresh(order.number)
    assert after_deposit.payment_status is PaymentStatus.DEPOSIT_PAID and after_deposit.balance_due_at is not None
    amounts = [await atelier.pay(order.number, f"balance-{n}") for n in range(3)]
    assert amounts == [5_000_000, 5_000_000, 5_000_000]
    paid = await atelier.fresh(order.number)
    assert (paid.payment_status, paid.paid, paid.balance_due_at) == (PaymentStatus.PAID, 19_000_000, None)
    with pytest.raises(NothingDue):
        await atelier.cashier.pay(paid, "one-more", CAP, None, utcnow())
    await atelier.holds(order.number)


async def test_a_new_key_cancels_the_sheet_left_open_and_a_failure_pays_nothing(atelier: Atelier):
    order = await atelier.order("hesitant")
    first = (await atelier.cashier.pay(order, "sheet-1", CAP, None, utcnow())).payment
    second = (await atelier.cashier.pay(order, "sheet-2", CAP, None, utcnow())).payment
    [payments] = await atelier.adapters.ledger.payments_of(atelier.shop_id, [order.number])
    assert [(p.id, p.state) for p in payments] == [(first.id, State.CANCELLED), (second.id, State.PENDING)]
    failed = await atelier.cashier.notify(Notice(second.id, False, second.amount, None), utcnow())
    assert failed.payment.state is State.FAILED and (await atelier.fresh(order.number)).paid == 0
    again = await atelier.cashier.notify(Notice(second.id, True, second.amount, None), utcnow())
    assert not again.changed, "a payment that failed stays failed"
    await atelier.holds(order.number)


async def test_a_missed_balance_deadline_forfeits_the_deposit_in_the_sweep(atelier: Atelier):
    stock = await atelier.available()
    order = await atelier.order("forgetful")
    await atelier.pay(order.number, "deposit")
    assert (await atelier.cashier.sweep(utcnow() + timedelta(hours=23))).forfeited == []
    swept = await atelier.cashier.sweep(utcnow() + timedelta(hours=25))
    assert swept.forfeited == [order.number]
    lost = await atelier.fresh(order.number)
    assert (lost.state, lost.payment_status, lost.paid, lost.refunded) == (
        OrderState.CANCELLED, PaymentStatus.DEPOSIT_FORFEITED, 4_000_000, 0)
    assert await atelier.available() == stock
    assert (await atelier.cashier.sweep(utcnow() + timedelta(hours=26))).forfeited == []
    await atelier.holds(order.number)


async def test_money_for_an_order_the_sweep_cancelled_goes_straight_back(atelier: Atelier):
    stock = await atelier.available()
    order = await atelier.order("slow-wallet")
    payment = (await atelier.cashier.pay(order, "late", CAP, None, utcnow())).payment
    expired = await atelier.cashier.checkout.sweep(utcnow() + timedelta(hours=1))
    assert expired.expired == [order.number]
    settled = await atelier.cashier.notify(Notice(payment.id, True, payment.amount, "txn"), utcnow())
    assert settled.changed and not settled.first_money
    refunded = await atelier.fresh(order.number)
    assert (refunded.state, refunded.payment_status, refunded.paid, refunded.refunded) == (
        OrderState.CANCELLED, PaymentStatus.REFUNDED, 4_000_000, 4_000_000)
    assert await atelier.available() == stock, "the stock was given back once, and not sold"
    await atelier.holds(order.number)


async def test_the_sweep_commits_what_a_dead_process_left_after_the_first_money(atelier: Atelier):
    order = await atelier.order("interrupted")
    payment = (await atelier.cashier.pay(order, "k", CAP, None, utcnow())).payment
    # the ledger heard the money, then the process died before committing the stock
    settled = await atelier.adapters.ledger.settle(payment.id, True, payment.amount, None, utcnow())
    assert settled.first_money
    reservation = await atelier.adapters.inventory.reservation_by_ref(atelier.shop_id, order.number)
    assert reservation is not None and reservation.state.value == "ACTIVE"
    swept = await atelier.cashier.sweep(utcnow())
    assert swept.committed == [order.number]
    reservation = await atelier.adapters.inventory.reservation_by_ref(atelier.shop_id, order.number)
    assert reservation is not None and reservation.state.value == "COMMITTED"
    assert (await atelier.cashier.sweep(utcnow())).committed == []
    # and an order that paid its deposit is not expired by the reservation TTL
    assert (await atelier.cashier.checkout.sweep(utcnow() + timedelta(hours=2))).expired == []


async def test_a_merchant_default_refunds_the_deposit_twice_and_only_that(atelier: Atelier):
    order = await atelier.order("let-down")
    await atelier.pay(order.number, "deposit")
    assert await atelier.cashier.merchant_cancel(await atelier.fresh(order.number), "out of stock at the atelier", utcnow())
    done = await atelier.fresh(order.number)
    [payments] = await atelier.adapters.ledger.payments_of(atelier.shop_id, [order.number])
    assert [(p.kind, p.amount) for p in payments] == [
        (Kind.DEPOSIT, 4_000_000), (Kind.REFUND, 4_000_000), (Kind.REFUND, 4_000_000)]
    assert (done.payment_status, done.compensation) == (PaymentStatus.REFUNDED, 4_000_000)
    await atelier.holds(order.number)


def test_the_invariants_catch_a_ledger_out_of_bounds():
    money = rules.Money(PaymentPlan.FULL, None, total=100, due_now=100, paid=150)
    with pytest.raises(rules.LedgerBroken):
        rules.check(money, [])  # the order's columns disagree with an empty ledger


async def test_sales_count_the_money_the_ledger_took_and_gave_back(atelier: Atelier):
    # given three deposit orders: one unpaid, one forfeited, one the merchant refunded
    unpaid = await atelier.order("sales-unpaid")
    forfeited = await atelier.order("sales-forfeited")
    await atelier.pay(forfeited.number, "deposit-1")
    assert await atelier.cashier.cancel_by_shopper(await atelier.fresh(forfeited.number), utcnow())
    refunded = await atelier.order("sales-refunded")
    await atelier.pay(refunded.number, "deposit-2")
    assert await atelier.cashier.merchant_cancel(await atelier.fresh(refunded.number), "damaged", utcnow())
    # when the sales are counted (none of the three carried a channel)
    [row] = await atelier.adapters.orders.sales(atelier.shop_id, SalesGroup.CHANNEL, None, None)
    # then all three were placed, two took their deposit, one gave it back twice
    total = unpaid.draft.cost.total
    assert (row.key, row.placed_orders, row.placed) == ("", 3, 3 * total)
    assert (row.paid_orders, row.paid, row.refunded_orders, row.refunded) == (2, 8_000_000, 1, 8_000_000)
    assert row.net == 0


async def test_money_heard_while_the_stock_system_is_down_stands_and_the_sweep_sells_the_stock(atelier: Atelier):
    # given: a deposit order, and the shop's stock system gone when the provider's notice arrives
    order = await atelier.order("on-time")
    checkout = atelier.cashier.checkout
    inventory = checkout.inventory

    class Down:
        def __getattr__(self, name: str) -> Any:
            return getattr(inventory, name)

        async def reservation_by_ref(self, shop_id: int, ref: str) -> Any:
            raise RemoteUnavailable("inventory", "timed out")

    checkout.inventory = Down()
    # when
    session = await atelier.cashier.pay(order, "deposit", CAP, None, utcnow())
    settled = await atelier.cashier.notify(Notice(session.payment.id, True, session.payment.amount, "txn"), utcnow())
    # then: the provider is answered, the money counts, the stock waits for the sweep
    assert settled.changed and settled.first_money
    waiting = await atelier.fresh(order.number)
    assert waiting.paid == session.payment.amount and not waiting.committed
    assert (await atelier.cashier.sweep(utcnow())).committed == []
    checkout.inventory = inventory
    assert (await atelier.cashier.sweep(utcnow())).committed == [order.number]
    reservation = await inventory.reservation_by_ref(atelier.shop_id, order.number)
    assert reservation is not None and reservation.state.value == "COMMITTED"
