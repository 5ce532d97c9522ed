"""Cart and order rules, without a database."""

from __future__ import annotations

from datetime import datetime, timezone

import pytest

from adapters.goods.port import DepositPolicy, Product, Sku
from adapters.orders import rules
from adapters.orders.port import BalanceMethod, Cart, CartLine, OrderLine, PaymentPlan

WATCH = Sku(id=1, shop_id=1, product_id=1, code="STEEL", title="steel", options=(), price=13_000_000,
            compare_at_price=None, purchase_limit=1, premium_delivery_eligible=True,
            deposit_policy=DepositPolicy(deposit=1_000_000, credited_value=1_200_000, balance_due_hours=72,
                                         balance_methods=("ONLINE", "POS_ON_DELIVERY")))
STRAP = Sku(id=2, shop_id=1, product_id=2, code="STRAP", title="strap", options=(), price=150_000,
            compare_at_price=None, purchase_limit=None, premium_delivery_eligible=False, deposit_policy=None)
TIMEPIECE = Product(id=1, shop_id=1, handle="timepiece", title="Timepiece", description="", brand="", category_id=None,
                    tags=(), images=(), min_price=13_000_000, max_price=13_000_000,
                    created_at=datetime(2026, 6, 1, tzinfo=timezone.utc))


def cart(*lines: CartLine, plan: PaymentPlan = PaymentPlan.FULL, method: BalanceMethod | None = None) -> Cart:
    return Cart(id=1, shop_id=1, shopper_id=1, version=1, token="t" * 22, lines=lines, plan=plan, balance_method=method)


def test_adding_a_sku_already_in_the_cart_grows_its_line():
    start = cart(CartLine(7, 1, 1))
    assert rules.add_lines(start, [(1, 2), (2, 1), (2, 1)]) == (CartLine(7, 1, 3), CartLine(None, 2, 2))


def test_full_plan_is_due_at_once():
    lines = rules.order_lines([CartLine(1, 1, 1)], {1: WATCH}, {1: TIMEPIECE}, PaymentPlan.FULL)
    cost = rules.cost(lines, discount=0, delivery_fee=20_000, plan=PaymentPlan.FULL)
    assert (cost.total, cost.deposit_credit, cost.due_now, cost.due_later) == (13_020_000, 0, 13_020_000, 0)


def test_deposit_plan_credits_the_swell_and_leaves_the_balance_for_later():
    # The steel watch: 130,000.00 with a 10,000.00 deposit credited as 12,000.00.
    lines = rules.order_lines([CartLine(1, 1, 1)], {1: WATCH}, {1: TIMEPIECE}, PaymentPlan.DEPOSIT)
    cost = rules.cost(lines, discount=0, delivery_fee=0, plan=PaymentPlan.DEPOSIT)
    assert (cost.subtotal, cost.deposit_credit, cost.total) == (13_000_000, 200_000, 12_800_000)
    assert (cost.due_now, cost.due_later) == (1_000_000, 11_800_000)
    assert cost.due_now + cost.due_later == cost.total


def test_nothing_goes_negative():
    lines = (OrderLine(sku_id=1, quantity=1, unit_price=100, title="Watch", sku_title="Steel", sku_code="W-1",
                       deposit=20, credited_value=100),)
    cost = rules.cost(lines, discount=100, delivery_fee=0, plan=PaymentPlan.DEPOSIT)
    assert (cost.total, cost.due_now, cost.due_later) == (0, 0, 0)


def test_full_over_the_cap_needs_a_deposit_plan():
    problems = rules.plan_problems(cart(CartLine(1, 1, 1)), {1: WATCH}, due_now=13_000_000, cap=5_000_000)
    assert [p.code for p in problems] == ["PAYMENT_PLAN_REQUIRED"]
    assert rules.plan_problems(cart(CartLine(1, 1, 1)), {1: WATCH}, due_now=5_000_000, cap=5_000_000) == []


def test_deposit_plan_needs_terms_on_every_line_and_a_balance_method_they_allow():
    both = cart(CartLine(1, 1, 1), CartLine(2, 2, 1), plan=PaymentPlan.DEPOSIT, method=BalanceMethod.ONLINE)
    assert [(p.code, p.field) for p in rules.plan_problems(both, {1: WATCH, 2: STRAP}, 0, 5_000_000)] == [
        ("INVALID", ("plan",))]
    no_method = cart(CartLine(1, 1, 1), plan=PaymentPlan.DEPOSIT)
    assert [p.field for p in rules.plan_problems(no_method, {1: WATCH}, 0, 5_000_000)] == [("balanceMethod",)]
    pos_only = Sku(**{**{f: getattr(WATCH, f) for f in WATCH.__slots__},
                      "deposit_policy": DepositPolicy(1_000_000, 1_000_000, 72, ("POS_ON_DELIVERY",))})
    online = cart(CartLine(1, 1, 1), plan=PaymentPlan.DEPOSIT, method=BalanceMethod.ONLINE)
    assert [p.field for p in rules.plan_problems(online, {1: pos_only}, 0, 5_000_000)] == [("balanceMethod",)]


def test_order_numbers_carry_the_day_and_sixteen_random_digits():
    now = datetime(2026, 11, 25, 8, 0, tzinfo=timezone.utc)
    numbers = {rules.new_order_number(now) for _ in range(1000)}
    assert len(numbers) == 1000
    assert all(n.startswith("261125") and len(n) == 22 and n.isdigit() for n in numbers)


@pytest.mark.parametrize(("scene", "channel", "expected"), [
    (None, None, (None, None)),
    ("", "  ", (None, None)),
    ("1089", "moments_ad_7", (1089, "moments_ad_7")),
    (" 1001 ", "A" * 80, (1001, "A" * 80)),
])
def test_attribution_headers_as_recorded(scene, channel, expected):
    assert rules.attribution(scene, channel) == expected


@pytest.mark.parametrize(("scene", "channel"), [
    ("abc", None), ("0", None), ("100000", None), ("１０８９", None), ("-1", None),
    (None, "A" * 81), (None, "moments-ad"), (None, "朋友圈"), (None, "a b"),
])
def test_bad_attribution_headers_are_refused(scene, channel):
    with pytest.raises(rules.InvalidAttribution):
        rules.attribution(scene, channel)
