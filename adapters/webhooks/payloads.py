"""The JSON bodies of events: what a shop's systems read of each change.

Money is shaped as at the API: ``{"amount": "130000.00", "minorUnits": 13000000,
"currencyCode": "CNY"}``; ids are the API's global ids, so a receiver can look a
thing up with ``node(id:)``; times are ISO 8601 in UTC.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from adapters.orders.port import Order


def global_id(type_name: str, id_: int) -> str:
    return f"gid://jimu/{type_name}/{id_}"


def money(fen: int) -> dict[str, Any]:
    sign, whole = ("-", -fen) if fen < 0 else ("", fen)
    return {"amount": f"{sign}{whole // 100}.{whole % 100:02d}", "minorUnits": fen, "currencyCode": "CNY"}


def moment(at: datetime | None) -> str | None:
    return None if at is None else at.isoformat(timespec="seconds")


def order_payload(order: Order) -> dict[str, Any]:
    draft, cost = order.draft, order.draft.cost
    return {
        "order": {
            "id": global_id("Order", order.id),
            "number": order.number,
            "state": order.state.value,
            "paymentStatus": order.payment_status.value,
            "fulfillment": order.fulfillment.value,
            "paymentPlan": draft.plan.value,
            "balanceMethod": draft.balance_method.value if draft.balance_method else None,
            "shopperId": global_id("Shopper", draft.shopper_id),
            "lines": [
                {"skuId": global_id("Sku", line.sku_id), "skuCode": line.sku_code, "title": line.title,
                 "variantTitle": line.sku_title, "quantity": line.quantity,
                 "unitPrice": money(line.unit_price), "deposit": money(line.deposit)}
                for line in draft.lines
            ],
            "subtotal": money(cost.subtotal),
            "discount": money(cost.discount),
            "deliveryFee": money(cost.delivery_fee),
            "depositCredit": money(cost.deposit_credit),
            "total": money(cost.total),
            "dueNow": money(cost.due_now),
            "paid": money(order.paid),
            "refunded": money(order.refunded),
            "region": draft.region,
            "deliveryTier": draft.tier,
            "scene": draft.scene,
            "channel": draft.channel,
            "createdAt": moment(draft.created_at),
            "cancelledAt": moment(order.cancelled_at),
            "balanceDueAt": moment(order.balance_due_at),
        }
    }
