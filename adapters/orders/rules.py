"""Pure cart and order rules: line edits, cost arithmetic, order numbers, attribution."""

from __future__ import annotations

import re
import secrets
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime

from adapters.delivery.port import EventKind
from adapters.goods.port import Product, Sku
from adapters.orders.port import (
    BalanceMethod,
    Cart,
    CartLine,
    Cost,
    Fulfillment,
    Order,
    OrderLine,
    PaymentPlan,
    PaymentStatus,
    SalesRow,
)
from adapters.webhooks.port import Topic

MAX_LINES = 100
MAX_QUANTITY = 9_999
CHANNEL = re.compile(r"^[A-Za-z0-9_]{1,80}$")
IDEMPOTENCY_KEY = re.compile(r"^[\x21-\x7e]{1,128}$")  # printable ASCII, no spaces: UUIDs and the like
MAX_SCENE = 99_999  # WeChat scene values are four-digit today


class InvalidAttribution(ValueError):
    pass


@dataclass(frozen=True, slots=True)
class Problem:
    """Something wrong with a cart, as a cart warning or a checkout userError says it."""

    code: str
    message: str
    # The cart input at fault, as the mutation that sets it names it.
    field: tuple[str, ...] | None = None


def add_lines(cart: Cart, additions: Sequence[tuple[int, int]]) -> tuple[CartLine, ...]:
    """The cart's lines with (sku_id, quantity) added; a SKU already in the cart grows its line."""
    lines = list(cart.lines)
    for sku_id, quantity in additions:
        at = next((n for n, line in enumerate(lines) if line.sku_id == sku_id), None)
        if at is None:
            lines.append(CartLine(None, sku_id, quantity))
        else:
            lines[at] = CartLine(lines[at].id, sku_id, lines[at].quantity + quantity)
    return tuple(lines)


def order_lines(lines: Sequence[CartLine], skus: dict[int, Sku], products: dict[int, Product],
                plan: PaymentPlan) -> tuple[OrderLine, ...]:
    """Lines priced and named from the goods as they are now; deposit terms only under a DEPOSIT plan."""
    priced = []
    for line in lines:
        sku = skus[line.sku_id]
        policy = sku.deposit_policy if plan is PaymentPlan.DEPOSIT else None
        priced.append(OrderLine(
            sku_id=sku.id, quantity=line.quantity, unit_price=sku.price, title=products[sku.product_id].title,
            sku_title=sku.title, sku_code=sku.code,
            deposit=policy.deposit if policy else 0, credited_value=policy.credited_value if policy else 0,
        ))
    return tuple(priced)


def cost(lines: Sequence[OrderLine], discount: int, delivery_fee: int, plan: PaymentPlan) -> Cost:
    """total = subtotal - discount + delivery fee - deposit credit; due now: all of it, or the deposits.

    The deposit credit is what deposits count for beyond what was paid
    (creditedValue - deposit, per unit). Nothing is ever negative: a total
    cannot go below zero, and the deposits due now never exceed the total.
    """
    subtotal = sum(line.subtotal for line in lines)
    credit = sum((line.credited_value - line.deposit) * line.quantity for line in lines)
    credit = 0 if plan is PaymentPlan.FULL else max(credit, 0)
    total = max(subtotal - discount + delivery_fee - credit, 0)
    if plan is PaymentPlan.FULL:
        due_now = total
    else:
        due_now = min(sum(line.deposit * line.quantity for line in lines), total)
    return Cost(subtotal=subtotal, discount=discount, delivery_fee=delivery_fee, deposit_credit=credit,
                total=total, due_now=due_now)


def plan_problems(cart: Cart, skus: dict[int, Sku], due_now: int, cap: int) -> list[Problem]:
    """Whether the payment plan can be paid: the wallet cap under FULL, deposit terms under DEPOSIT."""
    if cart.plan is PaymentPlan.FULL:
        if due_now > cap:
            return [Problem("PAYMENT_PLAN_REQUIRED",
                            f"{due_now / 100:.2f} is more than can be paid online at once ({cap / 100:.2f}): "
                            "choose a DEPOSIT plan")]
        return []
    problems = []
    for line in cart.lines:
        sku = skus.get(line.sku_id)
        if sku is None:
            continue
        policy = sku.deposit_policy
        if policy is None:
            problems.append(Problem("INVALID", f"{sku.code} cannot be bought on a deposit", ("plan",)))
        elif cart.balance_method is not None and cart.balance_method.value not in policy.balance_methods:
            problems.append(Problem("INVALID", f"{sku.code} takes its balance by "
                                               f"{' or '.join(policy.balance_methods)}, not {cart.balance_method.value}",
                                    ("balanceMethod",)))
    if cart.balance_method is None:
        problems.append(Problem("INVALID", "a DEPOSIT plan needs a balance method (ONLINE or POS_ON_DELIVERY)",
                                ("balanceMethod",)))
    return problems


def may_go_out(order: Order) -> bool:
    """Delivery starts once the order is paid, or its deposit is and the balance is taken at the door."""
    if order.payment_status is PaymentStatus.PAID:
        return True
    return (order.payment_status is PaymentStatus.DEPOSIT_PAID
            and order.draft.balance_method is BalanceMethod.POS_ON_DELIVERY)


def fulfillment_of(kinds: Iterable[EventKind]) -> Fulfillment:
    """What the order shows of its delivery record: DELIVERED once delivered, SHIPPED once it moved."""
    seen = set(kinds)
    if EventKind.DELIVERED in seen:
        return Fulfillment.DELIVERED
    return Fulfillment.SHIPPED if seen - {EventKind.CREATED} else Fulfillment.UNFULFILLED


def limit_problem(sku: Sku, quantity: int) -> Problem | None:
    """PURCHASE_LIMIT_EXCEEDED when one line alone is more than a shopper may buy."""
    if sku.purchase_limit is not None and quantity > sku.purchase_limit:
        return Problem("PURCHASE_LIMIT_EXCEEDED", f"{sku.code}: at most {sku.purchase_limit} per shopper")
    return None


CART_TOKEN_LENGTH = 22  # 16 random bytes, URL-safe base64


def new_cart_token() -> str:
    """A cart's public id: 128 random bits, as a capability is (who has it can use it)."""
    return secrets.token_urlsafe(16)


def new_order_number(now: datetime) -> str:
    """The day, then 16 random digits: unique in practice, and not guessable from another number."""
    return f"{now:%y%m%d}{secrets.randbelow(10**16):016d}"


def attribution(scene: str | None, channel: str | None) -> tuple[int | None, str | None]:
    """The X-Jimu-Scene and X-Jimu-Channel headers as recorded on an order; raises InvalidAttribution."""
    scene_value = None
    if scene is not None and scene.strip():
        text = scene.strip()
        if not text.isascii() or not text.isdigit() or not 1 <= int(text) <= MAX_SCENE:
            raise InvalidAttribution(f"X-Jimu-Scene must be a WeChat scene value from 1 to {MAX_SCENE}")
        scene_value = int(text)
    channel_value = None
    if channel is not None and channel.strip():
        if not CHANNEL.fullmatch(channel.strip()):
            raise InvalidAttribution("X-Jimu-Channel must be 1 to 80 of A-Z, a-z, 0-9 and _")
        channel_value = channel.strip()
    return scene_value, channel_value


def sales_order(row: SalesRow) -> tuple[int, int, str]:
    """Sales rows with the most money taken first, then the most placed, then by key."""
    return (-row.paid, -row.placed, row.key)


def fulfillment_topics(before: Fulfillment, after: Fulfillment) -> list[Topic]:
    """What a fulfillment change tells the shop's systems: ORDERS_FULFILLED when the order first
    moves (Shopify's fulfillment), ORDERS_DELIVERED when it arrives; both if it jumps."""
    steps = {Fulfillment.UNFULFILLED: 0, Fulfillment.SHIPPED: 1, Fulfillment.DELIVERED: 2}
    told = []
    if steps[before] < 1 <= steps[after]:
        told.append(Topic.ORDERS_FULFILLED)
    if steps[before] < 2 <= steps[after]:
        told.append(Topic.ORDERS_DELIVERED)
    return told
