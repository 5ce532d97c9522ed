"""Random pay / notify (duplicated, reordered, wrong) / collect / cancel / expire sequences.

After every step, for every order of the shop: the ledger's sums equal the
order's paid and refunded, 0 <= paid - refunded <= total (or exactly minus the
compensation after a merchant's default), the payment status is the one the
ledger implies, an order with money kept holds its stock as sold, and a
cancelled one holds nothing and keeps no money unless a deposit was forfeited. Runs on the fake and on the suite's SQL database.
"""

from __future__ import annotations

import asyncio
import uuid
from dataclasses import replace
from datetime import timedelta

import pytest
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import (
    Bundle,
    RuleBasedStateMachine,
    invariant,
    rule,
    run_state_machine_as_test,
)

from adapters.catalog.format import parse_catalog
from adapters.db import Database, utcnow
from adapters.inventory.port import ReservationState
from adapters.orders.port import (
    BalanceMethod,
    CartLine,
    OrderState,
    PaymentPlan,
    PaymentStatus,
)
from adapters.paging import Window
from adapters.payments import rules
from adapters.payments.port import AmountMismatch, Notice, PaymentError
from adapters.shops.rules import hash_key
from gateway.settings import Settings
from gateway.wiring import Adapters, cashier_for, fake_adapters, sql_adapters
from tests.contract.models import model_examples
from tests.factories import catalog, product, sku

CAP = 3_000_000
GOODS = {
    # code: (price, deposit policy or None)
    "BAG": (9_000_000, {"deposit": 1_500_000, "creditedValue": 2_000_000, "balanceDueHours": 24,
                        "balanceMethods": ["ONLINE"]}),
    "VASE": (6_000_000, {"deposit": 1_000_000, "creditedValue": 1_000_000, "balanceDueHours": 48,
                         "balanceMethods": ["POS_ON_DELIVERY"]}),
    "PEN": (2_000_000, None),
}
PLANS = [("BAG", PaymentPlan.DEPOSIT), ("VASE", PaymentPlan.DEPOSIT), ("PEN", PaymentPlan.FULL),
         ("BAG", PaymentPlan.FULL)]


def machine_for(make_adapters, config: Settings):
    class LedgerModel(RuleBasedStateMachine):
        orders = Bundle("orders")
        payments = Bundle("payments")

        def __init__(self) -> None:
            super().__init__()
            self.loop = asyncio.new_event_loop()
            self.adapters: Adapters = self.run(make_adapters())
            self.cashier = cashier_for(self.adapters, config)
            self.now = utcnow()
            handle = f"l-{uuid.uuid4().hex[:10]}"
            data = catalog(
                handle,
                [product(code.lower(), skus=[sku(code, price=price, stock={"W": 100},
                                                 **({"deposit": policy} if policy else {}))])
                 for code, (price, policy) in GOODS.items()],
                warehouses=[{"code": "W", "regions": ["*"]}],
                delivery={"tiers": [{"tier": "STANDARD", "title": "S", "fee": 0, "regions": ["*"]}]},
            )
            self.run(self.adapters.catalog.apply(parse_catalog(data, self.now), self.now))
            shop = self.run(self.adapters.shops.shop_for_key(hash_key(f"pk_test_{handle}")))
            self.shop = shop[0].id
            self.sku = {s.code: s.id for s in self.run(self.adapters.goods.skus_by_code(self.shop, list(GOODS))) if s}
            self.shopper = self.run(self.adapters.shops.shopper_for_subject(self.shop, "dev:model")).id
            self.count = 0

        def run(self, coroutine):
            return self.loop.run_until_complete(coroutine)

        def teardown(self) -> None:
            self.run(self.adapters.close())
            self.loop.close()

        def order(self, number: str):
            [found] = self.run(self.adapters.orders.orders_by_number(self.shop, [number]))
            assert found is not None
            return found

        @rule(target=orders, choice=st.sampled_from(PLANS))
        def checkout(self, choice):
            code, plan = choice
            a = self.adapters
            cart = self.run(a.orders.create_cart(self.shop, self.shopper))
            method = None
            if plan is PaymentPlan.DEPOSIT:
                method = BalanceMethod(GOODS[code][1]["balanceMethods"][0])  # type: ignore[index]
            cart = self.run(a.orders.save_cart(replace(
                cart, lines=(CartLine(None, self.sku[code], 1),), region="1", tier="STANDARD", plan=plan,
                balance_method=method)))
            self.count += 1
            order = self.run(self.cashier.checkout.complete(cart, f"c{self.count}", CAP * 10, None, None, self.now))
            return order.number

        @rule(target=payments, number=orders, key=st.integers(0, 3))
        def pay(self, number, key):
            try:
                session = self.run(self.cashier.pay(self.order(number), f"{number}-{key}", CAP, None, self.now))
            except PaymentError:
                return None
            assert 0 < session.payment.amount <= CAP
            return session.payment.id, session.payment.amount

        @rule(payment=payments, succeeded=st.booleans(), copies=st.integers(1, 3))
        def notify(self, payment, succeeded, copies):
            if payment is None:
                return
            payment_id, amount = payment
            changed = [self.run(self.cashier.notify(Notice(payment_id, succeeded, amount, None), self.now)).changed
                       for _ in range(copies)]
            assert sum(changed) <= 1 and not any(changed[1:]), "a notification counts once"

        @rule(payment=payments)
        def notify_a_wrong_amount(self, payment):
            if payment is None:
                return
            payment_id, amount = payment
            before = self.run(self.adapters.ledger.payment(payment_id))
            with pytest.raises(AmountMismatch):
                self.run(self.cashier.notify(Notice(payment_id, True, amount + 1, None), self.now))
            assert self.run(self.adapters.ledger.payment(payment_id)) == before

        @rule(number=orders, off_by=st.sampled_from([0, 0, 1, -1]))
        def collect_at_the_door(self, number, off_by):
            order = self.order(number)
            due = order.draft.cost.total - (order.paid - order.refunded)
            try:
                self.run(self.cashier.collect(order, due + off_by, "POS-1", self.now))
            except PaymentError:
                return
            assert off_by == 0 and order.draft.balance_method is BalanceMethod.POS_ON_DELIVERY

        @rule(number=orders)
        def shopper_cancels(self, number):
            self.run(self.cashier.cancel_by_shopper(self.order(number), self.now))

        @rule(number=orders)
        def merchant_cancels(self, number):
            self.run(self.cashier.merchant_cancel(self.order(number), "model", self.now))

        @rule(hours=st.sampled_from([1, 12, 30]))
        def time_passes_and_the_sweeps_run(self, hours):
            self.now += timedelta(hours=hours)
            self.run(self.cashier.checkout.sweep(self.now, limit=1000))
            self.run(self.cashier.sweep(self.now, limit=1000))

        @invariant()
        def the_ledger_holds(self):
            page = self.run(self.adapters.orders.orders_page(self.shop, None, None, Window(100)))
            numbers = [o.number for o in page.orders]
            ledgers = self.run(self.adapters.ledger.payments_of(self.shop, numbers)) if numbers else []
            for order, payments in zip(page.orders, ledgers, strict=True):
                d = order.draft
                money = rules.Money(d.plan, d.balance_method, d.cost.total, d.cost.due_now, order.paid,
                                    order.refunded, order.compensation)
                rules.check(money, payments, cap=CAP)
                forfeited = order.payment_status is PaymentStatus.DEPOSIT_FORFEITED
                assert order.payment_status is rules.status(money, order.state, forfeited), order
                if forfeited:
                    assert d.plan is PaymentPlan.DEPOSIT and order.refunded == 0 and order.paid > 0
                elif order.state is OrderState.CANCELLED:
                    assert money.net <= 0, f"a cancelled order kept {money.net} it was not owed"
                reservation = self.run(self.adapters.inventory.reservation_by_ref(self.shop, order.number))
                assert reservation is not None
                if order.state is OrderState.CANCELLED:
                    assert reservation.state in (ReservationState.RELEASED, ReservationState.EXPIRED), order
                elif money.net > 0:
                    assert reservation.state is ReservationState.COMMITTED, order

    return LedgerModel


@pytest.mark.parametrize("kind", ["fake", "sql"])
def test_the_ledger_holds_whatever_happens_in_whatever_order(kind: str, database_url: str):
    config = Settings(database_url=database_url)

    async def make() -> Adapters:
        if kind == "fake":
            return fake_adapters(config)
        return sql_adapters(config, Database(database_url))

    run_state_machine_as_test(
        machine_for(make, config),
        # Many examples where they are cheap; on SQL enough to meet the database's own behaviour
        # (12 took 15 s, 25 took 30 s of CI's time); JIMU_MODEL_EXAMPLES=500 for the long profile.
        settings=settings(max_examples=model_examples(100 if kind == "fake" else 12), stateful_step_count=30,
                          deadline=None,
                          suppress_health_check=[HealthCheck.too_slow]),
    )
