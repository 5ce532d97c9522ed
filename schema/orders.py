"""Cart and order types."""

from __future__ import annotations

import enum
from collections.abc import Awaitable, Callable
from datetime import datetime
from typing import Annotated

import strawberry

from adapters.orders import port
from adapters.orders.pricing import Priced
from adapters.webhooks.port import DeliveryStatus
from schema.common import (
    DEFAULT_PAGE,
    Connection,
    Edge,
    Money,
    Node,
    PageInfo,
    UserError,
    UserErrorCode,
    gid,
    id_cursor,
    id_cursor_reader,
    listed_connection,
    page_window,
)
from schema.coupons import Coupon
from schema.delivery import DeliveryOption, DeliverySlot, DeliveryTier, OrderDelivery
from schema.goods import BalanceMethod, Sku
from schema.keys import ShopKey
from schema.payments import Payment, PaymentPlan
from schema.webhooks import WebhookDelivery, WebhookDeliveryStatus, WebhookSubscription


@strawberry.type
class CartLine:
    id: strawberry.ID
    sku: Sku
    quantity: int
    subtotal: Money


@strawberry.type
class CartCost:
    subtotal: Money
    discount: Money
    delivery_fee: Money
    total: Money
    deposit_credit: Money = strawberry.field(description="Extra value credited by deposits (creditedValue - deposit).")
    due_now: Money = strawberry.field(description="Due at checkout: the total, or the deposits under a DEPOSIT plan.")
    due_later: Money

    @classmethod
    def of(cls, c: port.Cost) -> CartCost:
        return cls(subtotal=Money.of(c.subtotal), discount=Money.of(c.discount), delivery_fee=Money.of(c.delivery_fee),
                   total=Money.of(c.total), deposit_credit=Money.of(c.deposit_credit), due_now=Money.of(c.due_now),
                   due_later=Money.of(c.due_later))


@strawberry.type
class CartWarning:
    code: UserErrorCode
    message: str


@strawberry.type
class Cart(Node):
    lines: list[CartLine]
    region: str | None
    delivery_tier: DeliveryTier | None
    delivery_slot: DeliverySlot | None
    delivery_options: list[DeliveryOption]
    coupons: list[Coupon]
    payment_plan: PaymentPlan
    balance_method: BalanceMethod | None
    cost: CartCost
    warnings: list[CartWarning] = strawberry.field(
        description="What stops this cart from being checked out now; empty when it can be."
    )

    @classmethod
    def of(cls, priced: Priced) -> Cart:
        cart = priced.cart
        return cls(
            id=gid("Cart", cart.token),
            lines=[
                CartLine(id=gid("CartLine", line.id), sku=Sku.of(priced.skus[line.sku_id]), quantity=line.quantity,
                         subtotal=Money.of(priced.skus[line.sku_id].price * line.quantity))
                for line in cart.lines
                if line.id is not None and line.sku_id in priced.skus  # a stored cart's lines all have ids
            ],
            region=cart.region,
            delivery_tier=DeliveryTier(cart.tier) if cart.tier else None,
            delivery_slot=DeliverySlot.of(priced.slot) if priced.slot else None,
            delivery_options=[DeliveryOption.of(q) for q in priced.options],
            coupons=[Coupon.of(c) for c in priced.coupons],
            payment_plan=PaymentPlan(cart.plan.value),
            balance_method=BalanceMethod(cart.balance_method.value) if cart.balance_method else None,
            cost=CartCost.of(priced.cost),
            warnings=[CartWarning(code=UserErrorCode(p.code), message=p.message) for p in priced.problems],
        )


@strawberry.enum
class OrderStatus(enum.Enum):
    OPEN = "OPEN"
    COMPLETED = "COMPLETED"
    CANCELLED = "CANCELLED"


@strawberry.enum
class OrderPaymentStatus(enum.Enum):
    UNPAID = "UNPAID"
    DEPOSIT_PAID = "DEPOSIT_PAID"
    PAID = "PAID"
    PARTIALLY_REFUNDED = "PARTIALLY_REFUNDED"
    REFUNDED = "REFUNDED"
    DEPOSIT_FORFEITED = "DEPOSIT_FORFEITED"


@strawberry.enum
class FulfillmentStatus(enum.Enum):
    UNFULFILLED = "UNFULFILLED"
    SHIPPED = "SHIPPED"
    DELIVERED = "DELIVERED"


@strawberry.type
class OrderLine:
    quantity: int
    unit_price: Money
    subtotal: Money
    title: str = strawberry.field(description="The product's title when the order was placed.")
    variant_title: str = strawberry.field(description="The SKU's title when the order was placed.")
    sku_code: str = strawberry.field(description="The SKU's code when the order was placed.")
    deposit: Money | None = strawberry.field(
        description="Per unit, under a DEPOSIT plan: the deposit paid online, as the terms were at the order.")
    credited_value: Money | None = strawberry.field(
        description="Per unit, under a DEPOSIT plan: what the deposit counts for against the price.")
    shop_id: strawberry.Private[int]
    sku_id: strawberry.Private[int]

    @strawberry.field(description="The SKU as it is now (the line's title, price and terms are as placed).")
    async def sku(self, info: strawberry.Info) -> Sku:
        found = await info.context.loaders.sku_by_id.load((self.shop_id, self.sku_id))
        assert found is not None, "SKUs are never deleted (imports only add and change)"
        return Sku.of(found)

    @classmethod
    def of(cls, shop_id: int, plan: port.PaymentPlan, ln: port.OrderLine) -> OrderLine:
        deposit = plan is port.PaymentPlan.DEPOSIT
        return cls(quantity=ln.quantity, unit_price=Money.of(ln.unit_price), subtotal=Money.of(ln.subtotal),
                   title=ln.title, variant_title=ln.sku_title, sku_code=ln.sku_code,
                   deposit=Money.of(ln.deposit) if deposit else None,
                   credited_value=Money.of(ln.credited_value) if deposit else None, shop_id=shop_id, sku_id=ln.sku_id)


@strawberry.type
class OrderCost:
    subtotal: Money
    discount: Money
    delivery_fee: Money
    deposit_credit: Money
    total: Money
    paid: Money
    refunded: Money
    balance_due: Money


@strawberry.type
class Order(Node):
    number: str
    created_at: datetime
    status: OrderStatus
    payment_status: OrderPaymentStatus
    fulfillment_status: FulfillmentStatus
    payment_plan: PaymentPlan
    balance_method: BalanceMethod | None
    balance_due_at: datetime | None
    lines: list[OrderLine]
    cost: OrderCost
    scene: int | None = strawberry.field(description="WeChat scene value the order came from (X-Jimu-Scene), if any.")
    channel: str | None = strawberry.field(description="Channel tag the order came from (X-Jimu-Channel), if any.")
    shop_id: strawberry.Private[int]
    coupon_ids: strawberry.Private[tuple[int, ...]]

    @strawberry.field
    async def coupons(self, info: strawberry.Info) -> list[Coupon]:
        found = await info.context.loaders.coupon_by_id.load_many([(self.shop_id, c) for c in self.coupon_ids])
        return [Coupon.of(c) for c in found if c is not None]

    @strawberry.field
    async def payments(self, info: strawberry.Info) -> list[Payment]:
        return [Payment.of(p) for p in await info.context.loaders.payments_by_order.load((self.shop_id, self.number))]

    @strawberry.field
    async def delivery(self, info: strawberry.Info) -> OrderDelivery:
        record = await info.context.loaders.delivery_record.load((self.shop_id, self.number))
        assert record is not None, "every confirmed order has its delivery record"
        return OrderDelivery.of(record)

    @classmethod
    def of(cls, o: port.Order) -> Order:
        d, c = o.draft, o.draft.cost
        kept = o.paid - o.refunded
        balance_due = max(c.total - kept, 0) if o.state is port.OrderState.OPEN else 0
        return cls(
            id=gid("Order", o.id),
            number=o.number,
            created_at=d.created_at,
            status=OrderStatus(o.state.value),
            payment_status=OrderPaymentStatus(o.payment_status.value),
            fulfillment_status=FulfillmentStatus(o.fulfillment.value),
            payment_plan=PaymentPlan(d.plan.value),
            balance_method=BalanceMethod(d.balance_method.value) if d.balance_method else None,
            balance_due_at=o.balance_due_at,
            lines=[OrderLine.of(o.shop_id, d.plan, ln) for ln in d.lines],
            cost=OrderCost(subtotal=Money.of(c.subtotal), discount=Money.of(c.discount),
                           delivery_fee=Money.of(c.delivery_fee), deposit_credit=Money.of(c.deposit_credit),
                           total=Money.of(c.total), paid=Money.of(o.paid), refunded=Money.of(o.refunded),
                           balance_due=Money.of(balance_due)),
            scene=d.scene,
            channel=d.channel,
            shop_id=o.shop_id,
            coupon_ids=d.coupon_ids,
        )


_ORDER_CURSOR = id_cursor_reader("order")
_DELIVERY_CURSOR = id_cursor_reader("delivery")


async def order_connection(
    info: strawberry.Info, shop_id: int, shopper_id: int | None, status: OrderStatus | None,
    first: int | None, after: str | None, last: int | None, before: str | None,
) -> Connection[Order]:
    """A page of orders, newest first: one shopper's, or the whole shop's."""
    window = page_window(info, first, after, last, before, _ORDER_CURSOR)
    state = port.OrderState(status.value) if status else None
    page = await info.context.adapters.orders.orders_page(shop_id, shopper_id, state, window)
    edges = [Edge(cursor=id_cursor("order", o.id), node=Order.of(o)) for o in page.orders]
    return Connection(edges=edges, nodes=[e.node for e in edges],
                      page_info=PageInfo.of(edges, page.has_next_page, page.has_previous_page),
                      total_count=page.total_count)


@strawberry.type(description="Orders placed in the window with one scene value or channel tag, and their money.")
class SalesRow:
    key: str = strawberry.field(description='The scene value or channel tag; "" when the order carried none.')
    orders: int = strawberry.field(description="Orders that took money (as paidOrders): an unpaid order counts nothing.")
    gross: Money = strawberry.field(description="Money taken, before refunds (as paid): an unpaid order counts nothing.")
    placed_orders: int = strawberry.field(description="Orders placed, whatever became of them (cancelled ones too).")
    placed: Money = strawberry.field(description="What the placed orders came to (their totals).")
    paid_orders: int = strawberry.field(description="Orders that took money: a deposit, a balance, a full payment.")
    paid: Money = strawberry.field(description="Money taken from the placed orders, before refunds.")
    refunded_orders: int = strawberry.field(description="Orders that gave money back.")
    refunded: Money = strawberry.field(description="Money given back (merchant cancellations, deposit refunds).")
    net: Money = strawberry.field(description="paid - refunded: what the shop keeps (a forfeited deposit stays in).")

    @classmethod
    def of(cls, r: port.SalesRow) -> SalesRow:
        paid = Money.of(r.paid)
        return cls(key=r.key, orders=r.paid_orders, gross=paid, placed_orders=r.placed_orders, placed=Money.of(r.placed),
                   paid_orders=r.paid_orders, paid=paid, refunded_orders=r.refunded_orders,
                   refunded=Money.of(r.refunded), net=Money.of(r.net))


@strawberry.enum
class SalesGroup(enum.Enum):
    SCENE = "SCENE"
    CHANNEL = "CHANNEL"


@strawberry.input
class CartLineInput:
    sku_code: str
    quantity: int


@strawberry.input
class CartLineUpdateInput:
    line_id: strawberry.ID
    quantity: int


@strawberry.input
class CartDeliveryInput:
    region: str
    tier: DeliveryTier
    slot_id: strawberry.ID | None = None


async def _cart_priced(root: CartPayload) -> Cart | None:
    return None if root.pricing is None else await root.pricing()


@strawberry.type
class CartPayload:
    cart: Cart | None = strawberry.field(resolver=_cart_priced)
    user_errors: list[UserError] = strawberry.field(default_factory=list)
    # How to price the cart the edit left, when there is one: run only when ``cart`` is asked for,
    # so a change saved while the shop's own stock system does not answer comes back with
    # ``cart`` null and a SERVICE_UNAVAILABLE error at its path, not as a refusal of what was saved.
    pricing: strawberry.Private[Callable[[], Awaitable[Cart]] | None] = None


@strawberry.type
class CheckoutCompletePayload:
    order: Order | None = None
    user_errors: list[UserError] = strawberry.field(default_factory=list)


@strawberry.type
class OrderPayload:
    order: Order | None = None
    user_errors: list[UserError] = strawberry.field(default_factory=list)



@strawberry.type
class MerchantView:
    shop_id: strawberry.Private[int]

    @strawberry.field
    async def orders(
        self, info: strawberry.Info, first: int | None = DEFAULT_PAGE, after: str | None = None, status: OrderStatus | None = None,
        last: int | None = None, before: str | None = None,
    ) -> Connection[Order]:
        return await order_connection(info, self.shop_id, None, status, first, after, last, before)

    @strawberry.field
    async def order(self, info: strawberry.Info, number: str) -> Order | None:
        [found] = await info.context.adapters.orders.orders_by_number(self.shop_id, [number[:64]])
        return Order.of(found) if found else None

    @strawberry.field(description="The shop's API keys, revoked ones too, oldest first (hints, never the keys).")
    async def keys(
        self, info: strawberry.Info, first: int | None = DEFAULT_PAGE, after: str | None = None, last: int | None = None,
        before: str | None = None,
    ) -> Connection[ShopKey]:
        held = await info.context.adapters.shops.keys_of(self.shop_id)
        return listed_connection(info, "key", held, ShopKey.of, first, after, last, before)

    @strawberry.field(description="The shop's webhook subscriptions, oldest first (deleted ones are not listed).")
    async def webhook_subscriptions(self, info: strawberry.Info) -> list[WebhookSubscription]:
        return [WebhookSubscription.of(s) for s in await info.context.adapters.webhooks.subscriptions_of(self.shop_id)]

    @strawberry.field(description="Webhook deliveries, newest first: status, attempts and the receiver's last answer.")
    async def webhook_deliveries(
        self, info: strawberry.Info, first: int | None = DEFAULT_PAGE, after: str | None = None,
        status: WebhookDeliveryStatus | None = None, last: int | None = None, before: str | None = None,
    ) -> Connection[WebhookDelivery]:
        window = page_window(info, first, after, last, before, _DELIVERY_CURSOR)
        wanted = DeliveryStatus(status.value) if status else None
        page = await info.context.adapters.webhooks.deliveries_page(self.shop_id, wanted, window)
        edges = [Edge(cursor=id_cursor("delivery", d.id), node=WebhookDelivery.of(d)) for d in page.deliveries]
        return Connection(edges=edges, nodes=[e.node for e in edges],
                          page_info=PageInfo.of(edges, page.has_next_page, page.has_previous_page),
                          total_count=page.total_count)

    @strawberry.field(description="Orders placed in [from, to), by scene value or channel tag, most money taken first.")
    async def sales(
        self, info: strawberry.Info, group_by: SalesGroup,
        from_: Annotated[datetime | None, strawberry.argument(name="from")] = None,
        to: datetime | None = None,
    ) -> list[SalesRow]:
        rows = await info.context.adapters.orders.sales(self.shop_id, port.SalesGroup(group_by.value), from_, to)
        return [SalesRow.of(r) for r in rows]
