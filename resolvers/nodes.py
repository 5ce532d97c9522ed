"""``node(id)``: any object with a global id, within the caller's shop."""

from __future__ import annotations

import strawberry

from adapters.db import utcnow
from resolvers.carts import own_cart
from resolvers.on_sale import products_by_id, skus_by_id
from schema.common import Node, parse_cart_gid, parse_gid
from schema.coupons import Coupon, CouponTemplate
from schema.errors import BadUserInput
from schema.goods import Category, Product, Sku
from schema.members import Assist, AssistCampaign
from schema.orders import Cart, Order
from schema.payments import Payment
from schema.shops import Shop, Shopper


async def resolve_node(info: strawberry.Info, id_: str) -> Node | None:
    if parse_cart_gid(id_) is not None:
        return await _cart(info, id_)
    parsed = parse_gid(id_)
    if parsed is None:
        raise BadUserInput("id is not a jimu global id (gid://jimu/<Type>/<n>)")
    type_name, key = parsed
    ctx = info.context
    shop = await ctx.shop()
    loaders = ctx.loaders
    match type_name:
        case "Shop":
            return Shop.of(shop) if key == shop.id else None
        case "Category":
            category = await loaders.category_by_id.load((shop.id, key))
            return Category.of(category) if category else None
        case "Product":
            [product] = await products_by_id(info, shop.id, [key])
            return Product.of(product) if product else None
        case "Sku":
            [sku] = await skus_by_id(info, shop.id, [key])
            return Sku.of(sku) if sku else None
        case "Shopper":
            # A shopper is visible to itself only.
            if await ctx.shopper_id() != key:
                return None
            shopper = await loaders.shopper_by_id.load((shop.id, key))
            return Shopper.of(shopper) if shopper else None
        case "CouponTemplate":
            template = await loaders.template_by_id.load((shop.id, key))
            return CouponTemplate.of(template) if template and not template.spec.hidden else None
        case "AssistCampaign":
            campaign = await loaders.campaign_by_id.load((shop.id, key))
            return AssistCampaign.of(campaign) if campaign else None
        case "Assist":
            [assist] = await ctx.adapters.members.assists_by_id(shop.id, [key], utcnow())
            return Assist.of(assist) if assist else None
        case "Coupon":
            # A coupon is visible to the shopper who holds it only.
            coupon = await loaders.coupon_by_id.load((shop.id, key))
            if coupon is None or coupon.shopper_id != await ctx.shopper_id():
                return None
            return Coupon.of(coupon)
        case "Order" | "Payment":
            return await _own(info, type_name, key)
    return None


async def _own(info: strawberry.Info, type_name: str, key: int) -> Node | None:
    """An order or a payment, for the shopper it belongs to only."""
    ctx = info.context
    shop, shopper_id = await ctx.shop(), await ctx.shopper_id()
    if shopper_id is None:
        return None
    if type_name == "Payment":
        payment = await ctx.adapters.ledger.payment(key)
        if payment is None or payment.shop_id != shop.id:
            return None
        [order] = await ctx.adapters.orders.orders_by_number(shop.id, [payment.order_number])
        return Payment.of(payment) if order is not None and order.shopper_id == shopper_id else None
    [order] = await ctx.adapters.orders.orders_by_id(shop.id, [key])
    return Order.of(order) if order is not None and order.shopper_id == shopper_id else None


async def _cart(info: strawberry.Info, id_: str) -> Node | None:
    """A cart, for the shopper it belongs to only (anyone else gets null, as for no cart)."""
    ctx = info.context
    shop, shopper_id = await ctx.shop(), await ctx.shopper_id()
    if shopper_id is None:
        return None
    cart = await own_cart(info, shop.id, shopper_id, id_)
    return Cart.of(await ctx.checkout.pricer.price(cart, shop.online_payment_cap, utcnow())) if cart else None
