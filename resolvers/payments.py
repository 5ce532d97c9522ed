"""Paying for an order (shopper), and the merchant's side of money: balance at the door, cancelling."""

from __future__ import annotations

from decimal import Decimal

import strawberry

from adapters.db import utcnow
from adapters.identity.wechat import openid_of
from adapters.orders import rules
from adapters.payments.port import PaymentError
from adapters.payments.wechat import WechatPayError
from adapters.wechat_accounts.port import SecretUnreadable
from resolvers.orders import own_order
from resolvers.user_errors import user_error
from schema.common import NOT_MONEY, minor_units
from schema.errors import ServiceUnavailable
from schema.orders import Order, OrderPayload
from schema.payments import OrderPayPayload, Payment, PaymentSession

MAX_TEXT = 200


@strawberry.type
class PaymentMutation:
    @strawberry.mutation
    async def order_pay(self, info: strawberry.Info, order_number: str, idempotency_key: str) -> OrderPayPayload:
        if not rules.IDEMPOTENCY_KEY.fullmatch(idempotency_key):
            return OrderPayPayload(user_errors=[user_error("INVALID", ["idempotencyKey"],
                                                           "use 1 to 128 printable ASCII characters, no spaces")])
        order = await own_order(info, order_number)
        if order is None:
            return OrderPayPayload(user_errors=[user_error("NOT_FOUND", ["orderNumber"], "no such order")])
        shop = await info.context.shop()
        shopper = await info.context.loaders.shopper_by_id.load((shop.id, order.shopper_id))
        payer = openid_of(shopper.subject) if shopper else None
        try:
            session = await info.context.cashier.pay(order, idempotency_key, shop.online_payment_cap, payer, utcnow())
        except WechatPayError as exc:
            raise ServiceUnavailable(str(exc)) from exc
        except SecretUnreadable as exc:
            raise ServiceUnavailable("this shop's WeChat Pay cannot be used now (its stored keys cannot be "
                                     "decrypted with JIMU_SECRET_KEY)") from exc
        except PaymentError as exc:
            field = "idempotencyKey" if exc.code == "IDEMPOTENCY_CONFLICT" else "orderNumber"
            return OrderPayPayload(user_errors=[user_error(exc.code, [field], str(exc))])
        return OrderPayPayload(session=PaymentSession(payment=Payment.of(session.payment),
                                                      client_params=dict(session.client_params)))

    @strawberry.mutation(description="Record the balance collected at the door (secret key): the exact amount due.")
    async def order_balance_collect(
        self, info: strawberry.Info, order_number: str, amount: Decimal, reference: str
    ) -> OrderPayload:
        shop = await info.context.merchant_shop()
        fen = minor_units(amount)
        if fen is None or fen < 0:
            said = NOT_MONEY if fen is None else "the amount must not be negative"
            return OrderPayload(user_errors=[user_error("INVALID", ["amount"], said)])
        if not reference.strip() or len(reference) > MAX_TEXT:
            return OrderPayload(user_errors=[user_error("INVALID", ["reference"], f"give 1 to {MAX_TEXT} characters")])
        [order] = await info.context.adapters.orders.orders_by_number(shop.id, [order_number[:64]])
        if order is None:
            return OrderPayload(user_errors=[user_error("NOT_FOUND", ["orderNumber"], "no such order")])
        try:
            await info.context.cashier.collect(order, fen, reference.strip(), utcnow())
        except PaymentError as exc:
            field = "amount" if exc.code == "PAYMENT_AMOUNT_MISMATCH" else "orderNumber"
            return OrderPayload(user_errors=[user_error(exc.code, [field], str(exc))])
        return await _reloaded(info, shop.id, order_number)

    @strawberry.mutation(description="Cancel an order as the shop (secret key): what was paid is refunded, "
                                     "and a paid deposit is refunded twice (the 定金 rule).")
    async def merchant_order_cancel(self, info: strawberry.Info, order_number: str, reason: str) -> OrderPayload:
        shop = await info.context.merchant_shop()
        if not reason.strip() or len(reason) > MAX_TEXT:
            return OrderPayload(user_errors=[user_error("INVALID", ["reason"], f"give 1 to {MAX_TEXT} characters")])
        [order] = await info.context.adapters.orders.orders_by_number(shop.id, [order_number[:64]])
        if order is None:
            return OrderPayload(user_errors=[user_error("NOT_FOUND", ["orderNumber"], "no such order")])
        if not await info.context.cashier.merchant_cancel(order, reason.strip(), utcnow()):
            return OrderPayload(user_errors=[user_error("INVALID_STATE", ["orderNumber"],
                                                        "only an open order not yet delivered can be cancelled")])
        return await _reloaded(info, shop.id, order_number)


async def _reloaded(info: strawberry.Info, shop_id: int, number: str) -> OrderPayload:
    [order] = await info.context.adapters.orders.orders_by_number(shop_id, [number])
    assert order is not None
    return OrderPayload(order=Order.of(order))
